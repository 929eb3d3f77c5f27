"""Messages per second through the SMTP door, against a bare aiosmtpd server with the same durability.

    python -m bench.smtp [--count 5000] [--sessions 20] [--size 4096] [--repeats 3] [--backend sqlite|postgresql]
                         [--workers 1] [--no-memory | --memory-only]

A: the gateway (the real door and pipeline, as `serve` runs them). B: aiosmtpd whose handler commits each message's
bytes before answering 250 (SQLite: WAL, synchronous=FULL, aiosqlite; PostgreSQL: asyncpg). Each server runs in a
process of its own with a fresh database; Postfix's `smtp-source` is the client (a new connection per message).
Runs are interleaved A B A B …; the figure is the median of the paired ratios A/B. Every accepted message must be
stored exactly once. Then the memory figure: peak RSS of the gateway receiving one 30 MB message, and several at
once, against its idle RSS.

`--workers N` runs the gateway as `serve` does with `[serve] workers = N` (N processes on shared sockets; the
bare server stays one process, as aiosmtpd is). On PostgreSQL the workers get a database of their own per run.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import shutil
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.config import Settings

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
LOOPBACK = "127.0.0.1"
LARGE_MESSAGE_BYTES = 30_000_000
PROBE_INTERVAL_S = 0.002


# -- the servers (child processes) ----------------------------------------------------------------------------------


def _gateway_settings(url: str, directory: Path, workers: int = 1) -> Settings:
    from gateway.config import DatabaseSettings, HttpSettings, ServeSettings, Settings, SmtpSettings, StorageSettings

    return Settings(
        database=DatabaseSettings(url=url),
        storage=StorageSettings(dir=directory / "data"),
        smtp=SmtpSettings(host=LOOPBACK, port=0, max_connections_per_peer=1000),
        http=HttpSettings(host=LOOPBACK, port=0),
        serve=ServeSettings(workers=workers),
    )


async def _count_stored(url: str, schema: str | None) -> int:
    from sqlalchemy import func, select

    from gateway.store import Store
    from gateway.store import tables as t

    store = await Store.open(url, pg_schema=schema, upgrade=False)
    async with store.reading() as conn:
        stored = int((await conn.execute(select(func.count()).select_from(t.raw_inputs))).scalar_one())
    await store.close()
    return stored


def _serve_gateway_workers(url: str, directory: Path, workers: int) -> None:
    from gateway.logs import configure_logging
    from gateway.workers import run_workers

    configure_logging("INFO", "json")
    settings = _gateway_settings(url, directory, workers)
    code = run_workers(settings, on_listening=lambda listeners: print(f"PORT {listeners.smtp_port}", flush=True))
    if code != 0:
        raise SystemExit(code)
    print(f"STORED {asyncio.run(_count_stored(url, None))}", flush=True)


async def _serve_gateway(url: str, schema: str | None, directory: Path) -> None:
    from gateway.logs import configure_logging
    from gateway.service import Gateway
    from gateway.store import Store

    # Logs as in production (JSON at INFO) but to stderr, which the driver discards: stdout is the control pipe
    # it stops reading after the PORT line.
    configure_logging("INFO", "json")
    settings = _gateway_settings(url, directory)
    store = await Store.open(url, pg_schema=schema)
    gateway = Gateway(settings=settings, store=store)
    await gateway.start()
    await _announce_and_wait(gateway.smtp_port)
    await gateway.stop()
    await store.close()
    print(f"STORED {await _count_stored(url, schema)}", flush=True)


async def _serve_bare(url: str, schema: str | None, directory: Path) -> None:
    from aiosmtpd.smtp import SMTP, Envelope, Session

    if url.startswith("sqlite"):
        import aiosqlite

        db = await aiosqlite.connect(directory / "bare.db")
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=FULL")
        await db.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, content BLOB NOT NULL)")
        await db.commit()

        async def commit(content: bytes) -> None:
            await db.execute("INSERT INTO messages (content) VALUES (?)", (content,))
            await db.commit()

        async def stored() -> int:
            async with db.execute("SELECT count(*) FROM messages") as cursor:
                row = await cursor.fetchone()
            await db.close()  # aiosqlite's thread would keep the process alive
            return int(row[0]) if row else 0
    else:
        import asyncpg

        pool = await asyncpg.create_pool(
            url.replace("postgresql+asyncpg://", "postgresql://"), server_settings={"search_path": str(schema)}
        )
        await pool.execute("CREATE TABLE messages (id BIGSERIAL PRIMARY KEY, content BYTEA NOT NULL)")

        async def commit(content: bytes) -> None:
            await pool.execute("INSERT INTO messages (content) VALUES ($1)", content)

        async def stored() -> int:
            counted = int(await pool.fetchval("SELECT count(*) FROM messages"))
            await pool.close()
            return counted

    class Handler:
        async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
            await commit(envelope.original_content or b"")
            return "250 2.0.0 OK"

    handler = Handler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="bare.test", data_size_limit=33_554_432, enable_SMTPUTF8=True),
        host=LOOPBACK,
        port=0,
    )
    await _announce_and_wait(int(server.sockets[0].getsockname()[1]))
    server.close()
    print(f"STORED {await stored()}", flush=True)


async def _announce_and_wait(port: int) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(f"PORT {port}", flush=True)
    await stop.wait()


def _serve(kind: str, url: str, schema: str | None, directory: Path, workers: int) -> None:
    if kind == "gateway" and workers > 1:
        _serve_gateway_workers(url, directory, workers)
        return
    serve = _serve_gateway if kind == "gateway" else _serve_bare
    asyncio.run(serve(url, schema, directory))


# -- driving them ---------------------------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int

    def rss_kb(self, field: str) -> int:
        """VmRSS (now) or VmHWM (peak) of the server process, in kB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise RuntimeError(f"{field} not in /proc status")

    def stop(self) -> int:
        """Stops the server; returns how many messages it had stored."""
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=120)
        for line in out.splitlines():
            if line.startswith("STORED "):
                return int(line.split()[1])
        raise RuntimeError(f"server did not report its count: {out!r}")


