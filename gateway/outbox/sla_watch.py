"""Warns the desk when a request is close to its response deadline without a first contact, and again at breach.

Each warning is claimed with a conditional UPDATE (`… WHERE sla_warned_at IS NULL`), so with several gateway
processes exactly one of them warns.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, select, update

from gateway.logs import get_logger
from gateway.metrics import Metrics
from gateway.store import Store
from gateway.store import tables as t
from gateway.store.tables import CLOSED_STATUSES

log = get_logger("gateway.sla_watch")

STAGES = (("sla_due_soon", t.requests.c.sla_warned_at), ("sla_breached", t.requests.c.sla_breached_at))


def awaiting_first_contact(marker: ColumnElement[Any], horizon: datetime) -> Select[tuple[int, str]]:
    """Requests due by `horizon` that nobody has contacted yet and that `marker` has not been set for."""
    return (
        select(t.requests.c.id, t.requests.c.reference)
        .where(
            t.AWAITING_FIRST_CONTACT,  # as the partial index says it, so that both databases use that index
            t.requests.c.response_due.is_not(None),
            t.requests.c.response_due <= horizon,
            t.requests.c.status.not_in(CLOSED_STATUSES),
            marker.is_(None),
        )
        .limit(200)
    )


async def warn_due(
    store: Store, *, now: datetime, warn_before: timedelta, notify: Sequence[str], metrics: Metrics
) -> list[tuple[str, str]]:
    """One pass; returns (reference, stage) for each warning raised."""
    raised: list[tuple[str, str]] = []
    for stage, marker in STAGES:
        horizon = now + warn_before if stage == "sla_due_soon" else now
        async with store.transaction() as tx:
            candidates = list(await tx.conn.execute(awaiting_first_contact(marker, horizon)))
            for row in candidates:
                claimed = await tx.conn.execute(
                    update(t.requests).where(t.requests.c.id == row.id, marker.is_(None)).values({marker.key: now})
                )
                if not claimed.rowcount:
                    continue
                for address in notify:
                    await tx.insert_outbox(
                        dict(
                            request_id=row.id,
                            kind=stage,
                            recipient=address,
                            payload={},
                            next_attempt_at=now,
                            created_at=now,
                        )
                    )
                await tx.insert_event(request_id=row.id, at=now, actor="gateway", kind=stage, detail={})
                raised.append((row.reference, stage))
    for reference, stage in raised:
        metrics.sla_warnings.labels(stage).inc()
        log.warning("response deadline warning", reference=reference, stage=stage)
    return raised


async def watch(
    store: Store,
    *,
    stop: asyncio.Event,
    warn_before: timedelta,
    notify: Sequence[str],
    metrics: Metrics,
    on_warning: Callable[[], None],
    interval_s: float = 30.0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    while not stop.is_set():
        try:
            if await warn_due(store, now=clock(), warn_before=warn_before, notify=notify, metrics=metrics):
                on_warning()
        except Exception:  # keep watching after a database hiccup
            log.exception("SLA watch pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
