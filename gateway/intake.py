"""What every door hands to the pipeline, and what it gets back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.schema import Channel, Mailbox, MissingItem


@dataclass(frozen=True)
class RawIntake:
    """One input exactly as a door received it."""

    channel: Channel
    content: bytes
    """Verbatim bytes: the RFC 5322 message, or the JSON object of a form, API call or webhook."""
    received_at: datetime
    """When the gateway received it (aware, UTC); the SLA clock starts here."""
    mailbox: Mailbox | None = None
    envelope: Mapping[str, Any] = field(default_factory=dict)
    """How it arrived: door, MAIL FROM, RCPT TO, peer, webhook URL — kept with the raw bytes."""


@dataclass(frozen=True)
class Created:
    """A new request was stored."""

    reference: str
    missing: tuple[MissingItem, ...]
    queued: int = field(default=0, compare=False)
    """Outbox rows stored with it (acknowledgement, escalation notices): whether the dispatcher has work now. Not
    part of what the outcome says about the request, so equality ignores it."""


@dataclass(frozen=True)
class Duplicate:
    """The same input (same channel id) was stored before, as part of `reference`."""

    reference: str


@dataclass(frozen=True)
class FollowUp:
    """Stored as a message of the existing request `reference`."""

    reference: str
    escalated: bool = False


@dataclass(frozen=True)
class Quarantined:
    """Could not be parsed; kept in quarantine for a replay."""

    quarantine_id: int
    error: str


Outcome = Created | Duplicate | FollowUp | Quarantined
