"""Raw bytes to a parsed message tree, or ParseError when the bytes are not an e-mail at all."""

from __future__ import annotations

from email import policy
from email.feedparser import BytesFeedParser
from email.message import Message

from parsers.email.headers import HeaderView
from parsers.result import ParseError

_SNIFF_BYTES = 4096
# The stdlib parser's own chunk size (Parser.parse reads 8192 characters at a time): the same pieces reach the
# feed parser as through BytesParser.
_FEED_BYTES = 8192


def _is_binary(raw: bytes) -> bool:
    """NULs or many control bytes at the start: an image, archive or document, not text of any kind."""
    sample = raw[:_SNIFF_BYTES]
    control = sum(byte < 32 and byte not in (9, 10, 13) for byte in sample)
    return b"\x00" in sample or control > len(sample) // 20


def _parse(raw: bytes) -> Message:
    """What `BytesParser(policy=compat32).parsebytes(raw)` returns, fed in slices.

    parsebytes decodes the whole message to one string and wraps it in a StringIO, which stores four bytes per
    character: a 30 MB message cost 150 MB before the first line was parsed. Decoding slice by slice is the same
    (ASCII with surrogateescape maps each byte on its own), and only a slice is held at a time.
    """
    parser = BytesFeedParser(policy=policy.compat32)
    for start in range(0, len(raw), _FEED_BYTES):
        parser.feed(raw[start : start + _FEED_BYTES])
    message: Message = parser.close()
    return message


def read_message(raw: bytes) -> tuple[Message, HeaderView]:
    """Parse with `compat32`; header fields are read raw (see headers.py), so a defect never stops us.

    `policy.default` would build a structured object for every header of every part on access — five times the
    cost of the whole parse here — while we decode the few headers we need ourselves.

    Text without any header section (a pasted body, a digest) is still read as a message body: only empty or
    binary input is refused.
    """
    if not raw or raw.isspace():  # raw.strip() would copy the whole message to find out
        raise ParseError("empty input: an e-mail needs at least a header section")
    message = _parse(raw)
    headers = HeaderView(message)
    if not headers.looks_like_mail() and _is_binary(raw):
        raise ParseError("not an e-mail: binary data without any header field such as From, Subject or Date")
    return message, headers
