"""Reading a contract-registry CSV: decoding, header, and each row checked and normalised. Pure.

Columns: contract_number, customer, partner, service_level, valid_from, valid_to, serials, contacts. Serials and
contacts hold several values separated by ';' (so a file separated by ';', as Polish Excel writes it, quotes those
fields). Contacts are e-mail addresses (lower-cased) or phone numbers (E.164); they say who may report under the
contract.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from gateway.contracts.levels import ServiceLevels
from gateway.csv_import import csv_rows, decode_export
from parsers.phone import normalise_phone

COLUMNS = ("contract_number", "customer", "partner", "service_level", "valid_from", "valid_to", "serials", "contacts")
REQUIRED_COLUMNS = ("contract_number", "customer", "service_level", "valid_from", "valid_to", "serials")
LIST_SEPARATOR = ";"
MAX_IDENTIFIER = 64
MAX_NAME = 300

_IDENTIFIER = re.compile(r"[A-Z0-9][A-Z0-9/._-]*")
# Deliberately loose: the registry only compares addresses; a stricter check would reject real ones.
_EMAIL = re.compile(r"[^@\s;,<>]+@[^@\s;,<>]+\.[^@\s;,<>]+")
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")


@dataclass(frozen=True)
class ContractRow:
    """One contract as the registry stores it, values normalised."""

    line: int  # where the row starts in the file
    contract_number: str
    customer: str
    partner: str
    service_level: str
    valid_from: date
    valid_to: date
    serials: tuple[str, ...]
    contacts: tuple[str, ...]


@dataclass(frozen=True)
class BadRow:
    line: int
    error: str


class RegistryFileError(ValueError):
    """The file as a whole cannot be read (no header, a required column missing)."""


def decode_registry(data: bytes) -> str:
    return decode_export(data)


def normalise_identifier(value: str) -> str:
    """Contract numbers and serials: upper case, no spaces."""
    return "".join(value.split()).upper()


@lru_cache(maxsize=65536)
def normalise_contact(value: str) -> str | None:
    """A lower-case e-mail address or an E.164 phone number; None when it is neither."""
    value = value.strip()
    if "@" in value:
        lowered = value.lower()
        return lowered if _EMAIL.fullmatch(lowered) else None
    return normalise_phone(value)


def _date(value: str, column: str) -> date:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{column} must be a date YYYY-MM-DD (got {value!r})")


def _identifier(value: str, what: str) -> str:
    normalised = normalise_identifier(value)
    if not normalised:
        raise ValueError(f"{what} is empty")
    if len(normalised) > MAX_IDENTIFIER or not _IDENTIFIER.fullmatch(normalised):
        raise ValueError(f"{what} {value.strip()!r} is not a valid identifier")
    return normalised


def _text(value: str, column: str, *, required: bool) -> str:
    cleaned = " ".join(value.split())
    if required and not cleaned:
        raise ValueError(f"{column} is empty")
    if len(cleaned) > MAX_NAME:
        raise ValueError(f"{column} is longer than {MAX_NAME} characters")
    return cleaned


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


def check_row(line: int, values: dict[str, str], levels: ServiceLevels) -> ContractRow:
    """One row checked and normalised; raises ValueError naming the column that is wrong."""
    number = _identifier(values["contract_number"], "contract_number")
    level = levels.find(values["service_level"])
    if level is None:
        raise ValueError(f"service_level {values['service_level'].strip()!r} is not one of {', '.join(levels)}")
    valid_from, valid_to = _date(values["valid_from"], "valid_from"), _date(values["valid_to"], "valid_to")
    if valid_to < valid_from:
        raise ValueError(f"valid_to {valid_to} is before valid_from {valid_from}")
    serials = tuple(dict.fromkeys(_identifier(serial, "serial") for serial in _split(values["serials"])))
    contacts: list[str] = []
    for raw in _split(values.get("contacts", "")):
        contact = normalise_contact(raw)
        if contact is None:
            raise ValueError(f"contact {raw!r} is neither an e-mail address nor a valid phone number")
        contacts.append(contact)
    return ContractRow(
        line=line,
        contract_number=number,
        customer=_text(values["customer"], "customer", required=True),
        partner=_text(values.get("partner", ""), "partner", required=False),
        service_level=level.code,
        valid_from=valid_from,
        valid_to=valid_to,
        serials=serials,
        contacts=tuple(dict.fromkeys(contacts)),
    )


def read_registry(text: str, levels: ServiceLevels) -> Iterator[ContractRow | BadRow]:
    """Each data row as a ContractRow, or a BadRow with its line number; a contract repeated in the file is bad."""
    seen: dict[str, int] = {}
    for line, values in csv_rows(text, REQUIRED_COLUMNS, error=RegistryFileError):
        if isinstance(values, str):
            yield BadRow(line, values)
            continue
        try:
            row = check_row(line, values, levels)
        except ValueError as exc:
            yield BadRow(line, str(exc))
            continue
        if row.contract_number in seen:
            yield BadRow(line, f"contract {row.contract_number} already on line {seen[row.contract_number]}")
            continue
        seen[row.contract_number] = line
        yield row