@contextmanager
def running(kind: str, url: str, schema: str | None, workers: int = 1) -> Iterator[Server]:
    directory = Path(tempfile.mkdtemp(prefix="hezo-bench-"))
    db_url = f"sqlite+aiosqlite:///{directory / 'gateway.db'}" if url.startswith("sqlite") else url
    argv = [sys.executable, "-m", "bench.smtp", "serve", kind, "--url", db_url, "--dir", str(directory)]
    argv += ["--workers", str(workers)]
    if schema:
        argv += ["--schema", schema]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        while line and not line.startswith("PORT "):  # the gateway's own log lines come first
            line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"{kind} server exited before listening")
        yield Server(process, int(line.split()[1]))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)


def smtp_source(port: int, count: int, sessions: int, size: int) -> float:
    """Runs smtp-source; returns messages per second. Any refusal makes smtp-source fail, and this raise."""
    binary = shutil.which("smtp-source", path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/local/sbin")
    if binary is None:
        raise SystemExit("smtp-source not found (Debian package postfix)")
    argv = [binary, "-m", str(count), "-s", str(sessions), "-l", str(size)]
    argv += ["-f", "bench@example.com", "-t", "pomoc@myhezo.pl", f"{LOOPBACK}:{port}"]
    started = time.perf_counter()
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=3600, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"smtp-source failed: {completed.stdout}{completed.stderr}")
    return count / elapsed


def pg_schema(url: str, create: bool, name: str | None = None) -> str:
    import asyncpg

    schema = name or f"bench_{uuid.uuid4().hex[:12]}"

    async def run() -> None:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=10)
        try:
            statement = f'CREATE SCHEMA "{schema}"' if create else f'DROP SCHEMA "{schema}" CASCADE'
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())
    return schema


def pg_database(url: str, create: bool, name: str | None = None) -> str:
    import asyncpg

    database = name or f"bench_{uuid.uuid4().hex[:12]}"

    async def run() -> None:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=10)
        try:
            await conn.execute(
                f'CREATE DATABASE "{database}"' if create else f'DROP DATABASE "{database}" WITH (FORCE)'
            )
        finally:
            await conn.close()

    asyncio.run(run())
    return database


def one_run(kind: str, args: argparse.Namespace) -> float:
    workers = args.workers if kind == "gateway" else 1
    postgres = args.backend == "postgresql"
    # Workers open the store from settings alone (no schema), so on PostgreSQL they get a database of their own.
    database = pg_database(args.url, create=True) if postgres and workers > 1 else None
    schema = pg_schema(args.url, create=True) if postgres and database is None else None
    url = args.url.rsplit("/", 1)[0] + f"/{database}" if database else args.url
    try:
        with running(kind, url, schema, workers) as server:
            rate = smtp_source(server.port, args.count, args.sessions, args.size)
            stored = server.stop()
    finally:
        if schema:
            pg_schema(args.url, create=False, name=schema)
        if database:
            pg_database(args.url, create=False, name=database)
    if stored != args.count:
        raise SystemExit(f"{kind}: {args.count} messages accepted but {stored} stored")
    return rate


def throughput(args: argparse.Namespace) -> None:
    print(
        f"SMTP door, {args.backend}: {args.count} messages of {args.size} B, {args.sessions} sessions (smtp-source), "
        f"gateway workers: {args.workers}"
    )
    ratios = []
    for repeat in range(1, args.repeats + 1):
        gateway = one_run("gateway", args)
        bare = one_run("bare", args)
        ratios.append(gateway / bare)
        print(f"  run {repeat}: gateway {gateway:7.1f} msg/s, bare+commit {bare:7.1f} msg/s, ratio {ratios[-1]:.2f}")
    print(f"  median ratio gateway/bare: {statistics.median(ratios):.2f} (all messages stored exactly once)")


