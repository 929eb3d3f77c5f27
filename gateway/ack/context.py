"""What the acknowledgement templates see: one frozen value built from a stored request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.ack.headers import NAME_MAX_CHARS, one_line, require_reference
from gateway.schema import Channel, Language, MissingItem, ServiceRequest
from gateway.sla import WARSAW, Window

_WEEKDAYS: dict[Language, tuple[str, ...]] = {
    "pl": ("poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class ServiceContacts:
    """The published service channels the messages point to (SEED.md)."""

    escalation_email: str = "escalation@myhezo.pl"
    escalation_phone: str = "+48 12 25 25 502"
    hotline_phone: str = "+48 12 25 25 600"
    portal: str = "myHEZO.pl"


DEFAULT_CONTACTS = ServiceContacts()


@dataclass(frozen=True)
class AckContext:
    """A stored request as the acknowledgement, escalation and SLA messages describe it.

    Free text is already one clean line here (see `gateway.ack.headers`), so no template can be handed a newline
    or a control character from the reporter.
    """

    reference: str  # HZ-<year>-<6 digits>
    language: Language  # the language to answer in
    channel: Channel  # the door the request came through
    received_at: datetime  # aware; shown in Warsaw time
    window: Window  # the request window the response deadline counts in
    response_due: datetime | None = None  # None while it cannot be computed yet
    replacement: bool = False  # a verified replacement: mention the 7-day return of the failed device
    escalation: bool = False  # came through an escalation channel
    subject: str = ""
    reporter_name: str = ""
    reporter_email: str = ""
    reporter_phone: str = ""
    reporter_company: str = ""
    serial_numbers: tuple[str, ...] = ()
    contract_numbers: tuple[str, ...] = ()
    missing: tuple[MissingItem, ...] = ()
    entitlement_status: str | None = None  # entitled, unknown_contract, expired, serial_not_covered, no_identifiers
    entitled_contract: str | None = None  # the registry's contract the request was matched to
    service_level: str | None = None  # its level code, e.g. AHB_24X7_NBD

    def __post_init__(self) -> None:
        require_reference(self.reference)
        if self.received_at.utcoffset() is None:
            raise ValueError("received_at must be a timezone-aware datetime")
        if self.response_due is not None and self.response_due.utcoffset() is None:
            raise ValueError("response_due must be a timezone-aware datetime")

    @classmethod
    def from_request(
        cls,
        request: ServiceRequest,
        *,
        reference: str,
        response_due: datetime | None,
        window: Window,
        replacement: bool = False,
        entitlement: Mapping[str, Any] | None = None,
    ) -> AckContext:
        """`reference` is passed explicitly because `request.reference` is null until the request is stored."""
        reporter = request.reporter
        return cls(
            reference=reference,
            language=request.language,
            channel=request.channel,
            received_at=request.received_at,
            window=window,
            response_due=response_due,
            replacement=replacement,
            entitlement_status=(entitlement or {}).get("status"),
            entitled_contract=one_line((entitlement or {}).get("contract_number"), NAME_MAX_CHARS) or None,
            service_level=(entitlement or {}).get("service_level"),
            escalation=request.escalation,
            subject=one_line(request.subject),
            reporter_name=one_line(reporter.name, NAME_MAX_CHARS),
            reporter_email=one_line(reporter.email, 254),
            reporter_phone=one_line(reporter.phone, 32),
            reporter_company=one_line(reporter.company, NAME_MAX_CHARS),
            serial_numbers=tuple(one_line(s, 64) for s in request.serial_numbers),
            contract_numbers=tuple(one_line(c, 64) for c in request.contract_numbers),
            missing=tuple(request.missing),
        )


def local_time(moment: datetime | None, language: Language) -> str | None:
    """`poniedziałek, 28.12.2026, 09:30` / `Monday, 28 December 2026, 09:30` in Warsaw time; None stays None."""
    if moment is None:
        return None
    local = moment.astimezone(WARSAW)
    weekday = _WEEKDAYS[language][local.weekday()]
    if language == "pl":
        return f"{weekday}, {local:%d.%m.%Y}, {local:%H:%M}"
    return f"{weekday}, {local.day} {_MONTHS_EN[local.month - 1]} {local.year}, {local:%H:%M}"


def short_local_time(moment: datetime | None) -> str | None:
    """`28.12 09:30`, the SMS form (Warsaw time)."""
    return None if moment is None else f"{moment.astimezone(WARSAW):%d.%m %H:%M}"
