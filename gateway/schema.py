"""The normalised service request: one model for every door.

Field names are a contract (DESIGN.md, "Request schema"): outside tools read them. Add fields freely; never rename.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["email", "phone", "portal", "sms"]
Mailbox = Literal["pomoc", "escalation"]
Language = Literal["pl", "en"]
MissingItem = Literal["serial_number", "contract_number"]

CHANNELS: tuple[Channel, ...] = ("email", "phone", "portal", "sms")
MAILBOXES: tuple[Mailbox, ...] = ("pomoc", "escalation")

REFERENCE_PATTERN = r"HZ-(\d{4})-(\d{6})"
REFERENCE_RE = re.compile(rf"^{REFERENCE_PATTERN}$")


def format_reference(year: int, number: int) -> str:
    """`HZ-<year>-<6 digits>`, the human id of a stored request."""
    return f"HZ-{year:04d}-{number:06d}"


class Reporter(BaseModel):
    """Who reported: whatever the door told us about them."""

    model_config = ConfigDict(frozen=True)

    name: str | None = None
    email: str | None = None
    phone: str | None = Field(default=None, description="E.164, e.g. +48122525600")
    company: str | None = None
    portal_login: str | None = None


class AttachmentMeta(BaseModel):
    """An attachment as the JSON shows it; the bytes live in the content-addressed store."""

    model_config = ConfigDict(frozen=True)

    filename: str
    content_type: str
    size: int
    sha256: str


class ServiceRequest(BaseModel):
    """The normalised request. `reference` is null until the request is stored."""

    model_config = ConfigDict(frozen=True)

    reference: str | None = Field(default=None, description="HZ-<year>-<6 digits>, assigned when stored")
    channel: Channel
    mailbox: Mailbox | None = None
    escalation: bool = False
    received_at: datetime = Field(description="RFC 3339, UTC")
    reporter: Reporter = Field(default_factory=Reporter)
    subject: str = ""
    description: str = ""
    serial_numbers: list[str] = Field(default_factory=list)
    contract_numbers: list[str] = Field(default_factory=list)
    language: Language = "pl"
    auto_submitted: bool = False
    follow_up_of: str | None = None
    missing: list[MissingItem] = Field(default_factory=list)
    attachments: list[AttachmentMeta] = Field(default_factory=list)
    external_id: str | None = None


def missing_items(serial_numbers: list[str], contract_numbers: list[str]) -> list[MissingItem]:
    """What is still needed before the report can be accepted (SEED.md: serial and contract number)."""
    missing: list[MissingItem] = []
    if not serial_numbers:
        missing.append("serial_number")
    if not contract_numbers:
        missing.append("contract_number")
    return missing


def request_json_schema() -> dict[str, Any]:
    """JSON schema generated from the model, served at GET /api/v1/schema."""
    return ServiceRequest.model_json_schema(mode="serialization")
