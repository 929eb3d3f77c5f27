"""Is the request covered by a contract? A pure decision over what the registry returned, and one async lookup.

Extreme decides coverage by the device serial, so a serial the registry knows is enough: the contract is taken
from the registry even when the reporter gave no contract number. A contract number is believed without a label
only when the registry knows it. The contract's request window drives the response deadline (unknown: 8x5), and
the reporter is checked against the contract's contacts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.contracts.levels import ServiceLevels
from gateway.contracts.queries import RegistryMatch, registry_matches
from gateway.schema import MissingItem, ServiceRequest, missing_items
from gateway.sla import Window
from parsers.identifiers import mask_lookalikes
from parsers.identifiers.shapes import PARTNERWORKS_CONTRACT_RE

EntitlementStatus = Literal["entitled", "unknown_contract", "expired", "serial_not_covered", "no_identifiers"]

# HEZO contracts are only ever AHB or SOS (IDENTIFIERS.md); the parser's wider shape needs its label.
# The check on what stands before comes after the first letter, so the regex engine can skip ahead to an "H".
# The core of either shape, without the checks around it. Masking only turns characters into spaces, so a text
# without this core cannot hold a contract after masking either: such a text (most of them) skips the masking, which
# runs inside the intake transaction.
_MAY_HOLD_CONTRACT = re.compile(r"4\d{7}|[Hh][Zz]/")
_HEZO_CONTRACT_RE = re.compile(
    r"[Hh](?<![A-Za-z0-9/][Hh])[Zz]/(?:[Aa][Hh][Bb]|[Ss][Oo][Ss])/\d{4}/\d{4}(?![A-Za-z0-9]|/\d)"
)


@dataclass(frozen=True)
class Entitlement:
    status: EntitlementStatus
    contract_number: str | None  # the contract the decision settled on
    service_level: str | None
    window: Window  # the request window the response deadline counts in
    reason: str  # one sentence for the desk
    reporter_authorised: bool | None  # reporter among the contract's contacts; None when no contract was found
    contract_numbers: list[str] = field(default_factory=list)  # the request's, completed from the registry
    missing: list[MissingItem] = field(default_factory=list)  # recomputed with the completed contract numbers
    covered_serial: str | None = None  # the serial that tied the request to the contract

    def as_json(self) -> dict[str, object]:
        """The `entitlement` field of the request view."""
        return {
            "status": self.status,
            "contract_number": self.contract_number,
            "service_level": self.service_level,
            "window": self.window,
            "reason": self.reason,
            "covered_serial": self.covered_serial,
        }


def unlabelled_contract_candidates(text: str) -> list[str]:
    """Contract-shaped numbers anywhere in `text`, without a label: 8 digits starting with 4, HZ/AHB|SOS/YYYY/NNNN.

    Only candidates: the caller keeps those the registry knows. Look-alikes (RMA, GTAC cases, invoices, orders,
    bank numbers) are blanked first. Upper case, in order of appearance, no repeats.
    """
    if _MAY_HOLD_CONTRACT.search(text) is None:
        return []
    masked = mask_lookalikes(text)
    found = [(m.start(), m.group(0)) for m in PARTNERWORKS_CONTRACT_RE.finditer(masked)]
    found += [(m.start(), m.group(0).upper()) for m in _HEZO_CONTRACT_RE.finditer(masked)]
    return list(dict.fromkeys(value for _, value in sorted(found)))


def reporter_contacts(request: ServiceRequest) -> list[str]:
    """The reporter as the registry lists contacts: lower-case e-mail, E.164 phone."""
    reporter = request.reporter
    return [c for c in ((reporter.email or "").strip().lower(), (reporter.phone or "").strip()) if c]


def _with(numbers: Sequence[str], number: str) -> list[str]:
    return list(numbers) if number in numbers else [*numbers, number]


def decide(
    *,
    serials: Sequence[str],
    numbers: Sequence[str],
    matches: Sequence[RegistryMatch],
    today: date,
    levels: ServiceLevels,
    default_window: Window = "8x5",
) -> Entitlement:
    """The entitlement of a request with these serials and (registry-known or labelled) contract numbers.

    Order of preference: a valid contract covering a serial (one the request names first), then a known contract
    named by number (valid → its serials are not covered; out of date → expired), then an out-of-date contract
    covering a serial, then nothing known. Without a contract the response deadline counts in `default_window`.
    """
    if not serials and not numbers:
        return Entitlement(
            "no_identifiers",
            None,
            None,
            default_window,
            "no serial number and no contract number given",
            None,
            [],
            missing_items([], []),
        )
    serial_order = {serial: i for i, serial in enumerate(serials)}
    covering = sorted(
        (m for m in matches if m.covered_serial in serial_order),
        key=lambda m: (m.contract.contract_number not in numbers, serial_order[m.covered_serial or ""]),
    )
    named = [m for m in matches if m.covered_serial is None and m.contract.contract_number in numbers]
    valid_cover = next((m for m in covering if m.contract.valid_on(today)), None)
    if valid_cover is not None:
        return _found(
            valid_cover,
            "entitled",
            f"contract {valid_cover.contract.contract_number} covers serial {valid_cover.covered_serial}",
            serials,
            numbers,
            levels,
        )
    valid_named = next((m for m in named if m.contract.valid_on(today)), None)
    if valid_named is not None:
        reason = (
            f"contract {valid_named.contract.contract_number} covers none of {', '.join(serials)}"
            if serials
            else f"contract {valid_named.contract.contract_number} is valid; no serial number given to check"
        )
        return _found(valid_named, "serial_not_covered", reason, serials, numbers, levels)
    out_of_date = next(iter(named), None) or next(iter(covering), None)
    if out_of_date is not None:
        contract = out_of_date.contract
        when = f"expired on {contract.valid_to}" if contract.valid_to < today else f"starts on {contract.valid_from}"
        return _found(out_of_date, "expired", f"contract {contract.contract_number} {when}", serials, numbers, levels)
    if numbers:
        reason = f"contract {', '.join(numbers)} is not in the registry"
        return Entitlement(
            "unknown_contract",
            None,
            None,
            default_window,
            reason,
            None,
            list(numbers),
            missing_items(list(serials), list(numbers)),
        )
    reason = f"no contract in the registry covers {', '.join(serials)}"
    return Entitlement(
        "serial_not_covered", None, None, default_window, reason, None, [], missing_items(list(serials), [])
    )


def _found(
    match: RegistryMatch,
    status: EntitlementStatus,
    reason: str,
    serials: Sequence[str],
    numbers: Sequence[str],
    levels: ServiceLevels,
) -> Entitlement:
    contract = match.contract
    completed = _with(numbers, contract.contract_number)
    return Entitlement(
        status=status,
        contract_number=contract.contract_number,
        service_level=contract.service_level,
        window=levels.window_of(contract.service_level),
        reason=reason,
        reporter_authorised=match.reporter_listed,
        contract_numbers=completed,
        missing=missing_items(list(serials), completed),
        covered_serial=match.covered_serial,
    )


async def entitlement_for(
    conn: AsyncConnection,
    request: ServiceRequest,
    *,
    today: date,
    levels: ServiceLevels,
    default_window: Window = "8x5",
) -> Entitlement:
    """Look the request up in the registry (one indexed query) and decide.

    Unlabelled contract-shaped numbers in the subject and description count only when the registry knows them;
    `today` is the Warsaw calendar day the request was received on.
    """
    labelled = list(request.contract_numbers)
    candidates = [
        c for c in unlabelled_contract_candidates(f"{request.subject}\n{request.description}") if c not in labelled
    ]
    matches = await registry_matches(
        conn,
        numbers=labelled + candidates,
        serials=request.serial_numbers,
        reporter_contacts=reporter_contacts(request),
    )
    known = {m.contract.contract_number for m in matches}
    numbers = labelled + [c for c in candidates if c in known]
    return decide(
        serials=request.serial_numbers,
        numbers=numbers,
        matches=matches,
        today=today,
        levels=levels,
        default_window=default_window,
    )
