"""Acknowledgement, escalation notice and SLA warning as `EmailMessage` objects, ready for the relay or a .eml file.

Headers are only ever set through `EmailMessage` item assignment with header-registry values under a policy that
refuses CR/LF (see `gateway.ack.headers` for why the text is cleaned first anyway).
"""

from __future__ import annotations

import email.policy
from collections.abc import Sequence
from datetime import UTC, datetime
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

from gateway.ack.context import DEFAULT_CONTACTS, AckContext, ServiceContacts
from gateway.ack.headers import (
    DEFAULT_SUBJECT,
    mailbox,
    normalise_message_id,
    one_line,
    reference_chain,
    tagged_subject,
)
from gateway.ack.templating import render
from gateway.schema import Language

SlaStage = Literal["due_soon", "breached"]


class _HeaderClasses(HeaderRegistry):
    """The stdlib registry, with each header's class made once.

    The stdlib builds a new class (`type(...)`) for every header it stores: that was the largest single cost of
    composing an acknowledgement. The class depends only on the header name, so one per name is the same thing.
    """

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


# SMTP = the default policy with CRLF line ends; its header_store_parse raises on CR/LF in any header value.
MAIL_POLICY = email.policy.SMTP.clone(header_factory=_HeaderClasses())
SENDER_NAME: dict[Language, str] = {"pl": "myHEZO Serwis", "en": "myHEZO Service"}
GATEWAY_NAME = "myHEZO"
_ESCALATION_SUBJECT: dict[Language, str] = {"pl": "Eskalacja", "en": "Escalation"}
_SLA_SUBJECT: dict[Language, dict[SlaStage, str]] = {
    "pl": {"due_soon": "SLA: {minutes} min do terminu odpowiedzi", "breached": "SLA: termin odpowiedzi przekroczony"},
    "en": {"due_soon": "SLA: {minutes} min to the response deadline", "breached": "SLA: response deadline breached"},
}


def render_ack_email(
    ctx: AckContext,
    *,
    from_address: str,
    to_address: str,
    message_id: str,
    in_reply_to: str | None,
    references: Sequence[str],
    original_subject: str,
    date: datetime | None = None,
    templates_dir: Path | str | None = None,
    contacts: ServiceContacts = DEFAULT_CONTACTS,
) -> EmailMessage:
    """The acknowledgement to the reporter: text and HTML alternatives, threaded under their message.

    `from_address` is the mailbox that received the request (also Reply-To, so answers come back to it);
    `message_id` is ours, made by the caller on our own domain; `in_reply_to` and `references` are the reporter's
    Message-ID and References (unusable ids are dropped, not fatal). `date` defaults to now.
    """
    sender = mailbox(from_address, SENDER_NAME[ctx.language])
    message = new_message(
        subject=tagged_subject(ctx.reference, original_subject, ctx.language),
        sender=sender,
        recipients=[mailbox(to_address, ctx.reporter_name)],
        message_id=message_id,
        date=date,
        reference=ctx.reference,
        # RFC 3834: an automatic answer to a message; well-behaved responders do not answer it again.
        auto_submitted="auto-replied",
    )
    message["Reply-To"] = sender
    parent = normalise_message_id(in_reply_to)
    if parent:
        message["In-Reply-To"] = parent
    chain = reference_chain(references, in_reply_to)
    if chain:
        message["References"] = " ".join(chain)
    text = render("email.txt.j2", ctx, templates_dir=templates_dir, contacts=contacts)
    html = render("email.html.j2", ctx, templates_dir=templates_dir, contacts=contacts)
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    # Set after add_alternative, which moves every Content-* header of the top level into the first part.
    message["Content-Language"] = ctx.language
    return message


def render_escalation_notice(
    ctx: AckContext,
    *,
    from_address: str,
    to_addresses: Sequence[str],
    message_id: str,
    language: Language = "pl",
    date: datetime | None = None,
    templates_dir: Path | str | None = None,
    contacts: ServiceContacts = DEFAULT_CONTACTS,
) -> EmailMessage:
    """Plain-text, link-free notice to the escalation team: who, what, which serial and contract, by when."""
    subject = f"[{ctx.reference}] {_ESCALATION_SUBJECT[language]}: {ctx.subject or DEFAULT_SUBJECT[language]}"
    text = render("escalation_notify.txt.j2", ctx, language=language, templates_dir=templates_dir, contacts=contacts)
    return _notification(ctx, subject, text, from_address, to_addresses, message_id, language, date)


def render_sla_warning(
    ctx: AckContext,
    *,
    stage: SlaStage,
    from_address: str,
    to_addresses: Sequence[str],
    message_id: str,
    minutes_left: int = 15,
    language: Language = "pl",
    date: datetime | None = None,
    templates_dir: Path | str | None = None,
    contacts: ServiceContacts = DEFAULT_CONTACTS,
) -> EmailMessage:
    """Desk warning: the request is `minutes_left` from its response deadline (`due_soon`) or past it (`breached`)."""
    subject = f"[{ctx.reference}] {_SLA_SUBJECT[language][stage].format(minutes=minutes_left)}"
    text = render(
        "sla_warning.txt.j2",
        ctx,
        language=language,
        templates_dir=templates_dir,
        contacts=contacts,
        stage=stage,
        minutes_left=minutes_left,
    )
    return _notification(ctx, subject, text, from_address, to_addresses, message_id, language, date)


def _notification(
    ctx: AckContext,
    subject: str,
    text: str,
    from_address: str,
    to_addresses: Sequence[str],
    message_id: str,
    language: Language,
    date: datetime | None,
) -> EmailMessage:
    if not to_addresses:
        raise ValueError("a notification needs at least one recipient")
    message = new_message(
        subject=one_line(subject),
        sender=mailbox(from_address, GATEWAY_NAME),
        recipients=[mailbox(address) for address in to_addresses],
        message_id=message_id,
        date=date,
        reference=ctx.reference,
        # RFC 3834: generated by the gateway, not an answer to anyone; nobody should auto-reply to it.
        auto_submitted="auto-generated",
    )
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message["Content-Language"] = language
    return message


def new_message(
    *,
    subject: str,
    sender: Address,
    recipients: Sequence[Address],
    message_id: str,
    date: datetime | None,
    reference: str,
    auto_submitted: Literal["auto-replied", "auto-generated"],
) -> EmailMessage:
    """A message of ours with its headers set: every mail the gateway writes starts here."""
    own_id = normalise_message_id(message_id)
    if own_id is None:
        raise ValueError(f"message_id must look like <unique@our.domain>, got {message_id!r}")
    sent_at = date if date is not None else datetime.now(UTC)
    if sent_at.utcoffset() is None:
        raise ValueError("date must be a timezone-aware datetime")
    message = EmailMessage(policy=MAIL_POLICY)
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = tuple(recipients)
    message["Date"] = sent_at
    message["Message-ID"] = own_id
    message["Auto-Submitted"] = auto_submitted
    # Exchange/Outlook ignore Auto-Submitted; this stops their out-of-office answers to us (mail loops).
    message["X-Auto-Response-Suppress"] = "All"
    message["X-HEZO-Reference"] = reference
    return message
