"""Named queries of the outbox queue: claim due rows, mark them sent, retry or fail them.

A claim is a lease: the row moves to `sending` with `claimed_by` and `claimed_until`. On PostgreSQL the claim uses
FOR UPDATE SKIP LOCKED, so several gateway processes never take the same row; on SQLite the write transaction
(BEGIN IMMEDIATE) serialises claimers. A process that dies mid-send leaves a lease that expires; the row is then
claimed again and re-sent with the same Message-ID (fixed at creation), so a resend is recognisable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update

from gateway.store import Store, WriteTx
from gateway.store import tables as t
from gateway.store.reads import utc
from gateway.store.sqlite_direct import prepared


@dataclass(frozen=True)
class OutboxRow:
    id: int
    request_id: int
    kind: str
    recipient: str
    message_id: str | None
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    request: dict[str, Any] = field(default_factory=dict)
    """The request it belongs to (reference, data, response_due, mailbox), read with the claim."""


_CLAIMED_COLUMNS = (
    *t.outbox.c,
    t.requests.c.reference,
    t.requests.c.data.label("request_data"),
    t.requests.c.response_due,
    t.requests.c.mailbox,
)
# Built once (the dispatcher claims after every intake): values travel as bind parameters, so the SQLite writer may
# run them directly. Due: pending and its time has come, or sending with a lease that has run out.
_DUE = or_(
    and_(t.outbox.c.status == "pending", t.outbox.c.next_attempt_at <= bindparam("now")),
    and_(t.outbox.c.status == "sending", t.outbox.c.claimed_until < bindparam("now")),
)
_CLAIM = prepared(
    select(*_CLAIMED_COLUMNS)
    .join(t.requests, t.requests.c.id == t.outbox.c.request_id)
    .where(_DUE)
    .order_by(t.outbox.c.id)
    .limit(bindparam("limit"))
)
# On PostgreSQL several gateway processes claim at once: each skips the rows another has locked.
_CLAIM_SKIPPING_LOCKED = _CLAIM.with_for_update(skip_locked=True, of=t.outbox)
_TAKE = prepared(
    update(t.outbox)
    .where(t.outbox.c.id.in_(bindparam("ids", expanding=True)))
    .values(status="sending", claimed_by=bindparam("worker"), claimed_until=bindparam("until"))
)


def _row(r: Any, now: datetime) -> OutboxRow:
    request = {
        "reference": r.reference,
        "data": r.request_data,
        "response_due": utc(r.response_due),
        "mailbox": r.mailbox,
    }
    return OutboxRow(
        r.id, r.request_id, r.kind, r.recipient, r.message_id, r.payload, r.attempts, utc(r.created_at) or now, request
    )


async def claim(store: Store, *, worker: str, now: datetime, lease: timedelta, limit: int) -> list[OutboxRow]:
    query = _CLAIM_SKIPPING_LOCKED if store.backend == "postgresql" else _CLAIM

    async def work(tx: WriteTx) -> list[OutboxRow]:
        rows = list(await tx.conn.execute(query, {"now": now, "limit": limit}))
        if rows:
            taken = {"ids": [r.id for r in rows], "worker": worker, "until": now + lease}
            await tx.conn.execute(_TAKE, taken)
        return [_row(r, now) for r in rows]

    return await store.run_in_transaction(work)


def _mine(row_id: int, worker: str) -> Any:
    return and_(t.outbox.c.id == row_id, t.outbox.c.claimed_by == worker, t.outbox.c.status == "sending")


async def mark_sent(store: Store, row: OutboxRow, *, worker: str, now: datetime) -> bool:
    """False when the lease was lost (another process took the row after ours expired)."""

    async def work(tx: WriteTx) -> bool:
        result = await tx.conn.execute(
            update(t.outbox)
            .where(_mine(row.id, worker))
            .values(status="sent", sent_at=now, attempts=row.attempts + 1, claimed_by=None, claimed_until=None)
        )
        if result.rowcount and row.kind.startswith("ack_"):
            await tx.conn.execute(
                update(t.requests)
                .where(t.requests.c.id == row.request_id, t.requests.c.status == "received")
                .values(status="acknowledged", updated_at=now)
            )
        return bool(result.rowcount)

    return await store.run_in_transaction(work)


async def mark_retry(store: Store, row: OutboxRow, *, worker: str, at: datetime, error: str) -> None:
    async def work(tx: WriteTx) -> None:
        await tx.conn.execute(
            update(t.outbox)
            .where(_mine(row.id, worker))
            .values(
                status="pending",
                attempts=row.attempts + 1,
                next_attempt_at=at,
                last_error=error[:2000],
                claimed_by=None,
                claimed_until=None,
            )
        )

    await store.run_in_transaction(work)


async def mark_failed(
    store: Store, row: OutboxRow, *, worker: str, now: datetime, error: str, fallback: dict[str, Any] | None
) -> None:
    """Permanent failure; `fallback` is a new outbox row (e-mail instead of SMS, or the reverse) added atomically."""

    async def work(tx: WriteTx) -> None:
        result = await tx.conn.execute(
            update(t.outbox)
            .where(_mine(row.id, worker))
            .values(
                status="failed", attempts=row.attempts + 1, last_error=error[:2000], claimed_by=None, claimed_until=None
            )
        )
        if result.rowcount and fallback is not None:
            await tx.insert_outbox(
                {**fallback, "request_id": row.request_id, "next_attempt_at": now, "created_at": now}
            )
            if fallback.get("message_id"):
                await tx.remember_thread_id(fallback["message_id"], row.request_id, "out")

    await store.run_in_transaction(work)
