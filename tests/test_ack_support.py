"""Shared builders for the acknowledgement tests (no tests of its own; named to sit with them)."""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from gateway.ack import AckContext
from gateway.schema import Reporter, ServiceRequest
from gateway.sla import due

RECEIVED = datetime.fromisoformat("2026-12-23T16:30:00+01:00")
REFERENCE = "HZ-2026-000123"
INJECTION = "x\r\nBcc: victim@example.com"


def make_request(**overrides: Any) -> ServiceRequest:
    fields: dict[str, Any] = {
        "channel": "email",
        "mailbox": "pomoc",
        "received_at": RECEIVED,
        "reporter": Reporter(name="Jan Kowalski", email="jan@example.pl", phone="+48601234567", company="Example"),
        "subject": "Switch X465 nie działa",
        "description": "Po restarcie brak linku.",
        "serial_numbers": ["SN123456"],
        "contract_numbers": [],
        "missing": ["contract_number"],
        "language": "pl",
    }
    fields.update(overrides)
    return ServiceRequest(**fields)


def make_context(*, replacement: bool = False, with_due: bool = True, **overrides: Any) -> AckContext:
    request = make_request(**overrides)
    return AckContext.from_request(
        request,
        reference=REFERENCE,
        response_due=due(request.received_at, "8x5") if with_due else None,
        window="8x5",
        replacement=replacement,
    )


def reparse(message: EmailMessage) -> EmailMessage:
    """What a receiving mail server would see: the rendered bytes parsed back."""
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def body_text(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert isinstance(part, EmailMessage)
    content = part.get_content()
    assert isinstance(content, str)
    return content
