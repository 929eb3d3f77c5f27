"""Named read queries over the contract registry. Every lookup goes through a primary key or an index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, exists, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store import tables as t
from gateway.store.sqlite_direct import prepared
from gateway.store.tables import CLOSED_STATUSES


@dataclass(frozen=True)
class ContractRecord:
    """A contract as the entitlement decision sees it."""

    contract_number: str
    customer: str
    partner: str
    service_level: str
    valid_from: date
    valid_to: date

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_to


@dataclass(frozen=True)
class RegistryMatch:
    """A contract found for a request: by its number, or because it covers one of the request's serials."""

    contract: ContractRecord
    covered_serial: str | None  # the request's serial this contract covers; None when found by number only
    reporter_listed: bool  # the reporter's e-mail or phone is among the contract's contacts


_CONTRACT_COLUMNS = (
    t.contracts.c.contract_number,
    t.contracts.c.customer,
    t.contracts.c.partner,
    t.contracts.c.service_level,
    t.contracts.c.valid_from,
    t.contracts.c.valid_to,
)


def _record(row: Any) -> ContractRecord:
    return ContractRecord(
        row.contract_number, row.customer, row.partner, row.service_level, row.valid_from, row.valid_to
    )


# Built once: constructing and cache-keying a statement costs more than running it against indexed tables.
_REPORTER_LISTED = (
    exists()
    .where(
        t.contract_contacts.c.contract_number == t.contracts.c.contract_number,
        t.contract_contacts.c.contact.in_(bindparam("contacts", expanding=True)),
    )
    .label("listed")
)
_MATCHES = prepared(
    union_all(
        select(*_CONTRACT_COLUMNS, null().label("serial"), _REPORTER_LISTED).where(
            t.contracts.c.contract_number.in_(bindparam("numbers", expanding=True))
        ),
        select(*_CONTRACT_COLUMNS, t.contract_serials.c.serial, _REPORTER_LISTED)
        .join(t.contracts, t.contracts.c.contract_number == t.contract_serials.c.contract_number)
        .where(t.contract_serials.c.serial.in_(bindparam("serials", expanding=True))),
    )
)


async def registry_matches(
    conn: AsyncConnection, *, numbers: Sequence[str], serials: Sequence[str], reporter_contacts: Sequence[str]
) -> list[RegistryMatch]:
    """Contracts named by `numbers` and contracts covering any of `serials`, with whether the reporter is listed.

    One round trip (a UNION of two indexed lookups, the contact check as a correlated EXISTS on the contacts'
    primary key), because the entitlement step runs for every request inside the intake transaction.
    """
    if not numbers and not serials:
        return []
    parameters = {"numbers": list(numbers), "serials": list(serials), "contacts": list(reporter_contacts)}
    rows = await conn.execute(_MATCHES, parameters)
    return [RegistryMatch(_record(row), row.serial, bool(row.listed)) for row in rows]


async def known_contract_numbers(conn: AsyncConnection, candidates: Sequence[str]) -> set[str]:
    """Which of `candidates` the registry knows."""
    if not candidates:
        return set()
    query = select(t.contracts.c.contract_number).where(t.contracts.c.contract_number.in_(list(candidates)))
    return set((await conn.execute(query)).scalars().all())


async def contract_detail(conn: AsyncConnection, number: str) -> dict[str, Any] | None:
    """A contract with its serials and contacts (sorted), or None."""
    row = (await conn.execute(select(*_CONTRACT_COLUMNS).where(t.contracts.c.contract_number == number))).first()
    if row is None:
        return None
    serials = await conn.execute(
        select(t.contract_serials.c.serial)
        .where(t.contract_serials.c.contract_number == number)
        .order_by(t.contract_serials.c.serial)
    )
    contacts = await conn.execute(
        select(t.contract_contacts.c.contact)
        .where(t.contract_contacts.c.contract_number == number)
        .order_by(t.contract_contacts.c.contact)
    )
    return {
        "contract_number": row.contract_number,
        "customer": row.customer,
        "partner": row.partner,
        "service_level": row.service_level,
        "valid_from": row.valid_from.isoformat(),
        "valid_to": row.valid_to.isoformat(),
        "serials": list(serials.scalars()),
        "contacts": list(contacts.scalars()),
    }


async def related_requests(
    conn: AsyncConnection,
    *,
    request_id: int,
    serials: Sequence[str],
    since: datetime | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """Other open requests about the same devices (request_serials) received since `since`, newest first."""
    if not serials:
        return []
    query = (
        select(t.requests.c.reference, t.requests.c.status, t.requests.c.received_at, t.request_serials.c.serial)
        .join(t.requests, t.requests.c.id == t.request_serials.c.request_id)
        .where(
            t.request_serials.c.serial.in_(list(serials)),
            t.requests.c.id != request_id,
            t.requests.c.status.not_in(CLOSED_STATUSES),
        )
        .order_by(t.requests.c.id.desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(t.requests.c.received_at >= since)
    found: dict[str, dict[str, Any]] = {}
    for row in await conn.execute(query):
        item = found.setdefault(
            row.reference,
            {
                "reference": row.reference,
                "status": row.status,
                "open": row.status not in CLOSED_STATUSES,
                "serial_numbers": [],
            },
        )
        item["serial_numbers"].append(row.serial)
    return list(found.values())