def large_message(index: int) -> bytes:
    """A ~30 MB mail: a short report and a base64 attachment (what a show-tech bundle looks like on the wire)."""
    payload = base64.encodebytes(random.randbytes(LARGE_MESSAGE_BYTES * 3 // 4 - 4096))
    head = (
        f"From: Jan <jan{index}@example.pl>\r\nTo: pomoc@myhezo.pl\r\nSubject: show tech\r\n"
        f"Message-ID: <large-{index}-{uuid.uuid4().hex}@example.pl>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
        "S/N 2214G-00417, umowa 40027719\r\n--b\r\nContent-Type: application/octet-stream\r\n"
        'Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="show_tech.bin"\r\n\r\n'
    ).encode()
    return head + payload.replace(b"\n", b"\r\n") + b"--b--\r\n"


def send_large(port: int, message: bytes) -> None:
    with smtplib.SMTP(LOOPBACK, port, timeout=600) as client:
        refused = client.sendmail("jan@example.pl", ["pomoc@myhezo.pl"], message)
        if refused:
            raise RuntimeError(f"refused: {refused}")


def memory(args: argparse.Namespace, at_once: int) -> None:
    messages = [large_message(i) for i in range(at_once)]
    with running("gateway", "sqlite", None) as server:
        send_large(server.port, large_message(999)[:20_000] + b"\r\n--b--\r\n")  # warm up: imports, first commit
        idle = server.rss_kb("VmRSS")
        with ThreadPoolExecutor(at_once) as pool:
            list(pool.map(lambda m: send_large(server.port, m), messages))
        peak = server.rss_kb("VmHWM")
        stored = server.stop()
    if stored != at_once + 1:
        raise SystemExit(f"memory run: {at_once + 1} messages accepted but {stored} stored")
    size_mb = len(messages[0]) / 1e6
    above = (peak - idle) / 1e3
    print(
        f"  {at_once} x {size_mb:.1f} MB at once: idle {idle / 1e3:.0f} MB, peak {peak / 1e3:.0f} MB, "
        f"{above:.0f} MB above idle = {above / size_mb:.1f}x one message"
    )


def large_text_message() -> bytes:
    """A ~13 MB mail whose attachment is text (a show-tech log): every line of it is read for identifiers."""
    log = b"".join(b"Slot-%d  X440G2-48p-10G4  1234A-%05d  Rev 1.0  port 1:%d link down\r\n" % (n % 8, n, n)
                   for n in range(200_000))  # fmt: skip
    head = (
        "From: Jan <jan@example.pl>\r\nTo: pomoc@myhezo.pl\r\nSubject: show tech\r\n"
        f"Message-ID: <log-{uuid.uuid4().hex}@example.pl>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
        "S/N 2214G-00417, umowa 40027719\r\n--b\r\nContent-Type: text/plain\r\n"
        'Content-Disposition: attachment; filename="show_tech.txt"\r\n\r\n'
    ).encode()
    return head + log + b"--b--\r\n"


def responsiveness() -> None:
    """How long another session waits for a reply (RSET) while the gateway takes in one large text mail."""
    message = large_text_message()
    with running("gateway", "sqlite", None) as server:
        send_large(server.port, large_message(999)[:20_000] + b"\r\n--b--\r\n")  # warm up: imports, first commit
        waits: list[float] = []
        with smtplib.SMTP(LOOPBACK, server.port, timeout=600) as probe, ThreadPoolExecutor(1) as pool:
            started = time.perf_counter()
            sending = pool.submit(send_large, server.port, message)
            while not sending.done():
                asked = time.perf_counter()
                probe.rset()
                waits.append(time.perf_counter() - asked)
                time.sleep(PROBE_INTERVAL_S)  # a steady probe, well inside the session's command limit
            sending.result()
            took = time.perf_counter() - started
        server.stop()
    waits.sort()
    print(
        f"  one {len(message) / 1e6:.1f} MB text mail taken in {took:.2f} s; meanwhile {len(waits)} RSETs on another "
        f"session: median {1e3 * waits[len(waits) // 2]:.1f} ms, p99 {1e3 * waits[int(len(waits) * 0.99)]:.1f} ms, "
        f"longest {1e3 * waits[-1]:.0f} ms"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.smtp", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="(internal) run one server process")
    serve.add_argument("kind", choices=["gateway", "bare"])
    serve.add_argument("--url", required=True)
    serve.add_argument("--schema")
    serve.add_argument("--dir", type=Path, required=True)
    serve.add_argument("--workers", type=int, default=1)
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1, help="gateway processes ([serve] workers)")
    parser.add_argument("--no-memory", action="store_true", help="skip the 30 MB memory figure")
    parser.add_argument("--memory-only", action="store_true", help="only the 30 MB memory figure")
    args = parser.parse_args(argv)
    if args.command == "serve":
        _serve(args.kind, args.url, args.schema, args.dir, args.workers)
        return
    args.url = os.environ.get("HEZO_TEST_DATABASE_URL", DEFAULT_POSTGRES) if args.backend == "postgresql" else "sqlite"
    if not args.memory_only:
        throughput(args)
    if not args.no_memory or args.memory_only:
        print("Memory of the gateway process (SQLite) receiving 30 MB messages:")
        memory(args, at_once=1)
        memory(args, at_once=3)
        print("Responsiveness of the gateway (SQLite) while it takes in a large text mail:")
        responsiveness()


if __name__ == "__main__":
    main()
