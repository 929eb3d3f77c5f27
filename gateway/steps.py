"""The intake steps, each a small function over the frozen `Intake` context. The order lives in pipeline.py."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from gateway.contracts.entitlement import Entitlement, entitlement_for
from gateway.contracts.levels import ServiceLevels, default_levels
from gateway.intake import Created, Duplicate, FollowUp, Outcome, Quarantined, RawIntake
from gateway.outbox_plans import OutboxPlan, plan_acknowledgement, plan_escalation_notices
from gateway.schema import ServiceRequest
from gateway.sla import WARSAW
from gateway.store import RequestRef, Store, WriteTx
from gateway.store.blobs import BlobStore
from parsers import ParsedIntake, ParseError, parse_bytes
from parsers.email.body_hash import email_body_hash

# A deadline function: (received_at, window) -> response deadline.
Deadline = Callable[[datetime, str], datetime | None]
# Called once per finished submit, for metrics and logs.
Observer = Callable[[RawIntake, Outcome], None]


@dataclass(frozen=True)
class PipelineDeps:
    store: Store
    blobs: BlobStore
    own_addresses: Collection[str]
    ack_domain: str
    escalation_notify: Collection[str] = ()
    escalation_webhook: str = ""
    default_window: str = "8x5"
    response_due: Deadline = lambda _received, _window: None
    ack_rate_limit_per_hour: int = 10
    observe: Observer = lambda _raw, _outcome: None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    levels: ServiceLevels = field(default_factory=default_levels)


@dataclass(frozen=True)
class Intake:
    raw: RawIntake
    parsed: ParsedIntake | None = None
    external_key: str = ""
    """Idempotency key within the channel: Message-ID + body hash for e-mail, the channel's own id otherwise."""
    response_due: datetime | None = None
    follow_up_of: RequestRef | None = None
    outbox: tuple[OutboxPlan, ...] = ()
    skipped_acks: tuple[str, ...] = ()
    reference: str | None = None
    entitlement: Entitlement | None = None

    @property
    def request(self) -> ServiceRequest:
        assert self.parsed is not None
        return self.parsed.request


# -- before the transaction ----------------------------------------------------------------------------------------
def parse_input(intake: Intake, deps: PipelineDeps) -> Intake | Outcome:
    raw = intake.raw
    try:
        parsed = parse_bytes(raw.content, channel=raw.channel, mailbox=raw.mailbox, received_at=raw.received_at)
    except ParseError as exc:
        return Quarantined(0, str(exc))
    except Exception as exc:  # a parser bug must cost one quarantined input, never the intake
        return Quarantined(0, f"{type(exc).__name__}: {exc}")
    return dataclasses.replace(intake, parsed=parsed)


def derive_external_key(intake: Intake, deps: PipelineDeps) -> Intake | Outcome:
    parsed = intake.parsed
    assert parsed is not None
    if intake.raw.channel != "email":
        return dataclasses.replace(intake, external_key=parsed.request.external_id or "")
    if parsed.message_id is None:
        # Never merged with another mail by content alone: a mail without Message-ID gets one of its own.
        generated = f"{uuid.uuid4().hex}@{deps.ack_domain}"
        request = parsed.request.model_copy(update={"external_id": generated})
        parsed = dataclasses.replace(parsed, request=request, message_id=generated)
        return dataclasses.replace(intake, parsed=parsed, external_key=f"{generated}#generated")
    # Some mail software reuses Message-IDs; the body hash keeps two different mails apart.
    return dataclasses.replace(intake, external_key=f"{parsed.message_id}#{email_body_hash(intake.raw.content)}")


def compute_response_due(intake: Intake, deps: PipelineDeps) -> Intake | Outcome:
    return dataclasses.replace(intake, response_due=deps.response_due(intake.raw.received_at, deps.default_window))


def keep_attachment_bytes(intake: Intake, deps: PipelineDeps) -> Intake | Outcome:
    """Files first, rows later: a crash in between leaves an unreferenced file, never a dangling row."""
    assert intake.parsed is not None
    for attachment in intake.parsed.attachments:
        deps.blobs.put(attachment.content)
    return intake


