"""The outbox dispatcher: claims due rows, sends and marks them; retries with backoff; falls back; never blocks intake.

Woken at once by new rows from this process (`wake()`), and by a short poll for rows of other processes and retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from gateway.config import Settings
from gateway.logs import get_logger
from gateway.metrics import Metrics
from gateway.outbox import compose, queue
from gateway.outbox.queue import OutboxRow
from gateway.outbox.senders import FileOutbox, RelaySender, SendError, TwilioSms, WebhookSender
from gateway.store import Store

log = get_logger("gateway.outbox")

LEASE = timedelta(minutes=2)
BATCH = 20
MAX_ATTEMPTS = 12
POLL_INTERVAL_S = 2.0


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """5 s, 10 s, 20 s … capped at one hour, with ±20 % jitter so retries of many rows do not arrive together."""
    base = min(5.0 * 2**attempts, 3600.0)
    jitter = (rng or random).uniform(0.8, 1.2)
    return timedelta(seconds=base * jitter)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{id(object()):x}"


@dataclass
class Dispatcher:
    store: Store
    settings: Settings
    metrics: Metrics = field(default_factory=Metrics)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    worker: str = field(default_factory=worker_name)

    def __post_init__(self) -> None:
        s = self.settings
        outbox_dir = s.storage.dir / "outbox"
        self.email = RelaySender(s.relay) if s.relay.host else FileOutbox(outbox_dir)
        self.sms = TwilioSms(s.twilio)
        self.webhook = WebhookSender(s.escalation.webhook_secret)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                sent = await self.run_once()
            except Exception:  # the loop must outlive a broken database connection; the next pass retries
                log.exception("outbox pass failed")
                sent = 0
            if sent >= BATCH:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wait(stop), POLL_INTERVAL_S)
            self._wake.clear()

    async def _wait(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def run_once(self) -> int:
        rows = await queue.claim(self.store, worker=self.worker, now=self.clock(), lease=LEASE, limit=BATCH)
        await asyncio.gather(*(self._deliver(row) for row in rows))
        return len(rows)

    async def close(self) -> None:
        await self.sms.close()

    async def _deliver(self, row: OutboxRow) -> None:
        request = row.request
        try:
            await self._send(row, request)
        except SendError as exc:
            await self._failed(row, request, exc)
            return
        except Exception as exc:  # a template or data bug: keep the row, count it as a failed attempt
            log.exception("outbox row could not be composed", outbox_id=row.id, reference=request["reference"])
            await self._failed(row, request, SendError(f"{type(exc).__name__}: {exc}", permanent=False))
            return
        now = self.clock()
        if await queue.mark_sent(self.store, row, worker=self.worker, now=now):
            self.metrics.outbox_sent.labels(row.kind).inc()
            if row.kind.startswith("ack_"):
                received = datetime.fromisoformat(request["data"]["received_at"])
                self.metrics.ack_latency.observe(max((now - received).total_seconds(), 0.0))
            log.info("sent", kind=row.kind, outbox_id=row.id, reference=request["reference"])

    async def _send(self, row: OutboxRow, request: dict[str, object]) -> None:
        s = self.settings
        window = s.sla.default_window
        if row.kind == "ack_sms":
            await self.sms.send(to=row.recipient, body=compose.compose_sms(request, window, s.ack.templates_dir))
        elif row.kind == "escalation_webhook":
            await self.webhook.post(row.recipient, compose.webhook_payload(row, request))
        else:
            mailbox = request.get("mailbox") or "pomoc"
            message = compose.compose_email(
                row,
                request,
                from_address=s.mailbox_address(mailbox),  # type: ignore[arg-type]
                notify_from=s.relay.from_address,
                window=window,
                now=self.clock(),
                templates_dir=s.ack.templates_dir,
            )
            await self.email.send(message, row_id=row.id)

    async def _failed(self, row: OutboxRow, request: dict[str, object], exc: SendError) -> None:
        now = self.clock()
        self.metrics.outbox_failed.labels(row.kind, str(exc.permanent).lower()).inc()
        if exc.permanent or row.attempts + 1 >= MAX_ATTEMPTS:
            fallback = compose.fallback_for(row, request, domain=self.settings.ack.domain)
            await queue.mark_failed(self.store, row, worker=self.worker, now=now, error=str(exc), fallback=fallback)
            log.warning(
                "outbox row failed",
                kind=row.kind,
                outbox_id=row.id,
                error=str(exc),
                fallback=fallback["kind"] if fallback else None,
            )
            if fallback:
                self.wake()
            return
        retry_at = now + backoff(row.attempts)
        await queue.mark_retry(self.store, row, worker=self.worker, at=retry_at, error=str(exc))
        log.info("outbox row will be retried", kind=row.kind, outbox_id=row.id, error=str(exc), at=retry_at)
