"""The 7-day return clock: a reminder to the reporter two days before the return date (day 5 after delivery), and
an overdue flag with a desk warning one day after it (day 8), like `gateway.outbox.sla_watch`.

Each stage is claimed with a conditional UPDATE (`… WHERE return_reminded_at IS NULL`), so with several gateway
processes exactly one of them raises it. Only requests still `delivered` count: a returned device stops the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select, update

from gateway.logs import get_logger
from gateway.outbox_plans import new_message_id
from gateway.store import Store, WriteTx
from gateway.store import tables as t
from gateway.store.reads import utc

log = get_logger("gateway.return_watch")

REMIND_BEFORE_DUE = timedelta(days=2)  # return_due is delivery + 7 days: the reminder goes on day 5
OVERDUE_AFTER_DUE = timedelta(days=1)  # day 8: a parcel handed to the courier on day 7 is not overdue yet
BATCH = 200

REMINDER = "return_reminder"
OVERDUE = "return_overdue"


@dataclass(frozen=True)
class ReturnStage:
    kind: str
    marker: Any  # the column that claims the stage
    horizon: Callable[[datetime], datetime]  # rows whose return_due is at or before this are due for the stage


STAGES = (
    ReturnStage(REMINDER, t.requests.c.return_reminded_at, lambda now: now + REMIND_BEFORE_DUE),
    ReturnStage(OVERDUE, t.requests.c.return_overdue_at, lambda now: now - OVERDUE_AFTER_DUE),
)


def due_for(stage: ReturnStage, now: datetime) -> Select[tuple[int, str, str | None, datetime | None, datetime]]:
    """Delivered replacements whose return is due for `stage` and that `stage` has not been raised for."""
    r = t.requests.c
    return (
        select(r.id, r.reference, r.reporter_email, r.delivered_at, r.return_due)
        .where(
            r.status == "delivered",  # with return_due, what ix_requests_status_return_due is for
            r.return_due.is_not(None),
            r.return_due <= stage.horizon(now),
            stage.marker.is_(None),
        )
        .order_by(r.return_due)
        .limit(BATCH)
    )


def _payload(row: Any) -> dict[str, Any]:
    due, delivered = utc(row.return_due), utc(row.delivered_at)
    return {
        "return_due": due.isoformat() if due else None,
        "delivered_at": delivered.isoformat() if delivered else None,
    }


async def _raise_stage(
    tx: WriteTx, stage: ReturnStage, row: Any, *, now: datetime, notify: Sequence[str], domain: str
) -> dict[str, Any]:
    """The outbox rows and the event of one claimed stage; returns the event detail."""
    recipients = [row.reporter_email] if stage.kind == REMINDER and row.reporter_email else []
    if stage.kind == OVERDUE:
        recipients = list(notify)
        await tx.update_request(row.id, {"updated_at": now})
    for recipient in recipients:
        message_id = new_message_id(row.reference, domain)
        await tx.insert_outbox(
            dict(
                request_id=row.id,
                kind=stage.kind,
                recipient=recipient,
                message_id=message_id,
                payload=_payload(row),
                next_attempt_at=now,
                created_at=now,
            )
        )
        if stage.kind == REMINDER:
            await tx.remember_thread_id(message_id, row.id, "out")  # the reporter's answer threads to the request
    detail: dict[str, Any] = {"return_due": _payload(row)["return_due"], "recipients": recipients}
    if not recipients:
        detail["skipped"] = "no e-mail address" if stage.kind == REMINDER else "no desk address configured"
    await tx.insert_event(request_id=row.id, at=now, actor="gateway", kind=stage.kind, detail=detail)
    return detail


async def check_returns(
    store: Store, *, now: datetime, notify: Sequence[str], domain: str = "myhezo.pl"
) -> list[tuple[str, str]]:
    """One pass; returns (reference, stage) for each reminder or overdue flag raised."""
    raised: list[tuple[str, str]] = []
    now = now.astimezone(UTC)  # SQLite drops offsets: compare and store UTC only
    r = t.requests.c
    for stage in STAGES:
        async with store.transaction() as tx:
            candidates = list(await tx.conn.execute(due_for(stage, now)))
            for row in candidates:
                claimed = await tx.conn.execute(
                    update(t.requests).where(r.id == row.id, stage.marker.is_(None)).values({stage.marker.key: now})
                )
                if not claimed.rowcount:
                    continue
                detail = await _raise_stage(tx, stage, row, now=now, notify=notify, domain=domain)
                raised.append((row.reference, stage.kind))
                if stage.kind == OVERDUE:
                    log.warning("failed device not returned", reference=row.reference, **detail)
    return raised


async def watch(
    store: Store,
    *,
    stop: asyncio.Event,
    notify: Sequence[str],
    domain: str,
    on_raised: Callable[[], None],
    interval_s: float = 300.0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    while not stop.is_set():
        try:
            if await check_returns(store, now=clock(), notify=notify, domain=domain):
                on_raised()
        except Exception:  # keep watching after a database hiccup
            log.exception("return watch pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
