"""Entitlement: each status as a pure decision, then the registry lookup on each backend."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.contracts import entitlement
from gateway.contracts.entitlement import decide, entitlement_for, unlabelled_contract_candidates
from gateway.contracts.levels import default_levels
from gateway.contracts.queries import ContractRecord, RegistryMatch
from gateway.contracts.registry import import_contracts
from gateway.schema import Reporter, ServiceRequest
from gateway.store import Store
from parsers.identifiers import mask_lookalikes
from parsers.identifiers.shapes import PARTNERWORKS_CONTRACT_RE

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "contracts-example.csv"
TODAY = date(2026, 11, 24)
LEVELS = default_levels()

VALID = ContractRecord("40027719", "Example", "P", "NBD_AHR", date(2026, 1, 1), date(2026, 12, 31))
OLD = ContractRecord("40012345", "Example", "P", "TAC_OS", date(2024, 1, 1), date(2024, 12, 31))
HEZO = ContractRecord("HZ/AHB/2025/0142", "Szpital", "P", "AHB_24X7_NBD", date(2025, 7, 1), date(2027, 6, 30))


def covers(contract: ContractRecord, serial: str, listed: bool = False) -> RegistryMatch:
    return RegistryMatch(contract, serial, listed)


def named(contract: ContractRecord, listed: bool = False) -> RegistryMatch:
    return RegistryMatch(contract, None, listed)


# -- the pure decision ---------------------------------------------------------------------------------------------
def test_nothing_to_go_on() -> None:
    result = decide(serials=[], numbers=[], matches=[], today=TODAY, levels=LEVELS)
    assert (result.status, result.window, result.reporter_authorised) == ("no_identifiers", "8x5", None)
    assert result.missing == ["serial_number", "contract_number"]


def test_covered_serial_with_its_contract_is_entitled() -> None:
    result = decide(
        serials=["2214G-00417"],
        numbers=["40027719"],
        matches=[named(VALID, True), covers(VALID, "2214G-00417", True)],
        today=TODAY,
        levels=LEVELS,
    )
    assert (result.status, result.contract_number, result.service_level, result.window) == (
        "entitled",
        "40027719",
        "NBD_AHR",
        "8x5",
    )
    assert (result.reporter_authorised, result.missing, result.covered_serial) == (True, [], "2214G-00417")


def test_serial_alone_is_enough_and_completes_the_contract_number() -> None:
    result = decide(
        serials=["14JP512E0001"], numbers=[], matches=[covers(HEZO, "14JP512E0001")], today=TODAY, levels=LEVELS
    )
    assert (result.status, result.contract_number, result.window) == ("entitled", "HZ/AHB/2025/0142", "24x7")
    assert result.contract_numbers == ["HZ/AHB/2025/0142"]
    assert result.missing == []
    assert result.reporter_authorised is False


def test_a_renewed_contract_wins_over_the_expired_one_the_reporter_named() -> None:
    result = decide(
        serials=["2214G-00417"],
        numbers=["40012345"],
        matches=[named(OLD), covers(OLD, "2214G-00417"), covers(VALID, "2214G-00417")],
        today=TODAY,
        levels=LEVELS,
    )
    assert (result.status, result.contract_number) == ("entitled", "40027719")
    assert result.contract_numbers == ["40012345", "40027719"]


def test_expired_contract() -> None:
    result = decide(
        serials=["2129G-00558"], numbers=[], matches=[covers(OLD, "2129G-00558")], today=TODAY, levels=LEVELS
    )
    assert (result.status, result.contract_number) == ("expired", "40012345")
    assert "expired on 2024-12-31" in result.reason


def test_contract_not_yet_valid_counts_as_out_of_date() -> None:
    result = decide(serials=[], numbers=["40012345"], matches=[named(OLD)], today=date(2023, 6, 1), levels=LEVELS)
    assert result.status == "expired"
    assert "starts on 2024-01-01" in result.reason


def test_valid_contract_that_does_not_cover_the_serial() -> None:
    result = decide(
        serials=["9999Z-99999"], numbers=["40027719"], matches=[named(VALID, True)], today=TODAY, levels=LEVELS
    )
    assert (result.status, result.contract_number, result.reporter_authorised) == (
        "serial_not_covered",
        "40027719",
        True,
    )
    assert "covers none of 9999Z-99999" in result.reason


def test_valid_contract_without_a_serial_still_needs_one() -> None:
    result = decide(serials=[], numbers=["40027719"], matches=[named(VALID)], today=TODAY, levels=LEVELS)
    assert result.status == "serial_not_covered"
    assert result.missing == ["serial_number"]


def test_serial_no_contract_covers() -> None:
    result = decide(serials=["9999Z-99999"], numbers=[], matches=[], today=TODAY, levels=LEVELS)
    assert (result.status, result.contract_number, result.window) == ("serial_not_covered", None, "8x5")
    assert result.missing == ["contract_number"]


def test_without_a_contract_the_configured_default_window_applies() -> None:
    result = decide(serials=[], numbers=["49999999"], matches=[], today=TODAY, levels=LEVELS, default_window="24x7")
    assert result.window == "24x7"


def test_unknown_contract() -> None:
    result = decide(serials=["9999Z-99999"], numbers=["49999999"], matches=[], today=TODAY, levels=LEVELS)
    assert (result.status, result.reporter_authorised, result.window) == ("unknown_contract", None, "8x5")
    assert result.contract_numbers == ["49999999"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Awaria przełącznika\n40027719\n", ["40027719"]),
        ("umowa hz/ahb/2025/0142 oraz 40012345.", ["HZ/AHB/2025/0142", "40012345"]),
        ("RMA 40027719, faktura FV 40012345", []),  # look-alikes are blanked
        ("tel. 412345678, kod 4002771", []),  # 9 and 7 digits
        ("HZ/XYZ/2025/0142", []),  # only AHB and SOS are HEZO contracts
        ("40027719 40027719", ["40027719"]),
    ],
)
def test_unlabelled_contract_candidates(text: str, expected: list[str]) -> None:
    assert unlabelled_contract_candidates(text) == expected


# -- against the registry ------------------------------------------------------------------------------------------
def request(**fields: object) -> ServiceRequest:
    base: dict[str, object] = {"channel": "email", "received_at": datetime(2026, 11, 24, 9, tzinfo=UTC)}
    return ServiceRequest.model_validate({**base, **fields})


@pytest.fixture
async def registry(store: Store) -> Store:
    await import_contracts(store, EXAMPLE)
    return store


async def test_registry_entitled_with_an_authorised_reporter(registry: Store) -> None:
    req = request(
        serial_numbers=["2214G-00417"],
        contract_numbers=["40027719"],
        reporter=Reporter(email="Jan.Kowalski@example.pl"),
    )
    async with registry.reading() as conn:
        result = await entitlement_for(conn, req, today=TODAY, levels=LEVELS)
    assert (result.status, result.contract_number, result.reporter_authorised) == ("entitled", "40027719", True)


async def test_registry_serial_only_by_phone_reporter(registry: Store) -> None:
    req = request(serial_numbers=["2011G-00289"], reporter=Reporter(phone="+48601234567"), missing=["contract_number"])
    async with registry.reading() as conn:
        result = await entitlement_for(conn, req, today=TODAY, levels=LEVELS)
    assert (result.status, result.contract_numbers, result.missing) == ("entitled", ["40027719"], [])
    assert result.reporter_authorised is True


async def test_registry_unauthorised_reporter(registry: Store) -> None:
    req = request(serial_numbers=["14JP512E0001"], reporter=Reporter(email="someone@else.pl"))
    async with registry.reading() as conn:
        result = await entitlement_for(conn, req, today=TODAY, levels=LEVELS)
    assert (result.status, result.window, result.reporter_authorised) == ("entitled", "24x7", False)


async def test_registry_recognises_a_known_unlabelled_contract_only(registry: Store) -> None:
    req = request(description="Dzień dobry,\nHZ/SOS/2026/0007\nnie działa AP, 41234567\n")
    async with registry.reading() as conn:
        result = await entitlement_for(conn, req, today=TODAY, levels=LEVELS)
    assert result.contract_numbers == ["HZ/SOS/2026/0007"]  # 41234567 is unknown, so it stays a number
    assert (result.status, result.missing) == ("serial_not_covered", ["serial_number"])


async def test_registry_each_remaining_status(registry: Store) -> None:
    async with registry.reading() as conn:
        expired = await entitlement_for(conn, request(serial_numbers=["2129G-00558"]), today=TODAY, levels=LEVELS)
        unknown = await entitlement_for(conn, request(contract_numbers=["49999999"]), today=TODAY, levels=LEVELS)
        nothing = await entitlement_for(conn, request(description="nie działa"), today=TODAY, levels=LEVELS)
        uncovered = await entitlement_for(conn, request(serial_numbers=["9999Z-99999"]), today=TODAY, levels=LEVELS)
    assert [expired.status, unknown.status, nothing.status, uncovered.status] == [
        "expired",
        "unknown_contract",
        "no_identifiers",
        "serial_not_covered",
    ]


def _candidates_without_the_gate(text: str) -> list[str]:
    masked = mask_lookalikes(text)
    found = [(m.start(), m.group(0)) for m in PARTNERWORKS_CONTRACT_RE.finditer(masked)]
    found += [(m.start(), m.group(0).upper()) for m in entitlement._HEZO_CONTRACT_RE.finditer(masked)]
    return list(dict.fromkeys(value for _, value in sorted(found)))


PIECES = ["4", "40027719", "HZ/AHB/2026/0001", "hz/sos/", "0", "7", "/", "-", ".", " ", "\n", "a", "Ż", "NIP", "RMA"]
PIECES += [":", "IBAN PL", "faktura", "2026", "1234"]


@settings(max_examples=1500)
@given(st.lists(st.sampled_from(PIECES), max_size=25).map("".join))
def test_the_quick_no_contract_answer_is_what_masking_and_searching_give(text: str) -> None:
    assert unlabelled_contract_candidates(text) == _candidates_without_the_gate(text)
