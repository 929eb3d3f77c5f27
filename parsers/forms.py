"""Portal submissions, agent call records and Twilio SMS webhooks -> ParsedIntake.

Payload shapes: ../shared/DESIGN.md ("Portal submission body", "Phone call record", SMS webhook parameters).
Only the id of each input is required (it is the idempotency key); everything else is typed by people or by other
programs, so wrong types, nulls and extra keys are tolerated and simply yield less.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from gateway.schema import AttachmentMeta, Language, Reporter, ServiceRequest, missing_items
from parsers.autoreply import text_message_auto_reply_reason
from parsers.email import mail_text
from parsers.email.attachments import attachment_text
from parsers.identifiers import Identifiers, extract_identifiers
from parsers.language import detect_language
from parsers.phone import normalise_phone, phones_in_text
from parsers.result import ParsedAttachment, ParsedIntake, ParseError
from parsers.threading import follow_up_tag

_WHITESPACE_RE = re.compile(r"\s+")
_NON_DIGITS_RE = re.compile(r"\D")
_LANGUAGES: tuple[Language, ...] = ("pl", "en")


def _text(payload: Mapping[str, Any], key: str) -> str:
    """A string field, stripped; numbers are accepted as their text, anything else counts as empty."""
    value = payload.get(key)
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | float):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def _free_text(payload: Mapping[str, Any], key: str) -> str:
    """A free-text field; a list of lines (some portals send a description so) is joined line by line."""
    return "\n".join(_field_values(payload, key))


def _one_phone(payload: Mapping[str, Any], key: str) -> str | None:
    """The number of a phone field, also when it arrives as a list holding one number, or with a note around it
    ("601 220 419 (po 15:00)", "kom. 601 220 419"): then the one number the field holds."""
    values = _field_values(payload, key)
    if len(values) != 1:
        return None
    number = normalise_phone(values[0])
    if number is None:
        found = phones_in_text(values[0])
        number = found[0] if len(found) == 1 else None
    return number


def _field_values(payload: Mapping[str, Any], key: str) -> list[str]:
    """A form field that may also arrive as a list of values."""
    value = payload.get(key)
    if isinstance(value, list):
        return [text for item in value if (text := _text({key: item}, key))]
    text = _text(payload, key)
    return [text] if text else []


def _mapping(payload: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = payload.get(key)
    return value if isinstance(value, Mapping) else {}


def _required_id(payload: Mapping[str, Any], key: str, what: str) -> str:
    value = _text(payload, key)
    if not value:
        raise ParseError(f"{what} has no {key}: it is required (the idempotency key)")
    return value


def _decode_attachment(index: int, item: Mapping[str, Any]) -> ParsedAttachment:
    filename = _text(item, "filename") or f"attachment-{index}"
    content_type = _text(item, "content_type").lower() or "application/octet-stream"
    encoded = _WHITESPACE_RE.sub("", _text(item, "content_base64"))
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ParseError(f"attachment {index} ({filename}) is not valid base64: {exc}") from exc
    return ParsedAttachment(filename, content_type, content, hashlib.sha256(content).hexdigest())


def _attachments(payload: Mapping[str, Any]) -> tuple[ParsedAttachment, ...]:
    items = payload.get("attachments")
    if not isinstance(items, list):
        return ()
    return tuple(
        _decode_attachment(index, item) for index, item in enumerate(items, start=1) if isinstance(item, Mapping)
    )


def _readable(attachment: ParsedAttachment) -> str:
    """An attached e-mail read as one (its body may be encoded, its own attachments hold text), other attachments as
    an e-mail's are: by type, extension or content (a BOM, text under octet-stream)."""
    if attachment.content_type == "message/rfc822" or attachment.filename.lower().endswith(".eml"):
        try:
            return mail_text(attachment.content)
        except ParseError:
            pass  # empty or binary under an e-mail's name: read as any other attachment
    return attachment_text(attachment, None) or ""


def _searchable_text(free_text: Sequence[str], attachments: Sequence[ParsedAttachment]) -> str:
    """Free text, attachment file names and readable attachments, one block each (file names can carry a serial)."""
    parts = [*free_text, *(a.filename for a in attachments), *(_readable(a) for a in attachments)]
    return "\n\n".join(part for part in parts if part)


def _attachment_meta(attachments: Sequence[ParsedAttachment]) -> list[AttachmentMeta]:
    return [
        AttachmentMeta(filename=a.filename, content_type=a.content_type, size=a.size, sha256=a.sha256)
        for a in attachments
    ]


