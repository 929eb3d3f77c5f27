"""Raw RFC 5322 bytes -> ParsedIntake.

Each decision lives in its own module: decode (bytes to a tree), headers (decoded header fields), structure (MIME
walk), charset, html_text, attachments, quotes (own words vs history), views (which text feeds which field).
This function only calls them in order. It never raises for bad mail; only input that is no e-mail at all
raises ParseError.
"""

from __future__ import annotations

from datetime import datetime

from gateway.schema import AttachmentMeta, Mailbox, Reporter, ServiceRequest, missing_items
from parsers.autoreply import auto_reply_reason
from parsers.email.decode import read_message
from parsers.email.headers import HeaderView, first_address, message_ids
from parsers.email.quotes import split_body
from parsers.email.structure import read_structure
from parsers.email.views import TextViews, build_views
from parsers.identifiers import MaskedText, extract_identifiers, masked_lookalikes
from parsers.language import detect_language
from parsers.phone import reporter_phone_in_text
from parsers.result import ParsedIntake
from parsers.threading import strip_reply_prefixes, subject_asks_escalation, subject_follow_up_tag

__all__ = ["mail_text", "parse_email"]


def _thread_ids(headers: HeaderView) -> tuple[str, ...]:
    """In-Reply-To first, then References from the newest back, without duplicates."""
    ids = [*message_ids(headers.raw("in-reply-to")), *reversed(message_ids(headers.raw("references")))]
    return tuple(dict.fromkeys(ids))


def _reporter(headers: HeaderView, views: TextViews, lookalikes: MaskedText) -> Reporter:
    # Reply-To is where answers go, not who wrote: a form or a colleague may be named there.
    name, address = first_address(headers.text("from") or headers.text("sender"))
    phone = reporter_phone_in_text(views.phone, lookalikes)
    return Reporter(name=name or None, email=address.lower() or None, phone=phone)


def _is_reply(headers: HeaderView, subject: str) -> bool:
    return headers.has("in-reply-to") or headers.has("references") or strip_reply_prefixes(subject) != subject


def mail_text(raw: bytes) -> str:
    """Everything readable in an e-mail where identifiers are sought: subject, body, enclosed messages, attachment
    texts and file names (an e-mail attached to a portal submission). ParseError for input that is no e-mail."""
    message, headers = read_message(raw)
    return build_views(headers.text("subject"), read_structure(message), split_body).identifiers


def parse_email(raw: bytes, *, mailbox: Mailbox, received_at: datetime) -> ParsedIntake:
    """Parse one received e-mail; `mailbox` is where it arrived, `received_at` when."""
    message, headers = read_message(raw)
    content = read_structure(message)
    subject = headers.text("subject")
    views = build_views(subject, content, split_body)
    # The reporter's own text usually stands whole in the identifier text: its look-alike mask is shared.
    lookalikes = masked_lookalikes(views.identifiers)
    ids = extract_identifiers(views.identifiers, lookalikes=lookalikes)
    reporter = _reporter(headers, views, lookalikes)
    auto_reason = auto_reply_reason(
        headers,
        content_type=content.content_type,
        sender=reporter.email or "",
        subject=subject,
        own_text=views.own,
        is_reply=_is_reply(headers, subject),
    )
    message_id = next(iter(message_ids(headers.raw("message-id"))), None) or headers.raw("message-id") or None
    request = ServiceRequest(
        channel="email",
        mailbox=mailbox,
        escalation=mailbox == "escalation" or subject_asks_escalation(subject),
        received_at=received_at,
        reporter=reporter,
        subject=subject,
        description=views.description,
        serial_numbers=list(ids.serial_numbers),
        contract_numbers=list(ids.contract_numbers),
        language=detect_language(views.language),
        auto_submitted=auto_reason is not None,
        follow_up_of=subject_follow_up_tag(subject),
        missing=missing_items(list(ids.serial_numbers), list(ids.contract_numbers)),
        attachments=[
            AttachmentMeta(filename=a.filename, content_type=a.content_type, size=a.size, sha256=a.sha256)
            for a in content.attachments
        ],
        external_id=message_id,
    )
    notes = (*content.notes, *([f"automatic mail: {auto_reason}"] if auto_reason else []))
    return ParsedIntake(
        request=request,
        message_id=message_id,
        thread_ids=_thread_ids(headers),
        attachments=tuple(content.attachments),
        body_text=views.whole,
        notes=notes,
    )
