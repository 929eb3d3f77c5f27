"""How long the contract registry takes to import, and the entitlement lookup per request.

Run: python -m bench.contracts [--contracts 100000] [--serials-per-contract 5] [--requests 3000] [--database URL]

Generates a registry CSV (every contract with its serials, one e-mail and one phone contact), imports it into a
fresh SQLite file (or the database given), then times `entitlement_for` for requests naming a covered serial,
an uncovered serial, or an unlabelled contract number in their text; prints the import time and the median and
95th percentile per request.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from gateway.contracts.entitlement import entitlement_for
from gateway.contracts.levels import default_levels
from gateway.contracts.registry import import_contracts
from gateway.schema import ServiceRequest
from gateway.store import Store

LEVEL_CODES = ("NBD_AHR", "4H_AHR", "AHB_8X5_NBD", "AHB_24X7_NBD", "SOS_8X5_NBD", "TAC_OS")
TODAY = date(2026, 11, 24)


def serial(n: int) -> str:
    return f"{n // 100000 % 10000:04d}{'ABCDEFGH'[n % 8]}-{n % 100000:05d}"


def contract_number(n: int) -> str:
    return f"4{n:07d}"


def write_registry(path: Path, contracts: int, per_contract: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("contract_number,customer,partner,service_level,valid_from,valid_to,serials,contacts\n")
        for n in range(contracts):
            serials = ";".join(serial(n * per_contract + i) for i in range(per_contract))
            contacts = f"it{n}@customer{n % 977}.example.pl;+4860{n % 10_000_000:07d}"
            out.write(
                f"{contract_number(n)},Customer {n} Sp. z o.o.,Partner {n % 150},{LEVEL_CODES[n % len(LEVEL_CODES)]},"
                f"2026-01-01,2027-12-31,{serials},{contacts}\n"
            )


def sample_requests(count: int, contracts: int, per_contract: int, rng: random.Random) -> list[ServiceRequest]:
    received = datetime(2026, 11, 24, 9, tzinfo=UTC)
    requests = []
    for i in range(count):
        n = rng.randrange(contracts)
        kind = i % 3
        fields: dict[str, object] = {
            "channel": "email",
            "received_at": received,
            "reporter": {"email": f"it{n}@customer{n % 977}.example.pl"},
        }
        if kind == 0:  # a covered serial, the reporter listed
            fields["serial_numbers"] = [serial(n * per_contract + rng.randrange(per_contract))]
        elif kind == 1:  # a serial nobody covers and a labelled contract
            fields |= {"serial_numbers": ["9999Z-99999"], "contract_numbers": [contract_number(n)]}
        else:  # only an unlabelled contract number in the text
            fields["description"] = f"Awaria\n{contract_number(n)}\n"
        requests.append(ServiceRequest.model_validate(fields))
    return requests


async def run(args: argparse.Namespace) -> None:
    levels = default_levels()
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "registry.csv"
        started = time.perf_counter()
        write_registry(csv_path, args.contracts, args.serials_per_contract)
        generated = time.perf_counter() - started
        store = await Store.open(args.database or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        try:
            started = time.perf_counter()
            report = await import_contracts(store, csv_path, levels=levels)
            imported = time.perf_counter() - started
            requests = sample_requests(args.requests, args.contracts, args.serials_per_contract, random.Random(7))
            timings = []
            async with store.reading() as conn:
                for request in requests[:50]:  # warm-up: statement cache, page cache
                    await entitlement_for(conn, request, today=TODAY, levels=levels)
                for request in requests:
                    started = time.perf_counter()
                    await entitlement_for(conn, request, today=TODAY, levels=levels)
                    timings.append(time.perf_counter() - started)
        finally:
            await store.close()
    print(f"backend:            {store.backend}")
    print(f"registry CSV:       {args.contracts} contracts, {report.serials} serials (generated in {generated:.1f} s)")
    print(f"import:             {imported:.1f} s ({report}); {args.contracts / imported:,.0f} contracts/s")
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"entitlement_for:    median {statistics.median(timings) * 1000:.3f} ms, p95 {p95 * 1000:.3f} ms "
        f"over {len(timings)} requests"
    )


def main() -> None:
    from gateway.logs import configure_logging

    configure_logging("WARNING", "json")  # one log line per request would be part of what is measured
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--serials-per-contract", type=int, default=5)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--database", default="", help="a database URL (default: a fresh SQLite file)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
