"""Named read queries for the API, the CLI and the desk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store import tables as t


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class RequestFilter:
    status: str | None = None  # a status, or "open" for anything not closed/rejected
    channel: str | None = None
    mailbox: str | None = None
    escalation: bool | None = None
    since: datetime | None = None
    before_id: int | None = None  # keyset pagination: rows older than this id
    limit: int = 100


@dataclass(frozen=True)
class StoredRequest:
    id: int
    reference: str
    status: str
    priority: str
    response_due: datetime | None
    first_contact_at: datetime | None
    data: dict[str, Any]
    received_at: datetime | None = None
    delivery_due: datetime | None = None
    return_due: datetime | None = None


def _stored(row: Any) -> StoredRequest:
    return StoredRequest(
        id=row.id,
        reference=row.reference,
        status=row.status,
        priority=row.priority,
        response_due=utc(row.response_due),
        first_contact_at=utc(row.first_contact_at),
        data=row.data,
        received_at=utc(row.received_at),
        delivery_due=utc(row.delivery_due),
        return_due=utc(row.return_due),
    )


_REQUEST_COLUMNS = (
    t.requests.c.id,
    t.requests.c.reference,
    t.requests.c.status,
    t.requests.c.priority,
    t.requests.c.response_due,
    t.requests.c.first_contact_at,
    t.requests.c.data,
    t.requests.c.received_at,
    t.requests.c.delivery_due,
    t.requests.c.return_due,
)


async def request_by_reference(conn: AsyncConnection, reference: str) -> StoredRequest | None:
    row = (await conn.execute(select(*_REQUEST_COLUMNS).where(t.requests.c.reference == reference))).first()
    return _stored(row) if row else None


def request_list_query(f: RequestFilter) -> Select[Any]:
    """Newest first; `status="open"` in the partial index's own words (see tables.OPEN_REQUEST)."""
    query = select(*_REQUEST_COLUMNS).order_by(t.requests.c.id.desc()).limit(f.limit)
    if f.status == "open":
        query = query.where(t.OPEN_REQUEST)
    elif f.status:
        query = query.where(t.requests.c.status == f.status)
    if f.channel:
        query = query.where(t.requests.c.channel == f.channel)
    if f.mailbox:
        query = query.where(t.requests.c.mailbox == f.mailbox)
    if f.escalation is not None:
        query = query.where(t.requests.c.escalation == f.escalation)
    if f.since:
        query = query.where(t.requests.c.received_at >= f.since)
    if f.before_id:
        query = query.where(t.requests.c.id < f.before_id)
    return query


async def list_requests(conn: AsyncConnection, f: RequestFilter) -> list[StoredRequest]:
    return [_stored(row) for row in await conn.execute(request_list_query(f))]


async def messages_of(conn: AsyncConnection, request_id: int) -> list[dict[str, Any]]:
    query = (
        select(
            t.messages.c.id,
            t.messages.c.kind,
            t.messages.c.channel,
            t.messages.c.received_at,
            t.messages.c.sender,
            t.messages.c.subject,
            t.messages.c.body_text,
            t.messages.c.raw_input_id,
        )
        .where(t.messages.c.request_id == request_id)
        .order_by(t.messages.c.id)
    )
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "channel": r.channel,
            "received_at": utc(r.received_at),
            "sender": r.sender,
            "subject": r.subject,
            "body_text": r.body_text,
            "raw_input_id": r.raw_input_id,
        }
        for r in await conn.execute(query)
    ]


async def outbox_of(conn: AsyncConnection, request_id: int) -> list[dict[str, Any]]:
    query = (
        select(
            t.outbox.c.id,
            t.outbox.c.kind,
            t.outbox.c.status,
            t.outbox.c.recipient,
            t.outbox.c.message_id,
            t.outbox.c.attempts,
            t.outbox.c.created_at,
            t.outbox.c.sent_at,
            t.outbox.c.last_error,
        )
        .where(t.outbox.c.request_id == request_id)
        .order_by(t.outbox.c.id)
    )
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "status": r.status,
            "recipient": r.recipient,
            "message_id": r.message_id,
            "attempts": r.attempts,
            "created_at": utc(r.created_at),
            "sent_at": utc(r.sent_at),
            "last_error": r.last_error,
        }
        for r in await conn.execute(query)
    ]


async def attachments_of(conn: AsyncConnection, request_id: int) -> list[dict[str, Any]]:
    query = (
        select(
            t.attachments.c.id,
            t.attachments.c.filename,
            t.attachments.c.content_type,
            t.attachments.c.size,
            t.attachments.c.sha256,
        )
        .where(t.attachments.c.request_id == request_id)
        .order_by(t.attachments.c.id)
    )
    return [dict(r._mapping) for r in await conn.execute(query)]


async def raw_input(conn: AsyncConnection, raw_id: int) -> dict[str, Any] | None:
    query = select(t.raw_inputs).where(t.raw_inputs.c.id == raw_id)
    row = (await conn.execute(query)).first()
    return dict(row._mapping) if row else None


async def quarantined(conn: AsyncConnection, *, status: str | None = "held") -> list[dict[str, Any]]:
    query = select(
        t.quarantine.c.id,
        t.quarantine.c.channel,
        t.quarantine.c.mailbox,
        t.quarantine.c.received_at,
        t.quarantine.c.error,
        t.quarantine.c.status,
        t.quarantine.c.reference,
    ).order_by(t.quarantine.c.id)
    if status:
        query = query.where(t.quarantine.c.status == status)
    return [dict(r._mapping) for r in await conn.execute(query)]


async def quarantine_item(conn: AsyncConnection, quarantine_id: int) -> dict[str, Any] | None:
    row = (await conn.execute(select(t.quarantine).where(t.quarantine.c.id == quarantine_id))).first()
    return dict(row._mapping) if row else None


async def likely_follow_ups(conn: AsyncConnection, request_id: int) -> list[str]:
    """References this request was linked to because its reporter's number was on them (recorded, not merged)."""
    query = (
        select(t.events.c.detail)
        .where(t.events.c.request_id == request_id, t.events.c.kind == "likely_follow_up")
        .order_by(t.events.c.id)
    )
    return [str(detail["of"]) for detail in (await conn.execute(query)).scalars() if isinstance(detail, dict)]
