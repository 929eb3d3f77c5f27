"""The SMS acknowledgement and SMS segment arithmetic (GSM 03.38 / UCS-2)."""

from __future__ import annotations

from pathlib import Path

from gateway.ack.context import DEFAULT_CONTACTS, AckContext, ServiceContacts
from gateway.ack.templating import render

MAX_SEGMENTS = 2

# GSM 03.38 default alphabet (ESC, 0x1B, left out: it only introduces the extension table).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each costs an escape plus the character, two septets.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

_GSM7_SINGLE, _GSM7_MULTI = 160, 153  # septets; a multipart SMS spends 7 on its concatenation header
_UCS2_SINGLE, _UCS2_MULTI = 70, 67  # UTF-16 code units

_DETAIL_LEVELS = ("full", "brief", "minimal")  # serial/contract lists and deadline → deadline only → neither


def is_gsm7(text: str) -> bool:
    """Whether `text` can be sent in the GSM 7-bit alphabet (with the extension table)."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def sms_segments(text: str) -> int:
    """How many SMS segments `text` takes (an empty message still takes one).

    GSM-7 when every character allows it (extension characters cost two septets), otherwise UCS-2. Across
    segments an escape pair, or a UTF-16 surrogate pair, is never split, as real encoders do.
    """
    if is_gsm7(text):
        units = [2 if c in GSM7_EXTENSION else 1 for c in text]
        single, multi = _GSM7_SINGLE, _GSM7_MULTI
    else:
        units = [2 if ord(c) > 0xFFFF else 1 for c in text]
        single, multi = _UCS2_SINGLE, _UCS2_MULTI
    if sum(units) <= single:
        return 1
    segments, used = 1, 0
    for size in units:
        if used + size > multi:
            segments, used = segments + 1, 0
        used += size
    return segments


def render_ack_sms(
    ctx: AckContext,
    templates_dir: Path | str | None = None,
    *,
    contacts: ServiceContacts = DEFAULT_CONTACTS,
    max_segments: int = MAX_SEGMENTS,
) -> str:
    """The acknowledgement SMS, shortened until it fits in `max_segments`.

    Polish needs UCS-2 (67 characters a segment), so long serial or contract lists are dropped first, then the
    deadline; the reference, what is missing and the escalation number always stay.
    """
    text = ""
    for detail in _DETAIL_LEVELS:
        rendered = render("sms.txt.j2", ctx, templates_dir=templates_dir, contacts=contacts, detail=detail)
        text = " ".join(rendered.split())
        if sms_segments(text) <= max_segments:
            return text
    return _cut_to_fit(text, max_segments)


def _cut_to_fit(text: str, max_segments: int) -> str:
    # Only reachable with unusual contacts or templates: better a cut message than none.
    while text and sms_segments(text) > max_segments:
        text = text[:-2] + "…"
    return text
