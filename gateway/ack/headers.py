"""Making untrusted text safe for e-mail headers, and the subject tag.

Everything a reporter typed (subject, name, the Message-IDs their client chose) is untrusted. A CR or LF in a header
value would let them append headers of their own (a `Bcc:` turns our acknowledgement into a spam relay), and bidi
overrides let them disguise what the desk reads. So header text is reduced to one clean line here, and the message
itself is built with `email.headerregistry` under a policy that refuses linefeeds, never by string concatenation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.headerregistry import Address

from gateway.schema import REFERENCE_RE, Language

# C0/C1 controls, line/paragraph separators (str.splitlines() breaks on them), bidi embeddings/overrides/isolates
# and the BOM. Removing them can never change what a legitimate subject or name means.
_UNSAFE_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
# Printable ASCII without spaces or angle brackets, the shape RFC 5322 gives a msg-id between its brackets.
_MESSAGE_ID = re.compile(r"<([\x21-\x3b\x3d\x3f-\x7e]{1,250})>")

SUBJECT_MAX_CHARS = 200
NAME_MAX_CHARS = 100
REFERENCES_KEPT = 20
DEFAULT_SUBJECT: dict[Language, str] = {"pl": "Zgłoszenie serwisowe", "en": "Service request"}


def one_line(value: str | None, max_chars: int = SUBJECT_MAX_CHARS) -> str:
    """`value` as a single line without control characters, whitespace collapsed, cut at `max_chars`."""
    if not value:
        return ""
    cleaned = " ".join(_UNSAFE_CHARACTERS.sub(" ", value).split())
    if len(cleaned) > max_chars:
        cleaned = cleaned[: max_chars - 1].rstrip() + "…"
    return cleaned


def require_reference(reference: str) -> str:
    """Our own reference, checked anyway: it goes into subjects and headers."""
    if not REFERENCE_RE.fullmatch(reference):
        raise ValueError(f"not a request reference (HZ-<year>-<6 digits>): {reference!r}")
    return reference


def tagged_subject(reference: str, original_subject: str | None, language: Language) -> str:
    """`[HZ-2026-000123] <original subject>`; a subject already carrying this tag is left as it is (Re: included)."""
    tag = f"[{require_reference(reference)}]"
    subject = one_line(original_subject) or DEFAULT_SUBJECT[language]
    if re.search(rf"\[\s*{re.escape(reference)}\s*\]", subject, flags=re.IGNORECASE):
        return subject
    return f"{tag} {subject}"


def mailbox(addr_spec: str, display_name: str | None = None) -> Address:
    """An address object; `Address` itself refuses CR/LF, the display name is cleaned first so it never has to."""
    return Address(display_name=one_line(display_name, NAME_MAX_CHARS), addr_spec=one_line(addr_spec, 254))


def normalise_message_id(value: str | None) -> str | None:
    """`<id@host>` or None when `value` is not a usable msg-id (a broken id must not stop an acknowledgement)."""
    if not value:
        return None
    cleaned = one_line(value, 1000).strip()
    if not cleaned.startswith("<"):
        cleaned = f"<{cleaned}>"
    return cleaned if _MESSAGE_ID.fullmatch(cleaned) else None


def reference_chain(references: Iterable[str], in_reply_to: str | None) -> list[str]:
    """The References of a reply (RFC 5322 3.6.4): the parent's References then the parent's own Message-ID.

    Kept to the first id (the thread root) plus the most recent ones, so a long thread cannot grow the header
    without bound.
    """
    chain: list[str] = []
    for candidate in [*references, in_reply_to]:
        message_id = normalise_message_id(candidate)
        if message_id and message_id not in chain:
            chain.append(message_id)
    if len(chain) > REFERENCES_KEPT:
        chain = [chain[0], *chain[-(REFERENCES_KEPT - 1) :]]
    return chain
