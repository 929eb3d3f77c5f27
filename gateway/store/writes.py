"""Named write queries, run inside one transaction (`Store.transaction()`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.schema import format_reference
from gateway.store import tables as t
from gateway.store.sqlite_direct import prepared

# Statements are built once: constructing a Core statement and its cache key on every call cost more than
# running it. Values travel as bind parameters, so the SQLite writer may run them directly (`prepared`).
_REQUEST_OF_MESSAGE = prepared(
    select(t.requests.c.id, t.requests.c.reference)
    .join(t.messages, t.messages.c.request_id == t.requests.c.id)
    .where(t.messages.c.channel == bindparam("channel"), t.messages.c.external_key == bindparam("key"))
)
_REQUEST_BY_REFERENCE = prepared(
    select(t.requests.c.id, t.requests.c.reference).where(t.requests.c.reference == bindparam("reference"))
)
_REQUESTS_BY_THREAD_IDS = prepared(
    select(t.thread_ids.c.message_id, t.requests.c.id, t.requests.c.reference)
    .join(t.requests, t.requests.c.id == t.thread_ids.c.request_id)
    .where(t.thread_ids.c.message_id.in_(bindparam("ids", expanding=True)))
)
_RECENT_OUTBOX = prepared(
    select(func.count())
    .select_from(t.outbox)
    .where(
        t.outbox.c.kind == bindparam("kind"),
        t.outbox.c.recipient == bindparam("recipient"),
        t.outbox.c.created_at >= bindparam("since"),
    )
)
_IS_ESCALATED = prepared(select(t.requests.c.escalation).where(t.requests.c.id == bindparam("id")))
_BUMP_COUNTER = prepared(
    update(t.reference_counters)
    .where(t.reference_counters.c.year == bindparam("counter_year"))
    .values(last_number=t.reference_counters.c.last_number + 1)
    .returning(t.reference_counters.c.last_number)
)
_NEW_COUNTER = {
    "postgresql": postgresql.insert(t.reference_counters).on_conflict_do_nothing(),
    "sqlite": prepared(sqlite.insert(t.reference_counters).on_conflict_do_nothing()),
}
_REMEMBER_THREAD_ID = {
    "postgresql": postgresql.insert(t.thread_ids).on_conflict_do_nothing(),
    "sqlite": prepared(sqlite.insert(t.thread_ids).on_conflict_do_nothing()),
}
_INSERT_RETURNING_ID = {
    table: prepared(insert(table).returning(table.c.id))
    for table in (t.raw_inputs, t.requests, t.messages, t.outbox, t.quarantine)
}
# Rows nobody refers back to are inserted without RETURNING, several at a time (executemany): one statement
# per table instead of one per row.
_INSERT = {table: prepared(insert(table)) for table in (t.attachments, t.outbox, t.events, t.request_serials)}
_REQUEST_STATE = prepared(select(t.requests.c.escalation, t.requests.c.data).where(t.requests.c.id == bindparam("id")))
_UPDATE_REQUEST = prepared(update(t.requests).where(t.requests.c.id == bindparam("request_row_id")))


@dataclass(frozen=True)
class RequestState:
    """What a follow-up changes on its request: whether it is escalated, and its data."""

    escalation: bool
    data: dict[str, Any]


@dataclass(frozen=True)
class ThreadId:
    """A Message-ID to keep for follow-up matching."""

    message_id: str
    request_id: int
    direction: str  # in | out


@dataclass(frozen=True)
class RequestRef:
    """A stored request as the pipeline needs to know it: row id and reference."""

    id: int
    reference: str


class WriteTx:
    """The write side of one transaction. Every method is one named statement or a short fixed sequence."""

    def __init__(self, conn: Any) -> None:
        # An AsyncConnection, or on SQLite the writer thread's adapter, which offers the same awaited
        # `execute`/`exec_driver_sql` and `dialect` (see sqlite_writer.py); callers use only those.
        self.conn: AsyncConnection = conn
        self.dialect = conn.dialect.name

    # -- lookups used before writing -------------------------------------------------------------------------------
    async def request_of_message(self, channel: str, external_key: str) -> RequestRef | None:
        row = (await self.conn.execute(_REQUEST_OF_MESSAGE, {"channel": channel, "key": external_key})).first()
        return RequestRef(row.id, row.reference) if row else None

    async def request_by_reference(self, reference: str) -> RequestRef | None:
        row = (await self.conn.execute(_REQUEST_BY_REFERENCE, {"reference": reference})).first()
        return RequestRef(row.id, row.reference) if row else None

    async def request_by_thread_ids(self, message_ids: Sequence[str]) -> RequestRef | None:
        """The request any of these Message-IDs belongs to, preferring the first id given (the nearest parent)."""
        if not message_ids:
            return None
        rows = await self.conn.execute(_REQUESTS_BY_THREAD_IDS, {"ids": list(message_ids)})
        found = {row.message_id: RequestRef(row.id, row.reference) for row in rows}
        return next((found[m] for m in message_ids if m in found), None)

    async def recent_outbox_count(self, kind: str, recipient: str, since: datetime) -> int:
        """How many rows of this kind went to this recipient since `since` (per-address rate limit, shared by all
        gateway processes because it is counted in the database)."""
        parameters = {"kind": kind, "recipient": recipient, "since": since}
        return int((await self.conn.execute(_RECENT_OUTBOX, parameters)).scalar_one())

    async def is_escalated(self, request_id: int) -> bool:
        return bool((await self.conn.execute(_IS_ESCALATED, {"id": request_id})).scalar_one())

    # -- inserts ---------------------------------------------------------------------------------------------------
    async def allocate_reference(self, year: int) -> str:
        """Next `HZ-<year>-<n>`. The counter row stays locked until commit, so concurrent writers never share a
        number (PostgreSQL row lock; SQLite holds the database write lock) and a rollback gives it back."""
        number = (await self.conn.execute(_BUMP_COUNTER, {"counter_year": year})).scalar()
        if number is None:  # the first request of the year creates its counter
            await self.conn.execute(_NEW_COUNTER[self.dialect], {"year": year, "last_number": 0})
            number = (await self.conn.execute(_BUMP_COUNTER, {"counter_year": year})).scalar_one()
        return format_reference(year, int(number))

    async def insert_raw(
        self,
        *,
        channel: str,
        mailbox: str | None,
        received_at: datetime,
        content: bytes,
        sha256: str,
        envelope: dict[str, Any],
    ) -> int:
        values = dict(
            channel=channel,
            mailbox=mailbox,
            received_at=received_at,
            content=content,
            content_sha256=sha256,
            envelope=envelope,
        )
        return await self._insert(t.raw_inputs, values)

    async def insert_request(self, values: dict[str, Any]) -> int:
        return await self._insert(t.requests, values)

    async def insert_message(self, values: dict[str, Any]) -> int:
        return await self._insert(t.messages, values)

    async def insert_attachments(self, rows: Sequence[dict[str, Any]]) -> None:
        await self._insert_many(t.attachments, rows)

    async def insert_outbox(self, values: dict[str, Any]) -> int:
        return await self._insert(t.outbox, _new_outbox_row(values))

    async def insert_outbox_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        await self._insert_many(t.outbox, [_new_outbox_row(values) for values in rows])

    async def insert_event(
        self, *, request_id: int, at: datetime, actor: str, kind: str, detail: dict[str, Any]
    ) -> None:
        await self.insert_events([dict(request_id=request_id, at=at, actor=actor, kind=kind, detail=detail)])

    async def insert_events(self, rows: Sequence[dict[str, Any]]) -> None:
        """Rows with request_id, at, actor, kind and detail; their ids follow the order given."""
        await self._insert_many(t.events, rows)

    async def remember_thread_id(self, message_id: str, request_id: int, direction: str) -> None:
        """Keep a Message-ID for follow-up matching; one already known keeps its first request."""
        await self.remember_thread_ids([ThreadId(message_id, request_id, direction)])

    async def remember_thread_ids(self, thread_ids: Sequence[ThreadId]) -> None:
        """As `remember_thread_id`, for several; of two equal Message-IDs given here, the first one counts."""
        rows = [{"message_id": i.message_id, "request_id": i.request_id, "direction": i.direction} for i in thread_ids]
        if rows:
            await self.conn.execute(_REMEMBER_THREAD_ID[self.dialect], rows)

    async def insert_request_serials(self, request_id: int, serials: Sequence[str]) -> None:
        await self._insert_many(t.request_serials, [{"request_id": request_id, "serial": s} for s in serials])

    async def insert_quarantine(self, values: dict[str, Any]) -> int:
        return await self._insert(t.quarantine, {"status": "held", **values})

    # -- updates ---------------------------------------------------------------------------------------------------
    async def update_request(self, request_id: int, values: dict[str, Any]) -> None:
        await self.conn.execute(_UPDATE_REQUEST, {"request_row_id": request_id, **values})

    async def request_state(self, request_id: int) -> RequestState:
        row = (await self.conn.execute(_REQUEST_STATE, {"id": request_id})).one()
        return RequestState(bool(row.escalation), row.data)

    async def release_quarantine(self, quarantine_id: int, *, reference: str | None, at: datetime) -> None:
        statement = (
            update(t.quarantine)
            .where(t.quarantine.c.id == quarantine_id)
            .values(status="released", reference=reference, retried_at=at)
        )
        await self.conn.execute(statement)

    async def _insert(self, table: Any, values: dict[str, Any]) -> int:
        result = await self.conn.execute(_INSERT_RETURNING_ID[table], values)
        return int(result.scalar_one())

    async def _insert_many(self, table: Any, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            # executemany compiles the statement from the first row's keys, so every row must have the same keys.
            await self.conn.execute(_INSERT[table], list(rows))


def _new_outbox_row(values: dict[str, Any]) -> dict[str, Any]:
    return {"attempts": 0, "status": "pending", **values}
