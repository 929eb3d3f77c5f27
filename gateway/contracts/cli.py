"""`hezo-gateway contracts import FILE.csv` and `hezo-gateway contracts show NUMBER`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gateway.config import Settings


async def run_contracts_import(args: argparse.Namespace, settings: Settings) -> int:
    """Failures on stderr with file:line, the summary on stdout; exit 1 when a row failed."""
    from gateway.contracts.levels import load_levels
    from gateway.contracts.registry import import_contracts
    from gateway.store import Store

    levels = load_levels(args.levels)
    store = await Store.open(settings.database.url)
    try:
        progress = sys.stderr if sys.stderr.isatty() else None
        report = await import_contracts(store, args.file, levels=levels, progress=progress)
    finally:
        await store.close()
    for line, error in report.failures:
        print(f"{args.file}:{line}: {error}", file=sys.stderr)
    print(report)
    return 1 if report.failures else 0


async def run_contracts_show(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.contracts.queries import contract_detail
    from gateway.contracts.registry_csv import normalise_identifier
    from gateway.store import Store

    store = await Store.open(settings.database.url)
    try:
        async with store.reading() as conn:
            contract = await contract_detail(conn, normalise_identifier(args.number))
    finally:
        await store.close()
    if contract is None:
        print(f"no contract {args.number}", file=sys.stderr)
        return 1
    print(json.dumps(contract, ensure_ascii=False, indent=2))
    return 0


def register_cli(commands: Any) -> None:
    """Adds `contracts import FILE.csv [--levels PATH]` and `contracts show NUMBER` to the CLI's subcommands."""
    contracts = commands.add_parser("contracts", help="the service-contract registry").add_subparsers(
        dest="contracts_command", required=True
    )
    importing = contracts.add_parser("import", help="import or update contracts from a CSV file")
    importing.add_argument("file", type=Path, metavar="FILE.csv")
    importing.add_argument(
        "--levels", type=Path, default=None, help="service-level file (default config/service_levels.toml)"
    )
    importing.set_defaults(run=run_contracts_import)
    show = contracts.add_parser("show", help="one contract with its serials and contacts (JSON)")
    show.add_argument("number")
    show.set_defaults(run=run_contracts_show)
