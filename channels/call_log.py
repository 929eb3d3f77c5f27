"""`hezo-gateway calls import FILE.csv`: a phone-system call log, one call record per row.

The header names the columns of the call record (call_id, started_at, duration_s, line, caller_number,
caller_name, company, agent, serial_number, contract_number, notes; follow_up_of optional; other columns are kept
in the raw input and otherwise ignored). Comma, semicolon or tab separated; UTF-8 with or without BOM, or
Windows-1250 as Polish Windows exports it. started_at without an offset is Warsaw local time, and is the moment the
request was received. A bad row is reported with its line number and the others still import; importing the same
file again creates nothing new, because each call_id is stored once.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any, TextIO

from channels.call_record import CallRecordError, check_call_record
from channels.phone_intake import call_intake
from gateway.config import Settings
from gateway.csv_import import csv_rows, decode_export
from gateway.errors import GatewayError, StoreError
from gateway.intake import Created, Duplicate, FollowUp, Outcome, Quarantined, RawIntake
from gateway.sla import WARSAW

DOOR = "calls-import"
REQUIRED_COLUMNS = ("call_id", "started_at")

Submit = Callable[[RawIntake], Awaitable[Outcome]]
OnCreated = Callable[[Created], Awaitable[object]]


class CallLogError(GatewayError):
    """The file as a whole cannot be imported (unreadable, no header, a required column missing)."""


@dataclass
class ImportSummary:
    created: int = 0
    duplicate: int = 0
    follow_up: int = 0
    failures: list[tuple[int, str]] = field(default_factory=list)
    """(line number in the file, what is wrong) for every row that was not stored."""

    @property
    def rows(self) -> int:
        return self.created + self.duplicate + self.follow_up + len(self.failures)

    def __str__(self) -> str:
        return (
            f"{self.rows} rows: created {self.created}, duplicate {self.duplicate}, "
            f"follow-up {self.follow_up}, failed {len(self.failures)}"
        )


def decode_call_log(data: bytes) -> str:
    return decode_export(data)


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, Any]


def read_rows(text: str) -> list[Row | tuple[int, str]]:
    """Each data row as a Row, or (line, error) for one that does not fit the header."""
    return [
        Row(line, values) if isinstance(values, dict) else (line, values)
        for line, values in csv_rows(text, REQUIRED_COLUMNS, error=CallLogError)
    ]


def _call_record(values: dict[str, Any]) -> dict[str, Any]:
    record = {name: value.strip() for name, value in values.items()}
    duration = record.get("duration_s", "")
    if duration == "":
        record["duration_s"] = None
    elif duration.isdigit():
        record["duration_s"] = int(duration)
    else:
        raise CallRecordError(f"duration_s must be a whole number of seconds, not {duration!r}")
    return record


async def _import_row(row: Row, source: str, submit: Submit) -> Outcome:
    record = _call_record(row.values)
    started_at = check_call_record(record, naive_zone=WARSAW)
    if started_at is None:
        raise CallRecordError("started_at is empty: it is when the request was received")
    raw = call_intake(
        record, received_at=started_at.astimezone(UTC), envelope={"door": DOOR, "file": source, "line": row.line}
    )
    return await submit(raw)


async def import_calls(
    path: Path, submit: Submit, *, on_created: OnCreated | None = None, progress: TextIO | None = None
) -> ImportSummary:
    """Import every row of a call-log CSV through `submit`; `progress` (a terminal) gets a running counter."""
    try:
        text = decode_call_log(await asyncio.to_thread(path.read_bytes))
    except OSError as exc:
        raise CallLogError(f"cannot read {path}: {exc.strerror or exc}") from exc
    rows = read_rows(text)
    summary = ImportSummary()
    for done, row in enumerate(rows, start=1):
        if progress is not None:
            progress.write(f"\rimporting {path.name}: {done}/{len(rows)}")
            progress.flush()
        if not isinstance(row, Row):
            summary.failures.append(row)
            continue
        try:
            outcome = await _import_row(row, path.name, submit)
        except (CallRecordError, StoreError) as exc:
            summary.failures.append((row.line, str(exc)))
            continue
        if isinstance(outcome, Created):
            summary.created += 1
            if on_created is not None:
                await on_created(outcome)
        elif isinstance(outcome, Duplicate):
            summary.duplicate += 1
        elif isinstance(outcome, FollowUp):
            summary.follow_up += 1
        elif isinstance(outcome, Quarantined):
            summary.failures.append((row.line, f"quarantined as #{outcome.quarantine_id}: {outcome.error}"))
    if progress is not None and rows:
        progress.write("\n")
    return summary


async def run_calls_import(args: argparse.Namespace, settings: Settings) -> int:
    """`hezo-gateway calls import FILE.csv`: failures on stderr, the summary on stdout; 1 when a row failed."""
    from channels.call_lookup import link_likely_follow_up
    from gateway.service import Gateway
    from gateway.store import Store

    store = await Store.open(settings.database.url)
    try:
        gateway = Gateway(settings=settings, store=store)
        deps = gateway.deps

        async def link(created: Created) -> object:
            return await link_likely_follow_up(store, created, deps.clock)

        progress = sys.stderr if sys.stderr.isatty() else None
        summary = await import_calls(args.file, gateway.submit, on_created=link, progress=progress)
    finally:
        await store.close()
    for line, error in summary.failures:
        print(f"{args.file}:{line}: {error}", file=sys.stderr)
    print(summary)
    return 1 if summary.failures else 0


def register_cli(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    calls = commands.add_parser("calls", help="phone call records").add_subparsers(dest="calls_command", required=True)
    importing = calls.add_parser("import", help="import a phone-system call log (CSV), one request per call")
    importing.add_argument("file", type=Path, metavar="FILE.csv")
    importing.set_defaults(run=run_calls_import)
