"""The write step: raw input, request or follow-up message, attachments, thread ids and outbox rows, in one go."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gateway.outbox_plans import OutboxPlan
from gateway.schema import missing_items
from gateway.store import WriteTx
from parsers.vendor_cases import vendor_cases

if TYPE_CHECKING:
    from gateway.steps import Intake, PipelineDeps


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


async def _insert_message(intake: Intake, tx: WriteTx, *, request_id: int, raw_id: int, kind: str) -> int:
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
    for attachment in intake.parsed.attachments:
        await tx.insert_attachment(
            dict(
                request_id=request_id,
                message_row_id=message_row,
                filename=attachment.filename,
                content_type=attachment.content_type,
                size=attachment.size,
                sha256=attachment.sha256,
            )
        )
    if intake.parsed.message_id:
        await tx.remember_thread_id(intake.parsed.message_id, request_id, "in")
    return message_row


async def _insert_outbox(intake: Intake, deps: PipelineDeps, tx: WriteTx, request_id: int) -> None:
    now = deps.clock()
    for row in intake.outbox:
        await tx.insert_outbox(
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
            await tx.remember_thread_id(row.message_id, request_id, "out")


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
    await _insert_message(intake, tx, request_id=request_id, raw_id=raw_id, kind="initial")
    for serial in request.serial_numbers:
        await tx.insert_request_serial(request_id, serial)
    await _insert_outbox(intake, deps, tx, request_id)
    await tx.insert_event(
        request_id=request_id,
        at=now,
        actor="gateway",
        kind="created",
        detail={
            "channel": request.channel,
            "skipped_acks": list(intake.skipped_acks),
            "entitlement": entitlement.as_json() if entitlement else None,
        },
    )


async def _complete_identifiers(intake: Intake, tx: WriteTx, request_id: int, now: datetime) -> None:
    """A reply that brings the serial or contract number we asked for completes the request: `missing` shrinks."""
    assert intake.parsed is not None
    new = intake.parsed.request
    if not new.serial_numbers and not new.contract_numbers:
        return
    data = await tx.request_data(request_id)
    serials = list(dict.fromkeys([*data.get("serial_numbers", []), *new.serial_numbers]))
    contracts = list(dict.fromkeys([*data.get("contract_numbers", []), *new.contract_numbers]))
    if serials == data.get("serial_numbers") and contracts == data.get("contract_numbers"):
        return
    for serial in serials:
        if serial not in data.get("serial_numbers", []):
            await tx.insert_request_serial(request_id, serial)
    missing = missing_items(serials, contracts)
    updated = {**data, "serial_numbers": serials, "contract_numbers": contracts, "missing": missing}
    await tx.update_request(request_id, {"data": updated, "updated_at": now})
    await tx.insert_event(
        request_id=request_id,
        at=now,
        actor="gateway",
        kind="identifiers_completed",
        detail={"serial_numbers": serials, "contract_numbers": contracts, "missing": missing},
    )


async def store_follow_up(intake: Intake, deps: PipelineDeps, tx: WriteTx) -> bool:
    """Adds the message to its request; escalates the request when the follow-up asks for it. True if escalated."""
    assert intake.parsed is not None and intake.follow_up_of is not None
    request_id = intake.follow_up_of.id
    raw_id = await _insert_raw(intake, tx)
    await _insert_message(intake, tx, request_id=request_id, raw_id=raw_id, kind="follow_up")
    now = deps.clock()
    await tx.insert_event(
        request_id=request_id,
        at=now,
        actor="gateway",
        kind="follow_up",
        detail={"channel": intake.raw.channel, "external_key": intake.external_key},
    )
    await _complete_identifiers(intake, tx, request_id, now)
    if not intake.parsed.request.escalation or await tx.is_escalated(request_id):
        return False
    data = await tx.request_data(request_id)
    await tx.update_request(
        request_id, {"escalation": True, "priority": "high", "updated_at": now, "data": {**data, "escalation": True}}
    )
    await _insert_outbox(intake, deps, tx, request_id)
    await tx.insert_event(request_id=request_id, at=now, actor="gateway", kind="escalated", detail={"by": "follow_up"})
    return True