def _form_language(payload: Mapping[str, Any]) -> Language:
    value = _text(payload, "language").lower()
    return next((language for language in _LANGUAGES if language == value), "pl")


def _identifiers(payload: Mapping[str, Any], text: str) -> Identifiers:
    return extract_identifiers(
        text,
        serial_fields=_field_values(payload, "serial_number"),
        contract_fields=_field_values(payload, "contract_number"),
    )


def parse_portal(payload: Mapping[str, Any], *, received_at: datetime) -> ParsedIntake:
    """A portal submission. Language comes from the free text; the form's language field only breaks a tie."""
    submission_id = _required_id(payload, "submission_id", "portal submission")
    contact = _mapping(payload, "contact")
    subject = _free_text(payload, "subject")
    description = _free_text(payload, "description")
    attachments = _attachments(payload)
    # The product field is free text too: people put the serial next to the model ("X440-G2, S/N 2214G-00455").
    ids = _identifiers(payload, _searchable_text((subject, description, _free_text(payload, "product")), attachments))
    request = ServiceRequest(
        channel="portal",
        received_at=received_at,
        reporter=Reporter(
            name=_text(contact, "name") or None,
            email=_text(contact, "email").lower() or None,
            phone=_one_phone(contact, "phone"),
            company=_text(payload, "company") or None,
            portal_login=_text(payload, "login") or None,
        ),
        subject=subject,
        description=description,
        serial_numbers=list(ids.serial_numbers),
        contract_numbers=list(ids.contract_numbers),
        language=detect_language(f"{subject}\n{description}", default=_form_language(payload)),
        missing=missing_items(list(ids.serial_numbers), list(ids.contract_numbers)),
        attachments=_attachment_meta(attachments),
        external_id=submission_id,
    )
    return ParsedIntake(request=request, attachments=attachments, body_text=description)


def parse_phone(payload: Mapping[str, Any], *, received_at: datetime) -> ParsedIntake:
    """A call record from the agent console, the API or one row of the call-log CSV."""
    call_id = _required_id(payload, "call_id", "call record")
    notes = _free_text(payload, "notes")
    ids = _identifiers(payload, notes)
    request = ServiceRequest(
        channel="phone",
        escalation=is_escalation_line(_text(payload, "line")),
        received_at=received_at,
        reporter=Reporter(
            name=_text(payload, "caller_name") or None,
            # A call Twilio put through gives the caller's number as the network has it (see parse_sms).
            phone=normalise_phone(_text(payload, "caller_number"), carrier_given=_text(payload, "source") == "twilio"),
            company=_text(payload, "company") or None,
        ),
        description=notes,
        serial_numbers=list(ids.serial_numbers),
        contract_numbers=list(ids.contract_numbers),
        language=detect_language(notes),
        follow_up_of=follow_up_tag(_text(payload, "follow_up_of")),
        missing=missing_items(list(ids.serial_numbers), list(ids.contract_numbers)),
        external_id=call_id,
    )
    return ParsedIntake(request=request, body_text=notes)


_ESCALATION_LINE_NAMES = frozenset({"escalation", "eskalacja", "eskalacyjna", "linia eskalacyjna", "escalation line"})
_ESCALATION_LINE_DIGITS = ("48122525502", "122525502")


def is_escalation_line(line: str) -> bool:
    """The call came in on the escalation line: named so, in English or Polish, or as its number."""
    if line.strip().lower() in _ESCALATION_LINE_NAMES:
        return True
    digits = _NON_DIGITS_RE.sub("", line)
    return digits.lstrip("0") in _ESCALATION_LINE_DIGITS if digits else False


def parse_sms(payload: Mapping[str, Any], *, received_at: datetime) -> ParsedIntake:
    """Twilio inbound-SMS webhook parameters (all values strings)."""
    sid = _required_id(payload, "MessageSid", "SMS webhook")
    body = _free_text(payload, "Body")
    ids = extract_identifiers(body)
    auto_reason = text_message_auto_reply_reason(body)
    request = ServiceRequest(
        channel="sms",
        received_at=received_at,
        reporter=Reporter(phone=normalise_phone(_text(payload, "From"), carrier_given=True)),
        description=body,
        serial_numbers=list(ids.serial_numbers),
        contract_numbers=list(ids.contract_numbers),
        language=detect_language(body),
        follow_up_of=follow_up_tag(body),
        auto_submitted=auto_reason is not None,
        missing=missing_items(list(ids.serial_numbers), list(ids.contract_numbers)),
        external_id=sid,
    )
    return ParsedIntake(request=request, body_text=body, notes=(f"automatic: {auto_reason}",) if auto_reason else ())
