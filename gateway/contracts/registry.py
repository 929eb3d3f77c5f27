"""`import_contracts`: a registry CSV into the `contracts`, `contract_serials` and `contract_contacts` tables.

Rows are written in batches, one transaction per batch: each batch upserts its contracts with one executemany
statement, replaces their serials and contacts (delete, then executemany insert). A registry of 100,000 contracts
is a few dozen transactions instead of 100,000. Re-importing a file updates contracts in place; contracts absent
from the file are left as they are (an import never deletes a contract).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.contracts.levels import ServiceLevels, default_levels
from gateway.contracts.registry_csv import BadRow, ContractRow, RegistryFileError, decode_registry, read_registry
from gateway.errors import GatewayError
from gateway.store import Store
from gateway.store import tables as t

BATCH_SIZE = 2000  # contracts per transaction; their serials and contacts go in the same one


class RegistryImportError(GatewayError):
    """The file cannot be imported at all (unreadable, no header, a required column missing)."""


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    serials: int = 0
    contacts: int = 0
    failures: list[tuple[int, str]] = field(default_factory=list)
    """(line number in the file, what is wrong) for every row that was not imported."""

    @property
    def imported(self) -> int:
        return self.added + self.updated

    def __str__(self) -> str:
        return (
            f"{self.imported + len(self.failures)} rows: added {self.added}, updated {self.updated}, "
            f"failed {len(self.failures)}; {self.serials} serials, {self.contacts} contacts"
        )


def _upsert(dialect: str, values: list[dict[str, Any]]) -> Any:
    statement: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(t.contracts)
    changed = ("customer", "partner", "service_level", "valid_from", "valid_to", "updated_at")
    return statement.on_conflict_do_update(
        index_elements=[t.contracts.c.contract_number], set_={name: statement.excluded[name] for name in changed}
    )


async def _write_batch(conn: AsyncConnection, batch: Sequence[ContractRow], now: datetime) -> tuple[int, int]:
    """Upsert one batch; returns (added, updated)."""
    numbers = [row.contract_number for row in batch]
    known = set(
        (await conn.execute(select(t.contracts.c.contract_number).where(t.contracts.c.contract_number.in_(numbers))))
        .scalars()
        .all()
    )
    contracts = [
        dict(
            contract_number=row.contract_number,
            customer=row.customer,
            partner=row.partner,
            service_level=row.service_level,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            updated_at=now,
        )
        for row in batch
    ]
    await conn.execute(_upsert(conn.dialect.name, contracts), contracts)
    if known:
        # Re-import replaces the lists: a serial moved to another contract must stop being covered here.
        stale = [number for number in numbers if number in known]
        await conn.execute(delete(t.contract_serials).where(t.contract_serials.c.contract_number.in_(stale)))
        await conn.execute(delete(t.contract_contacts).where(t.contract_contacts.c.contract_number.in_(stale)))
    serials = [{"serial": s, "contract_number": row.contract_number} for row in batch for s in row.serials]
    contacts = [{"contact": c, "contract_number": row.contract_number} for row in batch for c in row.contacts]
    if serials:
        await conn.execute(insert(t.contract_serials), serials)
    if contacts:
        await conn.execute(insert(t.contract_contacts), contacts)
    return len(batch) - len(known), len(known)


async def import_contracts(
    store: Store,
    path: Path,
    *,
    levels: ServiceLevels | None = None,
    progress: TextIO | None = None,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Import a registry CSV; bad rows are reported with their line numbers while the others import.

    `progress` (a terminal) gets a running counter of stored contracts.
    """
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise RegistryImportError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        rows = list(read_registry(decode_registry(data), levels or default_levels()))
    except RegistryFileError as exc:
        raise RegistryImportError(f"{path.name}: {exc}") from exc
    report = ImportReport(failures=[(row.line, row.error) for row in rows if isinstance(row, BadRow)])
    good = [row for row in rows if isinstance(row, ContractRow)]
    stamp = now or datetime.now(UTC)
    for start in range(0, len(good), batch_size):
        batch = good[start : start + batch_size]
        async with store.transaction() as tx:
            added, updated = await _write_batch(tx.conn, batch, stamp)
        report.added += added
        report.updated += updated
        report.serials += sum(len(row.serials) for row in batch)
        report.contacts += sum(len(row.contacts) for row in batch)
        if progress is not None:
            progress.write(f"\rimporting {path.name}: {start + len(batch)}/{len(good)} contracts")
            progress.flush()
    if progress is not None and good:
        progress.write("\n")
    return report
