"""IMAP door throughput: messages per second ingested from a real Dovecot backlog through the real pipeline (SQLite),
against a bare imapclient loop over the same backlog with the same durability.

    .venv/bin/python -m bench.imap [--count 10000] [--repeats 3]

Both sides start from the same INBOX of `--count` ~2 KB messages and end with it empty:
- door: `ImapDoor` (worker thread, BODY.PEEK[] in batches, each message through `Gateway.submit` — parse, dedupe,
  reference, outbox, one transaction — then a MOVE per batch), timed from start until the last batch is moved;
- bare: one imapclient connection, UID SEARCH, FETCH BODY.PEEK[] in batches of 500, each message's raw bytes
  committed on its own to SQLite (WAL, synchronous=FULL), then one MOVE per batch.
- pipeline: the same messages submitted straight from memory, no IMAP at all: what the pipeline alone allows.
Runs alternate (door, bare, pipeline, door, ...) on fresh databases; the backlog is moved back to INBOX between
runs. Prints each run and the medians of the paired ratios door/bare (target >= 0.5) and door/pipeline (what the
door itself costs on top of the pipeline).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from imapclient import IMAPClient

from channels.imap import ImapDoor
from channels.imap_policy import account_key
from gateway.config import ImapAccount, ImapSettings, Settings, StorageSettings
from gateway.intake import Outcome, RawIntake
from gateway.logs import configure_logging
from gateway.service import Gateway
from gateway.store import Store
from tests.support.dovecot import DovecotServer

USER = "pomoc@myhezo.pl"
BATCH = 500
_FILLER = (
    "Dzień dobry, po aktualizacji oprogramowania przełącznik przestał przekazywać ruch na portach 1-24, "
    "diody migają na pomarańczowo, restart nie pomógł. Proszę o pilny kontakt i wymianę urządzenia.\n"
)


def message(n: int) -> bytes:
    """About 2 KB, each from its own sender (so the acknowledgement rate limit never kicks in)."""
    head = (
        f"From: Reporter {n} <reporter{n}@example.pl>\r\n"
        "To: pomoc@myhezo.pl\r\n"
        f"Subject: Awaria przełącznika nr {n}\r\n"
        f"Message-ID: <bench-imap-{n}@example.pl>\r\n"
        "Date: Tue, 24 Nov 2026 10:00:00 +0100\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        f"S/N: 2214G-{n % 100000:05d}, umowa 40027719.\r\n"
    )
    body = head.encode()
    while len(body) < 2000:
        body += _FILLER.replace("\n", "\r\n").encode()
    return body


def seed(server: DovecotServer, count: int) -> None:
    with server.connect(USER) as client:
        for start in range(0, count, BATCH):
            client.multiappend("INBOX", [message(n) for n in range(start, min(count, start + BATCH))])


def restore_backlog(server: DovecotServer, count: int) -> None:
    """Everything back from Processed to INBOX (one MOVE), so each run starts from the same backlog."""
    with server.connect(USER) as client:
        client.select_folder("Processed")
        uids = client.search("ALL")
        if uids:
            client.move("1:*", "INBOX")
        client.select_folder("INBOX", readonly=True)
        waiting = len(client.search("ALL"))
    if waiting != count:
        raise RuntimeError(f"backlog has {waiting} messages, expected {count}")


# -- the bare loop ---------------------------------------------------------------------------------------------
def run_bare(server: DovecotServer, database: Path) -> float:
    """Seconds for the bare loop to ingest and move the whole INBOX."""
    db = sqlite3.connect(database, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE raw (id INTEGER PRIMARY KEY, uid INTEGER NOT NULL, content BLOB NOT NULL)")
    started = time.perf_counter()
    client = IMAPClient(server.host, server.port, ssl=False, timeout=60)
    try:
        client.login(USER, server.users[USER])
        client.select_folder("INBOX")
        uids = sorted(client.search(["UNDELETED"]))
        for start in range(0, len(uids), BATCH):
            batch = uids[start : start + BATCH]
            for uid, data in client.fetch(batch, ["BODY.PEEK[]"]).items():
                db.execute("BEGIN IMMEDIATE")
                db.execute("INSERT INTO raw (uid, content) VALUES (?, ?)", (uid, data[b"BODY[]"]))
                db.execute("COMMIT")
            client.move(f"{batch[0]}:{batch[-1]}", "Processed")
    finally:
        client.logout()
        db.close()
    return time.perf_counter() - started


# -- the door --------------------------------------------------------------------------------------------------
async def run_door(server: DovecotServer, workdir: Path, count: int) -> float:
    """Seconds for the IMAP door to ingest the whole INBOX through the pipeline and move it to Processed."""
    settings = Settings(storage=StorageSettings(dir=workdir / "data"))
    store = await Store.open(f"sqlite+aiosqlite:///{workdir / 'gateway.db'}")
    gateway = Gateway(settings=settings, store=store)
    outcomes: list[Outcome] = []

    async def submit(raw: RawIntake) -> Outcome:
        outcome = await gateway.submit(raw)
        outcomes.append(outcome)
        return outcome

    account = ImapAccount(
        mailbox="pomoc", host=server.host, port=server.port, ssl=False, username=USER, password=server.users[USER]
    )
    door = ImapDoor(ImapSettings(enabled=True, poll_interval_s=3600, accounts=[account]), submit, store)
    key = account_key(account)
    started = time.perf_counter()
    await door.start()
    try:
        # Done when every message was submitted and the poller, having moved the last batch and found the
        # folder empty, waits in IDLE again.
        while True:
            poller = door.pollers.get(key)
            if len(outcomes) >= count and poller is not None and poller.is_idling():
                break
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
    finally:
        await door.stop()
        await store.close()
    created = sum(type(o).__name__ == "Created" for o in outcomes)
    if created != count:
        raise RuntimeError(f"door created {created} requests from {count} messages")
    return elapsed


async def run_pipeline_alone(workdir: Path, count: int) -> float:
    """Seconds for the pipeline to store the same messages handed over in memory, one after another."""
    settings = Settings(storage=StorageSettings(dir=workdir / "data-alone"))
    store = await Store.open(f"sqlite+aiosqlite:///{workdir / 'alone.db'}")
    gateway = Gateway(settings=settings, store=store)
    contents = [message(n) for n in range(count)]
    started = time.perf_counter()
    try:
        for content in contents:
            await gateway.submit(RawIntake("email", content, datetime.now(UTC), "pomoc", {"door": "bench"}))
        return time.perf_counter() - started
    finally:
        await store.close()


def main() -> None:

    configure_logging("WARNING", "json")  # one log line per request would be part of what is measured
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000, help="messages in the backlog (default 10000)")
    parser.add_argument("--repeats", type=int, default=3, help="paired runs (default 3)")
    args = parser.parse_args()
    configure_logging("WARNING", "console")
    ratios: list[float] = []
    door_costs: list[float] = []
    with DovecotServer() as server, tempfile.TemporaryDirectory(prefix="bench-imap-") as tmp:
        print(f"seeding {args.count} messages of ~{len(message(0))} bytes ...", flush=True)
        seed(server, args.count)
        print(f"{'run':>4} {'door msg/s':>11} {'bare msg/s':>11} {'pipeline msg/s':>15} {'door/bare':>10}")
        for run in range(args.repeats):
            workdir = Path(tmp) / f"run{run}"
            workdir.mkdir()
            door_rate = args.count / asyncio.run(run_door(server, workdir, args.count))
            restore_backlog(server, args.count)
            bare_rate = args.count / run_bare(server, workdir / "bare.db")
            restore_backlog(server, args.count)
            alone_rate = args.count / asyncio.run(run_pipeline_alone(workdir, args.count))
            ratios.append(door_rate / bare_rate)
            door_costs.append(door_rate / alone_rate)
            figures = f"{door_rate:>11.0f} {bare_rate:>11.0f} {alone_rate:>15.0f} {ratios[-1]:>10.2f}"
            print(f"{run + 1:>4} {figures}", flush=True)
    print(f"median ratio door/bare:     {statistics.median(ratios):.2f} (target >= 0.5)")
    print(f"median ratio door/pipeline: {statistics.median(door_costs):.2f} (1.0 = the door adds nothing)")


if __name__ == "__main__":
    main()
