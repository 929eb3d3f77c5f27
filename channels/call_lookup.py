"""What the phone doors ask the store: the request of a call, and the caller's other open request.

Two named read queries and one small write. They belong next to the store's other named queries
(gateway/store/reads.py); they live here until the phone door settles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.intake import Created, Outcome
from gateway.logs import get_logger
from gateway.store import Store
from gateway.store import tables as t
from gateway.store.tables import CLOSED_STATUSES

LIKELY_FOLLOW_UP = "likely_follow_up"

log = get_logger("channels.phone")


@dataclass(frozen=True)
class LikelyFollowUp:
    """A new request whose reporter's number is already on an open request: linked, not merged."""

    reference: str
    of: str


async def reference_of_input(conn: AsyncConnection, channel: str, external_key: str) -> str | None:
    """The reference of the request an input (a CallSid, a call id) was stored in, initial or follow-up."""
    query = (
        select(t.requests.c.reference)
        .join(t.messages, t.messages.c.request_id == t.requests.c.id)
        .where(t.messages.c.channel == channel, t.messages.c.external_key == external_key)
    )
    reference: str | None = (await conn.execute(query)).scalar_one_or_none()
    return reference


async def missing_of(conn: AsyncConnection, reference: str) -> list[str]:
    """What the stored request still needs (serial number, contract number)."""
    query = select(t.requests.c.data).where(t.requests.c.reference == reference)
    data = (await conn.execute(query)).scalar_one_or_none()
    missing = data.get("missing") if isinstance(data, dict) else None
    return [str(item) for item in missing] if isinstance(missing, list) else []


async def link_likely_follow_up(store: Store, outcome: Outcome, clock: Callable[[], datetime]) -> LikelyFollowUp | None:
    """After a new phone or SMS request: when its reporter's E.164 number already appears on an open request,
    record an event "likely_follow_up" {"of": REF} on the new one. A separate small transaction after the intake
    committed, so a failure here never costs the intake; only Created outcomes are linked, so a replay adds
    nothing."""
    if not isinstance(outcome, Created):
        return None
    try:
        return await _link(store, outcome, clock)
    except (SQLAlchemyError, OSError):
        log.exception("likely follow-up not recorded", reference=outcome.reference)
        return None


async def _link(store: Store, outcome: Created, clock: Callable[[], datetime]) -> LikelyFollowUp | None:
    async with store.transaction() as tx:
        own = (
            await tx.conn.execute(
                select(t.requests.c.id, t.requests.c.reporter_phone).where(t.requests.c.reference == outcome.reference)
            )
        ).first()
        if own is None or not own.reporter_phone:
            return None
        earlier = (
            await tx.conn.execute(
                select(t.requests.c.reference)
                .where(
                    t.requests.c.reporter_phone == own.reporter_phone,
                    t.requests.c.status.not_in(CLOSED_STATUSES),
                    t.requests.c.id < own.id,
                )
                .order_by(t.requests.c.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if earlier is None:
            return None
        await tx.insert_event(
            request_id=own.id, at=clock(), actor="gateway", kind=LIKELY_FOLLOW_UP, detail={"of": earlier}
        )
    return LikelyFollowUp(reference=outcome.reference, of=earlier)


async def likely_follow_ups(conn: AsyncConnection, reference: str) -> list[str]:
    """The references a request was linked to as a likely follow-up, oldest link first."""
    query = (
        select(t.events.c.detail)
        .join(t.requests, t.requests.c.id == t.events.c.request_id)
        .where(t.requests.c.reference == reference, t.events.c.kind == LIKELY_FOLLOW_UP)
        .order_by(t.events.c.id)
    )
    return [str(detail["of"]) for detail in (await conn.execute(query)).scalars() if isinstance(detail, dict)]
