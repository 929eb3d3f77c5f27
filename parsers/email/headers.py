"""Header values read from the raw fields, decoded by us rather than by the stdlib header registry.

Why not `message["Subject"]`: under `policy.default` every access runs the structured header parser, which has
known crash bugs on malformed input and turns raw 8-bit bytes into replacement characters. Reading `raw_items()`
and decoding RFC 2047 words ourselves keeps every header readable, with the same charset fallbacks as bodies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from email.errors import HeaderParseError
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses
from typing import TypeVar, overload

from parsers.email.charset import decode_bytes

_Default = TypeVar("_Default")
_FOLDING = re.compile(r"\r?\n(?=[ \t])")
_BRACKETED_ID = re.compile(r"<([^<>\s]+)>")
# A header line without a colon-separated name is how arbitrary bytes look to the parser.
_KNOWN_FIELDS = frozenset(
    {
        "from", "to", "cc", "subject", "date", "message-id", "received", "return-path", "mime-version",
        "content-type", "sender", "reply-to", "delivered-to", "in-reply-to", "references",
    }
)  # fmt: skip


def _raw_to_bytes(value: str) -> bytes:
    """The header's original bytes: the parser keeps non-ASCII bytes as surrogate escapes."""
    return value.encode("utf-8", errors="surrogateescape")


def decode_header_value(raw: str) -> str:
    """One header value as text: unfolded, RFC 2047 words decoded, raw 8-bit bytes read with charset fallbacks."""
    unfolded = _FOLDING.sub("", raw)
    if not unfolded.isascii():
        # Raw 8-bit headers (no encoded words) from clients that ignore RFC 2047.
        unfolded = decode_bytes(_raw_to_bytes(unfolded), None).text
    if "=?" not in unfolded:
        return unfolded.strip()  # no encoded word: decode_header would hand the text back as it is
    try:
        chunks = decode_header(unfolded)
    except (HeaderParseError, ValueError, LookupError):
        return unfolded.strip()
    parts: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            parts.append(chunk)
        else:
            parts.append(decode_bytes(chunk, charset).text)
    return "".join(parts).strip()


class HeaderView(Mapping[str, str]):
    """A message's header fields as lower-case name -> first value, decoded lazily and once."""

    def __init__(self, message: Message) -> None:
        self._raw: dict[str, list[str]] = {}
        for name, value in message.raw_items():
            self._raw.setdefault(name.strip().lower(), []).append(str(value))
        self._decoded: dict[str, str] = {}

    def has(self, name: str) -> bool:
        return name.lower() in self._raw

    def raw(self, name: str) -> str:
        """The first raw value, unfolded but not decoded ('' when absent)."""
        values = self._raw.get(name.lower())
        return _FOLDING.sub("", values[0]).strip() if values else ""

    def __getitem__(self, name: str) -> str:
        key = name.lower()
        if key not in self._decoded:
            self._decoded[key] = decode_header_value(self._raw[key][0])
        return self._decoded[key]

    # Mapping's own `in` and `get` decode the value to learn whether it is there, and `get` of an absent name raises
    # and catches a KeyError: both ask the raw fields instead.
    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._raw

    @overload
    def get(self, name: str, /) -> str | None: ...

    @overload
    def get(self, name: str, /, default: str | _Default) -> str | _Default: ...

    def get(self, name: str, /, default: object = None) -> object:
        return self[name] if name.lower() in self._raw else default

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def text(self, name: str) -> str:
        """The first value decoded ('' when absent)."""
        return self[name] if name.lower() in self._raw else ""

    def looks_like_mail(self) -> bool:
        """At least one field every mail system writes: otherwise the bytes are not a message at all."""
        return not _KNOWN_FIELDS.isdisjoint(self._raw)


# `Name <local@domain>` or `local@domain` alone, in ASCII dot-atoms, the name words without specials, quotes or
# any white space but blanks between them: what nearly every From header holds.
_PLAIN_MAILBOX = re.compile(
    r"[ \t]*(?:(?P<name>[^\s\"<>()\[\]\\,;:@.]++(?:[ \t]++[^\s\"<>()\[\]\\,;:@.]++)*+)[ \t]*)?"
    r"(?:<(?P<bracketed>{address})>|(?P<bare>{address}))[ \t]*".format(
        address=r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
        r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
    )
)
_BLANKS = re.compile(r"[ \t]+")


def first_address(value: str) -> tuple[str, str]:
    """(display name, address) of the first mailbox in an address header; ('', '') when none is readable."""
    plain = _PLAIN_MAILBOX.fullmatch(value)
    if plain is not None and (plain["bracketed"] or not plain["name"]):
        # The e-mail package's address-list grammar gives the same pair (a hypothesis test compares them) at a
        # twentieth of the cost; anything else (quotes, comments, groups, several mailboxes) goes the long way.
        name = _BLANKS.sub(" ", plain["name"] or "").strip("\"'").strip()
        return name, plain["bracketed"] or plain["bare"]
    return first_address_by_grammar(value)


def first_address_by_grammar(value: str) -> tuple[str, str]:
    """first_address as the e-mail package's address-list grammar reads it."""
    try:
        pairs = getaddresses([value])
    except (ValueError, IndexError, TypeError):
        return "", ""
    for name, address in pairs:
        if "@" in address or name:
            return name.strip().strip("\"'").strip(), address.strip()
    return "", ""


def message_ids(raw: str) -> list[str]:
    """Message-IDs in a Message-ID / In-Reply-To / References value, without angle brackets, in order."""
    found = _BRACKETED_ID.findall(raw)
    if found:
        return found
    # Some clients drop the brackets; a lone token with an @ is still an id.
    return [token for token in raw.split() if "@" in token]
