"""Turns an outbox row and its request into what is sent. Pure: the dispatcher passes in everything it needs."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from gateway.ack import (
    AckContext,
    SlaStage,
    render_ack_email,
    render_ack_sms,
    render_escalation_notice,
    render_sla_warning,
)
from gateway.contracts.levels import default_levels
from gateway.contracts.notices import render_return_overdue, render_return_reminder
from gateway.outbox.queue import OutboxRow
from gateway.outbox_plans import is_mobile, new_message_id
from gateway.schema import ServiceRequest
from gateway.sla import Window


def ack_context(request: dict[str, Any], window: Window) -> AckContext:
    """`window` is the fallback; the request's own contract (its entitlement) decides when it has one."""
    model = ServiceRequest.model_validate(request["data"])
    entitlement = request["data"].get("entitlement") or {}
    level = default_levels().find(entitlement.get("service_level"))
    return AckContext.from_request(
        model,
        reference=request["reference"],
        response_due=request["response_due"],
        window=entitlement.get("window") or window,
        replacement=level.replacement if level else False,
        entitlement=entitlement,
    )


def compose_email(
    row: OutboxRow,
    request: dict[str, Any],
    *,
    from_address: str,
    notify_from: str,
    window: Window,
    now: datetime,
    templates_dir: Path | None = None,
) -> EmailMessage:
    """`templates_dir`: `[ack] templates_dir`, or None for the templates that come with the gateway."""
    ctx = ack_context(request, window)
    message_id = row.message_id or new_message_id(ctx.reference, from_address.rpartition("@")[2] or "myhezo.pl")
    if row.kind == "ack_email":
        return render_ack_email(
            ctx,
            from_address=from_address,
            to_address=row.recipient,
            message_id=message_id,
            in_reply_to=row.payload.get("in_reply_to"),
            references=row.payload.get("thread_ids") or [],
            original_subject=ctx.subject,
            date=now,
            templates_dir=templates_dir,
        )
    if row.kind == "escalation_email":
        return render_escalation_notice(
            ctx,
            from_address=notify_from,
            to_addresses=[row.recipient],
            message_id=message_id,
            date=now,
            templates_dir=templates_dir,
        )
    if row.kind in ("sla_due_soon", "sla_breached"):
        stage: SlaStage = "due_soon" if row.kind == "sla_due_soon" else "breached"
        return render_sla_warning(
            ctx,
            stage=stage,
            from_address=notify_from,
            to_addresses=[row.recipient],
            message_id=message_id,
            date=now,
            templates_dir=templates_dir,
        )
    if row.kind in ("return_reminder", "return_overdue"):
        due = datetime.fromisoformat(row.payload["return_due"])
        delivered_at = row.payload.get("delivered_at")
        delivered = datetime.fromisoformat(delivered_at) if delivered_at else None
        if row.kind == "return_reminder":
            return render_return_reminder(
                ctx,
                return_due=due,
                delivered_at=delivered,
                from_address=from_address,
                to_address=row.recipient,
                message_id=message_id,
                date=now,
                templates_dir=templates_dir,
            )
        return render_return_overdue(
            ctx,
            return_due=due,
            delivered_at=delivered,
            from_address=notify_from,
            to_addresses=[row.recipient],
            message_id=message_id,
            date=now,
        )
    raise ValueError(f"no e-mail composition for outbox kind {row.kind!r}")


def compose_sms(request: dict[str, Any], window: Window, templates_dir: Path | None = None) -> str:
    return render_ack_sms(ack_context(request, window), templates_dir=templates_dir)


def webhook_payload(row: OutboxRow, request: dict[str, Any]) -> dict[str, Any]:
    data = request["data"]
    return {
        "event": "escalation",
        "reference": request["reference"],
        "channel": data.get("channel"),
        "mailbox": data.get("mailbox"),
        "reporter": data.get("reporter"),
        "subject": data.get("subject"),
        "serial_numbers": data.get("serial_numbers"),
        "contract_numbers": data.get("contract_numbers"),
        "response_due": request["response_due"],
    }


def fallback_for(row: OutboxRow, request: dict[str, Any], *, domain: str) -> dict[str, Any] | None:
    """SMS failed → e-mail if the reporter has one; e-mail failed → SMS to a mobile. Never a fallback of a fallback."""
    if row.payload.get("fallback_of"):
        return None
    reporter = request["data"].get("reporter") or {}
    if row.kind == "ack_sms" and reporter.get("email"):
        return {
            "kind": "ack_email",
            "recipient": reporter["email"],
            "payload": {"fallback_of": row.id},
            "message_id": new_message_id(request["reference"], domain),
        }
    if row.kind == "ack_email" and reporter.get("phone") and is_mobile(reporter["phone"]):
        return {
            "kind": "ack_sms",
            "recipient": reporter["phone"],
            "payload": {"fallback_of": row.id},
            "message_id": None,
        }
    return None
