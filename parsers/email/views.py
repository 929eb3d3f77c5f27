"""Which text feeds which field. The rule that matters most in this package, so it is written in one place:

- identifiers  <- everything: subject, own words, quoted and forwarded history, enclosed messages, attachment texts
                  and attachment file names (a serial is a serial wherever the reporter put it);
- phone        <- the reporter's own words and signature only (a quoted footer holds our hotline, a forwarded
                  mail the end user's number);
- language     <- the reporter's own words only; the subject, then the whole text when they wrote nothing;
- description  <- the reporter's own words without signature; the whole body when they wrote nothing (a bare
                  forward), so the desk still reads the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from parsers.email.cleanup import clean_text
from parsers.email.quotes import BodySplit
from parsers.email.structure import MailContent


@dataclass(frozen=True)
class TextViews:
    own: str
    description: str
    phone: str
    language: str
    identifiers: str
    whole: str


def _joined(texts: list[str]) -> str:
    return "\n\n".join(stripped for text in texts if (stripped := clean_text(text).strip()))


def _joined_again(texts: list[str]) -> str:
    """What _joined gives for texts that _joined made: they are clean and stripped already (cleaning twice changes
    nothing), so only the empty ones are left out."""
    return "\n\n".join(text for text in texts if text)


def build_views(subject: str, content: MailContent, split: Callable[[str], BodySplit]) -> TextViews:
    body = _joined(content.body)
    parts = split(body)
    enclosed = _joined(content.enclosed)
    whole = _joined_again([body, enclosed])
    identifiers = _joined_again([_joined([subject]), whole, _joined(content.attachment_texts)])
    language = parts.own or parts.signature or subject or whole
    return TextViews(
        own=parts.own,
        description=parts.own or body or enclosed,
        phone=parts.own_with_signature,
        language=language,
        identifiers=identifiers,
        whole=whole,
    )
