"""Acknowledgement latency: reporter's send → acknowledgement at the relay, through a real `hezo-gateway serve`.

    .venv/bin/python -m bench.ack_latency [--count 2000] [--rate 50] [--outage 60]

The gateway runs as its own process on SQLite with a loopback SMTP sink (in this process) as its relay. Mail is
sent to its SMTP door at a fixed rate; each acknowledgement is matched to its request by In-Reply-To. Prints
p50/p99/max and checks that every request got exactly one acknowledgement. `--outage S` stops the relay for S
seconds in the middle of the run: acknowledgements are delayed, none lost or duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
from aiosmtpd.smtp import SMTP, Envelope, Session

REPO = Path(__file__).resolve().parent.parent


class Sink:
    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = {}
        self.arrived = asyncio.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        for line in content.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
            if line.lower().startswith(b"in-reply-to:"):
                key = line.split(b":", 1)[1].strip().strip(b"<>").decode()
                self.arrivals.setdefault(key, []).append(time.monotonic())
                self.arrived.set()
        return "250 OK"


def _message(n: int) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Reporter {n} <reporter{n}@example.pl>"
    message["To"] = "pomoc@myhezo.pl"
    message["Subject"] = f"Awaria przełącznika nr {n}"
    message["Message-ID"] = f"<bench-{n}@example.pl>"
    message.set_content(f"Dzień dobry,\nprzełącznik nie działa. S/N: 2214G-{n % 100000:05d}, umowa 40027719.\n")
    return message


async def _start_gateway(workdir: Path, relay_port: int) -> tuple[asyncio.subprocess.Process, int]:
    env = {
        **os.environ,
        "HEZO_DATABASE__URL": f"sqlite+aiosqlite:///{workdir / 'gw.db'}",
        "HEZO_STORAGE__DIR": str(workdir / "data"),
        "HEZO_HTTP__PORT": "0",
        "HEZO_SMTP__PORT": "0",
        "HEZO_RELAY__HOST": "127.0.0.1",
        "HEZO_RELAY__PORT": str(relay_port),
        "HEZO_LOG__FORMAT": "json",
        "HEZO_ACK__RATE_LIMIT_PER_HOUR": "100000",
        # All load comes from one address here; the per-peer limit is for the open internet.
        "HEZO_SMTP__MAX_CONNECTIONS_PER_PEER": "1000",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "serve",
        cwd=REPO,
        env=env,
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )
    assert process.stderr is not None
    async with asyncio.timeout(30):
        while line := await process.stderr.readline():
            if b'"gateway started"' in line:
                asyncio.create_task(_drain(process.stderr))  # noqa: RUF006 - lives until the process ends
                return process, int(json.loads(line)["smtp"].rsplit(":", 1)[1])
    raise SystemExit("gateway did not start")


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50.0, help="messages per second")
    parser.add_argument("--outage", type=float, default=0.0, help="seconds the relay is down mid-run")
    args = parser.parse_args()

    sink = Sink()
    loop = asyncio.get_running_loop()
    relay = await loop.create_server(lambda: SMTP(sink, decode_data=False), "127.0.0.1", 0)
    relay_port = relay.sockets[0].getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        process, smtp_port = await _start_gateway(Path(tmp), relay_port)
        sent_at: dict[str, float] = {}
        try:
            start = time.monotonic()
            outage_at = args.count // 2 if args.outage else -1

            async def send(n: int) -> None:
                message = _message(n)
                sent_at[f"bench-{n}@example.pl"] = time.monotonic()
                await aiosmtplib.send(message, hostname="127.0.0.1", port=smtp_port, timeout=60)

            pending: list[asyncio.Task[None]] = []
            for n in range(args.count):
                await asyncio.sleep(max(0.0, start + n / args.rate - time.monotonic()))
                if n == outage_at:
                    relay.close()
                    print(f"relay down for {args.outage:.0f} s", flush=True)

                    async def restore() -> None:
                        nonlocal relay
                        await asyncio.sleep(args.outage)
                        relay = await loop.create_server(lambda: SMTP(sink, decode_data=False), "127.0.0.1", relay_port)
                        print("relay back", flush=True)

                    pending.append(asyncio.create_task(restore()))
                pending.append(asyncio.create_task(send(n)))
            await asyncio.gather(*pending)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(120 + args.outage):
                    while len(sink.arrivals) < args.count:
                        sink.arrived.clear()
                        await sink.arrived.wait()
            await asyncio.sleep(3)  # a benchmark, not a test: give any duplicate time to show before counting
        finally:
            process.terminate()
            await process.wait()
            relay.close()

    latencies = sorted(times[0] - sent_at[key] for key, times in sink.arrivals.items() if key in sent_at)
    duplicates = sum(len(times) - 1 for times in sink.arrivals.values())
    missing = args.count - len(sink.arrivals)
    print(
        f"requests={args.count} rate={args.rate}/s acknowledged={len(latencies)} missing={missing} "
        f"duplicates={duplicates}"
    )
    if latencies:
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        print(
            f"ack latency p50={statistics.median(latencies):.3f}s p99={p99:.3f}s max={latencies[-1]:.3f}s "
            f"(target p99 <= 1 s without an outage)"
        )


if __name__ == "__main__":
    asyncio.run(main())