# -- inside the transaction ----------------------------------------------------------------------------------------
async def find_duplicate(intake: Intake, deps: PipelineDeps, tx: WriteTx) -> Intake | Outcome:
    found = await tx.request_of_message(intake.raw.channel, intake.external_key)
    return Duplicate(found.reference) if found else intake


async def link_follow_up(intake: Intake, deps: PipelineDeps, tx: WriteTx) -> Intake | Outcome:
    assert intake.parsed is not None
    tag = intake.parsed.request.follow_up_of
    found = await tx.request_by_reference(tag) if tag else None
    if found is None:
        found = await tx.request_by_thread_ids(intake.parsed.thread_ids)
    return dataclasses.replace(intake, follow_up_of=found) if found else intake


async def check_entitlement(intake: Intake, deps: PipelineDeps, tx: WriteTx) -> Intake | Outcome:
    """Contract registry: a covered serial completes the contract number; the contract's window sets the deadline."""
    if intake.follow_up_of is not None:
        return intake
    assert intake.parsed is not None
    request = intake.parsed.request
    entitlement = await entitlement_for(
        tx.conn,
        request,
        today=request.received_at.astimezone(WARSAW).date(),
        levels=deps.levels,
        default_window=deps.default_window,  # type: ignore[arg-type]
    )
    completed = request.model_copy(
        update={"contract_numbers": entitlement.contract_numbers, "missing": entitlement.missing}
    )
    return dataclasses.replace(
        intake,
        parsed=dataclasses.replace(intake.parsed, request=completed),
        entitlement=entitlement,
        response_due=deps.response_due(intake.raw.received_at, entitlement.window),
    )


async def plan_outbox(intake: Intake, deps: PipelineDeps, tx: WriteTx) -> Intake | Outcome:
    assert intake.parsed is not None
    request = intake.parsed.request
    rows: list[OutboxPlan] = []
    skipped: tuple[str, ...] = ()
    reference = (
        intake.follow_up_of.reference
        if intake.follow_up_of
        else await tx.allocate_reference(intake.raw.received_at.astimezone(UTC).year)
    )
    if intake.follow_up_of is None:
        plan = plan_acknowledgement(
            request, reference=reference, own_addresses=deps.own_addresses, domain=deps.ack_domain
        )
        rows, skipped = list(plan.rows), plan.skipped
        since = deps.clock() - timedelta(hours=1)
        for row in list(rows):
            if await tx.recent_outbox_count(row.kind, row.recipient, since) >= deps.ack_rate_limit_per_hour:
                rows.remove(row)  # mail-loop protection: a sender over the limit gets no more automatic mail
                skipped += ("rate_limited",)
    if request.escalation and not await _already_escalated(intake, tx):
        rows += plan_escalation_notices(notify=deps.escalation_notify, webhook_url=deps.escalation_webhook)
    return dataclasses.replace(intake, outbox=tuple(rows), skipped_acks=skipped, reference=reference)


async def _already_escalated(intake: Intake, tx: WriteTx) -> bool:
    return intake.follow_up_of is not None and await tx.is_escalated(intake.follow_up_of.id)


async def persist(intake: Intake, deps: PipelineDeps, tx: WriteTx) -> Intake | Outcome:
    from gateway.persist import store_follow_up, store_new_request

    if intake.follow_up_of is not None:
        escalated = await store_follow_up(intake, deps, tx)
        return FollowUp(intake.follow_up_of.reference, escalated=escalated)
    await store_new_request(intake, deps, tx)
    assert intake.reference is not None
    return Created(intake.reference, tuple(intake.request.missing), queued=len(intake.outbox))


# -- failure path ---------------------------------------------------------------------------------------------------
async def quarantine(raw: RawIntake, error: str, deps: PipelineDeps) -> int:
    async with deps.store.transaction() as tx:
        return await tx.insert_quarantine(
            dict(
                channel=raw.channel,
                mailbox=raw.mailbox,
                received_at=raw.received_at,
                content=raw.content,
                envelope=dict(raw.envelope),
                error=error,
                created_at=deps.clock(),
            )
        )
