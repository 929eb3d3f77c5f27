"""The write step: raw input, request or follow-up message, attachments, thread ids and outbox rows, in one go."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gateway.outbox_plans import OutboxPlan
from gateway.schema import missing_items
from gateway.store import WriteTx
from gateway.store.writes import ThreadId
from parsers.vendor_cases import vendor_cases

if TYPE_CHECKING:
    from gateway.steps import Intake, PipelineDeps


@dataclass
class _Children:
    """Rows that only point at rows already written. Collected while the parents are inserted and written at the
    end with one statement per table, not one per row: on SQLite each statement costs more than the row it adds."""

    attachments: list[dict[str, Any]] = field(default_factory=list)
    serials: list[str] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    thread_ids: list[ThreadId] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def event(self, request_id: int, at: datetime, kind: str, detail: dict[str, Any]) -> None:
        self.events.append(dict(request_id=request_id, at=at, actor="gateway", kind=kind, detail=detail))

    async def write(self, tx: WriteTx, request_id: int) -> None:
        await tx.insert_attachments(self.attachments)
        await tx.insert_request_serials(request_id, self.serials)
        await tx.insert_outbox_rows(self.outbox)
        await tx.remember_thread_ids(self.thread_ids)
        await tx.insert_events(self.events)


async def _insert_raw(intake: Intake, tx: WriteTx) -> int:
    raw = intake.raw
    return await tx.insert_raw(
        channel=raw.channel,
        mailbox=raw.mailbox,
        received_at=raw.received_at,
        content=raw.content,
        sha256=hashlib.sha256(raw.content).hexdigest(),
        envelope=dict(raw.envelope),
    )


async def _insert_message(
    intake: Intake, tx: WriteTx, children: _Children, *, request_id: int, raw_id: int, kind: str
) -> None:
    assert intake.parsed is not None
    request = intake.parsed.request
    message_row = await tx.insert_message(
        dict(
            request_id=request_id,
            raw_input_id=raw_id,
            channel=intake.raw.channel,
            kind=kind,
            external_key=intake.external_key,
            received_at=intake.raw.received_at,
            sender=request.reporter.email or request.reporter.phone,
            subject=request.subject,
            body_text=intake.parsed.body_text,
            data=request.model_dump(mode="json"),
        )
    )
    children.attachments += [
        dict(
            request_id=request_id,
            message_row_id=message_row,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
            sha256=attachment.sha256,
        )
        for attachment in intake.parsed.attachments
    ]
    if intake.parsed.message_id:
        children.thread_ids.append(ThreadId(intake.parsed.message_id, request_id, "in"))


def _add_outbox_rows(intake: Intake, deps: PipelineDeps, children: _Children, request_id: int) -> None:
    now = deps.clock()
    for row in intake.outbox:
        children.outbox.append(
            dict(
                request_id=request_id,
                kind=row.kind,
                recipient=row.recipient,
                message_id=row.message_id,
                payload=_payload(intake, row),
                next_attempt_at=now,
                created_at=now,
            )
        )
        if row.message_id:
            children.thread_ids.append(ThreadId(row.message_id, request_id, "out"))


def _payload(intake: Intake, row: OutboxPlan) -> dict[str, Any]:
    assert intake.parsed is not None
    return {**row.payload, "in_reply_to": intake.parsed.message_id, "thread_ids": list(intake.parsed.thread_ids)}


async def store_new_request(intake: Intake, deps: PipelineDeps, tx: WriteTx) -> None:
    assert intake.parsed is not None and intake.reference is not None
    request = intake.parsed.request.model_copy(update={"reference": intake.reference})
    entitlement = intake.entitlement
    data = request.model_dump(mode="json") | {
        "entitlement": entitlement.as_json() if entitlement else None,
        "reporter_authorised": entitlement.reporter_authorised if entitlement else None,
        "vendor_cases": vendor_cases(f"{request.subject}\n{request.description}\n{intake.parsed.body_text}"),
    }
    raw_id = await _insert_raw(intake, tx)
    now = deps.clock()
    request_id = await tx.insert_request(
        dict(
            reference=intake.reference,
            channel=request.channel,
            mailbox=request.mailbox,
            external_id=intake.external_key,
            status="received",
            escalation=request.escalation,
            priority="high" if request.escalation else "normal",
            auto_submitted=request.auto_submitted,
            reporter_email=request.reporter.email,
            reporter_phone=request.reporter.phone,
            received_at=request.received_at,
            response_due=intake.response_due,
            updated_at=now,
            raw_input_id=raw_id,
            contract_number=entitlement.contract_number if entitlement else None,
            service_level=entitlement.service_level if entitlement else None,
            data=data,
        )
    )
    children = _Children()
    await _insert_message(intake, tx, children, request_id=request_id, raw_id=raw_id, kind="initial")
    children.serials += request.serial_numbers
    _add_outbox_rows(intake, deps, children, request_id)
    children.event(
        request_id,
        now,
        "created",
        {
            "channel": request.channel,
            "skipped_acks": list(intake.skipped_acks),
            "entitlement": entitlement.as_json() if entitlement else None,
        },
    )
    await children.write(tx, request_id)


def _complete_identifiers(
    intake: Intake, children: _Children, request_id: int, now: datetime, data: dict[str, Any]
) -> dict[str, Any] | None:
    """A reply that brings the serial or contract number we asked for completes the request: `missing` shrinks.
    The request's new data, or None when nothing changed."""
    assert intake.parsed is not None
    new = intake.parsed.request
    serials = list(dict.fromkeys([*data.get("serial_numbers", []), *new.serial_numbers]))
    contracts = list(dict.fromkeys([*data.get("contract_numbers", []), *new.contract_numbers]))
    if serials == data.get("serial_numbers") and contracts == data.get("contract_numbers"):
        return None
    children.serials += [serial for serial in serials if serial not in data.get("serial_numbers", [])]
    missing = missing_items(serials, contracts)
    children.event(
        request_id,
        now,
        "identifiers_completed",
        {"serial_numbers": serials, "contract_numbers": contracts, "missing": missing},
    )
    return {**data, "serial_numbers": serials, "contract_numbers": contracts, "missing": missing}


async def store_follow_up(intake: Intake, deps: PipelineDeps, tx: WriteTx) -> bool:
    """Adds the message to its request; escalates the request when the follow-up asks for it. True if escalated."""
    assert intake.parsed is not None and intake.follow_up_of is not None
    new = intake.parsed.request
    request_id = intake.follow_up_of.id
    raw_id = await _insert_raw(intake, tx)
    children = _Children()
    await _insert_message(intake, tx, children, request_id=request_id, raw_id=raw_id, kind="follow_up")
    now = deps.clock()
    children.event(request_id, now, "follow_up", {"channel": intake.raw.channel, "external_key": intake.external_key})
    changes: dict[str, Any] = {}
    escalated = False
    # One read of the request serves both changes a follow-up can make.
    if new.serial_numbers or new.contract_numbers or new.escalation:
        state = await tx.request_state(request_id)
        data = state.data
        if new.serial_numbers or new.contract_numbers:
            completed = _complete_identifiers(intake, children, request_id, now, data)
            if completed is not None:
                data = changes["data"] = completed
        if new.escalation and not state.escalation:
            escalated = True
            changes |= {"escalation": True, "priority": "high", "data": {**data, "escalation": True}}
            _add_outbox_rows(intake, deps, children, request_id)
            children.event(request_id, now, "escalated", {"by": "follow_up"})
    if changes:
        await tx.update_request(request_id, {**changes, "updated_at": now})
    await children.write(tx, request_id)
    return escalated
