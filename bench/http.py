"""Portal submissions per second: the full pipeline on SQLite against a bare aiohttp handler answering 202.

Run: python -m bench.http [--rounds 5] [--requests 400] [--concurrency 16]

Both servers run in this process on loopback port 0 and receive the same request bodies; rounds alternate
(pipeline, bare, pipeline, bare, …) and the figure that matters is the median of the per-round ratios, because
run-to-run noise on a shared machine is far larger than the difference between neighbouring rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web

from channels import portal
from gateway.config import Settings
from gateway.intake import RawIntake
from gateway.pipeline import submit
from gateway.service import Gateway
from gateway.store import Store
from gateway.web import build_app

TOKEN = "bench-token"


def bodies(prefix: str, count: int) -> list[bytes]:
    return [
        json.dumps(
            {
                "submission_id": f"{prefix}-{n}",
                "login": "vzam:bench",
                "account_type": "partner",
                "company": "Bench Sp. z o.o.",
                "contact": {"name": "Jan Kowalski", "email": "jan@example.pl", "phone": "+48 601 234 567"},
                "serial_number": "SN: 2214G-00417",
                "contract_number": "40027719",
                "severity": "high",
                "subject": "Awaria przełącznika X440-G2",
                "description": "Przełącznik restartuje się co kilka minut. " * 10,
                "language": "pl",
                "attachments": [],
            },
            ensure_ascii=False,
        ).encode()
        for n in range(count)
    ]


async def bare_202(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"reference": "HZ-2026-000000", "missing": []}, status=202)


async def start(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/api/v1/portal/submissions"


async def drive(session: aiohttp.ClientSession, url: str, payloads: list[bytes], concurrency: int) -> float:
    """Submissions per second for these payloads with `concurrency` clients; every answer must be 202."""
    queue = iter(payloads)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

    async def client() -> None:
        for payload in queue:
            async with session.post(url, data=payload, headers=headers) as response:
                await response.read()
                if response.status != 202:
                    raise RuntimeError(f"{url} answered {response.status}")

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return len(payloads) / (time.perf_counter() - began)


async def drive_direct(gateway: Gateway, payloads: list[bytes], concurrency: int) -> float:
    """The same submissions handed straight to the pipeline: what the HTTP door adds is the difference."""
    queue = iter(payloads)

    async def client() -> None:
        for payload in queue:
            raw = RawIntake(channel="portal", content=payload, received_at=datetime.now(UTC))
            await submit(raw, gateway.deps)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return len(payloads) / (time.perf_counter() - began)


async def run(rounds: int, requests: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory(prefix="hezo-bench-") as folder:
        settings = Settings.model_validate(
            {
                "database": {"url": f"sqlite+aiosqlite:///{Path(folder) / 'gateway.db'}"},
                "storage": {"dir": str(Path(folder) / "data")},
                "portal": {"tokens": [TOKEN]},
                "log": {"level": "WARNING"},
            }
        )
        store = await Store.open(settings.database.url)
        gateway = Gateway(settings=settings, store=store)
        full = build_app(
            settings=settings, store=store, deps=gateway.deps, metrics_=gateway.metrics, installers=[portal.install]
        )
        bare = web.Application()
        bare.router.add_post("/api/v1/portal/submissions", bare_202)
        full_runner, full_url = await start(full)
        bare_runner, bare_url = await start(bare)
        ratios: list[float] = []
        door_shares: list[float] = []
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
                await drive(session, full_url, bodies("warm", 50), concurrency)
                await drive(session, bare_url, bodies("warm", 50), concurrency)
                for n in range(rounds):
                    payloads = bodies(f"r{n}", requests)
                    pipeline_rate = await drive(session, full_url, payloads, concurrency)
                    bare_rate = await drive(session, bare_url, payloads, concurrency)
                    direct_rate = await drive_direct(gateway, bodies(f"d{n}", requests), concurrency)
                    ratios.append(pipeline_rate / bare_rate)
                    door_shares.append(pipeline_rate / direct_rate)
                    print(
                        f"round {n + 1}: pipeline over HTTP {pipeline_rate:7.1f}/s  bare {bare_rate:7.1f}/s  "
                        f"ratio {ratios[-1]:.3f}  |  pipeline without HTTP {direct_rate:7.1f}/s"
                    )
        finally:
            await full_runner.cleanup()
            await bare_runner.cleanup()
            await store.close()
    print(
        f"portal submissions, {requests} per round, {concurrency} concurrent clients, SQLite: "
        f"median ratio {statistics.median(ratios):.3f} (target >= 0.3); "
        f"HTTP door keeps {statistics.median(door_shares):.0%} of the pipeline's own rate"
    )


def main() -> None:
    from gateway.logs import configure_logging

    configure_logging("WARNING", "json")  # one log line per request would be part of what is measured
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(run(args.rounds, args.requests, args.concurrency))


if __name__ == "__main__":
    main()
