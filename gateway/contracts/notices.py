"""The return reminder to the reporter and the overdue notice to the desk, as `EmailMessage` objects. Pure.

The reminder text comes from templates/ack/<language>/return_reminder.txt.j2 (rendered through the acknowledgement
templating, so it sees the same context and contacts); the desk notice is three lines of Polish or English.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from gateway.ack.context import DEFAULT_CONTACTS, AckContext, ServiceContacts, local_time
from gateway.ack.headers import mailbox, one_line, tagged_subject
from gateway.ack.mail import GATEWAY_NAME, SENDER_NAME, new_message
from gateway.ack.templating import render
from gateway.schema import Language

_REMINDER_SUBJECT: dict[Language, str] = {
    "pl": "Przypomnienie: zwrot uszkodzonego urządzenia do {due}",
    "en": "Reminder: return the failed device by {due}",
}
_OVERDUE_SUBJECT: dict[Language, str] = {
    "pl": "Zwrot uszkodzonego urządzenia po terminie",
    "en": "Failed device not returned in time",
}
_OVERDUE_TEXT: dict[Language, str] = {
    "pl": (
        "Zgłoszenie {reference}: uszkodzone urządzenie ({serials}) nie wróciło w terminie.\n"
        "Dostawa urządzenia zastępczego: {delivered}; termin zwrotu: {due} (czasu polskiego).\n"
        "Zgłaszający: {reporter}.\n\nWiadomość wygenerowana automatycznie przez bramkę zgłoszeń myHEZO.\n"
    ),
    "en": (
        "Service request {reference}: the failed device ({serials}) was not returned in time.\n"
        "Replacement delivered: {delivered}; return due: {due} (Warsaw time).\n"
        "Reporter: {reporter}.\n\nGenerated automatically by the myHEZO intake gateway.\n"
    ),
}


def render_return_reminder(
    ctx: AckContext,
    *,
    return_due: datetime,
    delivered_at: datetime | None,
    from_address: str,
    to_address: str,
    message_id: str,
    date: datetime | None = None,
    templates_dir: Path | str | None = None,
    contacts: ServiceContacts = DEFAULT_CONTACTS,
) -> EmailMessage:
    """Day-5 reminder to the reporter: return the failed device on the prepaid bill of lading by `return_due`.

    The subject carries the `[HZ-…]` tag, so an answer (with the parcel number) becomes a follow-up of the request.
    """
    lang = ctx.language
    due_text = local_time(return_due, lang) or ""
    text = render(
        "return_reminder.txt.j2",
        ctx,
        templates_dir=templates_dir,
        contacts=contacts,
        return_due=due_text,
        delivered=local_time(delivered_at, lang),
    )
    subject = tagged_subject(ctx.reference, _REMINDER_SUBJECT[lang].format(due=due_text), lang)
    sender = mailbox(from_address, SENDER_NAME[lang])
    message = new_message(
        subject=one_line(subject),
        sender=sender,
        recipients=[mailbox(to_address)],
        message_id=message_id,
        date=date,
        reference=ctx.reference,
        auto_submitted="auto-generated",  # RFC 3834: a reminder of ours, no answer to anyone
    )
    message["Reply-To"] = sender
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message["Content-Language"] = lang
    return message


def render_return_overdue(
    ctx: AckContext,
    *,
    return_due: datetime,
    delivered_at: datetime | None,
    from_address: str,
    to_addresses: Sequence[str],
    message_id: str,
    language: Language = "pl",
    date: datetime | None = None,
) -> EmailMessage:
    """Desk notice: the failed device of a replacement has not come back by its return date."""
    if not to_addresses:
        raise ValueError("a notification needs at least one recipient")
    reporter = ", ".join(p for p in (ctx.reporter_name, ctx.reporter_email, ctx.reporter_phone) if p) or "—"
    text = _OVERDUE_TEXT[language].format(
        reference=ctx.reference,
        serials=", ".join(ctx.serial_numbers) or "—",
        delivered=local_time(delivered_at, language) or "—",
        due=local_time(return_due, language),
        reporter=reporter,
    )
    subject = f"[{ctx.reference}] {_OVERDUE_SUBJECT[language]}"
    sender = mailbox(from_address, GATEWAY_NAME)
    message = new_message(
        subject=one_line(subject),
        sender=sender,
        recipients=[mailbox(address) for address in to_addresses],
        message_id=message_id,
        date=date,
        reference=ctx.reference,
        auto_submitted="auto-generated",
    )
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message["Content-Language"] = language
    return message
