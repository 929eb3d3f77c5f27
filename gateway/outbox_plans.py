"""Who gets an acknowledgement, and which notifications a stored request starts. Pure decisions.

Each skipped acknowledgement is recorded on the request with its reason, so the desk can see why nobody was told.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from gateway.schema import ServiceRequest

_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


@dataclass(frozen=True)
class OutboxPlan:
    """One row to add to the outbox in the intake transaction."""

    kind: str  # ack_email, ack_sms, escalation_email, escalation_webhook
    recipient: str
    message_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AckPlan:
    rows: tuple[OutboxPlan, ...]
    skipped: tuple[str, ...]


def new_message_id(reference: str, domain: str) -> str:
    """Fixed when the outbox row is created, so a resend after a crash carries the same Message-ID."""
    return f"{reference}.{uuid.uuid4().hex[:16]}@{domain}"


def is_mobile(e164: str) -> bool:
    try:
        return phonenumbers.number_type(phonenumbers.parse(e164, None)) in _MOBILE_TYPES
    except phonenumbers.NumberParseException:
        return False


def plan_acknowledgement(
    request: ServiceRequest, *, reference: str, own_addresses: Collection[str], domain: str
) -> AckPlan:
    """The acknowledgement for a new request: e-mail where we have an address, SMS to a mobile for phone/SMS."""
    if request.auto_submitted:
        return AckPlan((), ("auto_submitted",))
    email = (request.reporter.email or "").lower()
    phone = request.reporter.phone
    rows: list[OutboxPlan] = []
    skipped: list[str] = []
    if request.channel in ("phone", "sms") and phone:
        if is_mobile(phone):
            rows.append(OutboxPlan("ack_sms", phone, None, {"fallback_email": email or None}))
        else:
            skipped.append("phone_not_mobile")
    if not rows and email:
        if email in own_addresses or email.endswith(f"@{domain}"):
            # Our own address answering itself would be a mail loop.
            skipped.append("own_address")
        else:
            rows.append(OutboxPlan("ack_email", email, new_message_id(reference, domain), {"fallback_phone": phone}))
    if not rows and not skipped:
        skipped.append("no_contact")
    return AckPlan(tuple(rows), tuple(skipped))


def plan_escalation_notices(*, notify: Collection[str], webhook_url: str) -> tuple[OutboxPlan, ...]:
    rows = [OutboxPlan("escalation_email", address) for address in notify]
    if webhook_url:
        rows.append(OutboxPlan("escalation_webhook", webhook_url))
    return tuple(rows)
