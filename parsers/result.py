"""What a parser hands to the core: the request plus what only the store needs (bytes, threading ids)."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.schema import ServiceRequest


@dataclass(frozen=True)
class ParsedAttachment:
    """One decoded attachment; `content` goes to the content-addressed store, never into JSON."""

    filename: str
    content_type: str
    content: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class ParsedIntake:
    """The result of parsing one raw input."""

    request: ServiceRequest
    message_id: str | None = None
    """The input's own Message-ID (email), without angle brackets; None when it had none."""
    thread_ids: tuple[str, ...] = ()
    """Message-IDs from In-Reply-To and References, without angle brackets, nearest first."""
    attachments: tuple[ParsedAttachment, ...] = ()
    body_text: str = ""
    """The whole readable text (quoted history included), kept as the message body."""
    notes: tuple[str, ...] = field(default_factory=tuple)
    """Parser remarks worth keeping (e.g. "charset label wrong, decoded as windows-1250")."""


class ParseError(Exception):
    """The input cannot be read as this channel's format; the message says why, for a person."""
