"""Pure parsing: raw input in, ParsedIntake out. No I/O anywhere below this package."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from gateway.schema import Channel, Mailbox
from parsers.email import parse_email
from parsers.forms import parse_phone, parse_portal, parse_sms
from parsers.result import ParsedAttachment, ParsedIntake, ParseError

__all__ = [
    "ParseError",
    "ParsedAttachment",
    "ParsedIntake",
    "parse_bytes",
    "parse_email",
    "parse_phone",
    "parse_portal",
    "parse_sms",
]


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ParseError("expected a JSON object")
    return value


def parse_bytes(raw: bytes, *, channel: Channel, mailbox: Mailbox | None, received_at: datetime) -> ParsedIntake:
    """Parse one stored raw input of any channel: email is RFC 5322 bytes, the others JSON objects."""
    if channel == "email":
        return parse_email(raw, mailbox=mailbox or "pomoc", received_at=received_at)
    payload = _json_object(raw)
    if channel == "portal":
        return parse_portal(payload, received_at=received_at)
    if channel == "phone":
        return parse_phone(payload, received_at=received_at)
    return parse_sms(payload, received_at=received_at)
