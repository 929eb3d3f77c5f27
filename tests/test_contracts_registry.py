"""The contract registry: CSV import on each backend, re-import in place, bad rows, Windows-1250, levels file."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from gateway.contracts.levels import default_levels, load_levels, parse_levels
from gateway.contracts.queries import contract_detail
from gateway.contracts.registry import RegistryImportError, import_contracts
from gateway.contracts.registry_csv import normalise_contact
from gateway.errors import ConfigError
from gateway.store import Store

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config" / "contracts-example.csv"
HEADER = "contract_number,customer,partner,service_level,valid_from,valid_to,serials,contacts\n"


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "contracts.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


async def test_example_file_imports_with_normalised_values(store: Store) -> None:
    report = await import_contracts(store, EXAMPLE)
    assert (report.added, report.updated, report.failures) == (4, 0, [])
    assert report.serials == 6
    async with store.reading() as conn:
        pw = await contract_detail(conn, "40027719")
        sos = await contract_detail(conn, "HZ/SOS/2026/0007")
    assert pw == {
        "contract_number": "40027719",
        "customer": "Example Sp. z o.o.",
        "partner": "Integrator IT S.A.",
        "service_level": "NBD_AHR",
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
        "serials": ["2011G-00289", "2214G-00417"],
        "contacts": ["+48601234567", "jan.kowalski@example.pl"],
    }
    assert sos is not None
    assert (sos["partner"], sos["serials"]) == ("", ["02501608254257"])


async def test_reimport_updates_in_place_and_replaces_serials_and_contacts(store: Store, tmp_path: Path) -> None:
    await import_contracts(store, EXAMPLE)
    changed = write(
        tmp_path,
        HEADER + "40027719,Example Sp. z o.o.,Nowy Partner,4H_AHR,2026-01-01,2027-12-31,2214g-00417;9999A-00001,"
        "SERWIS@Example.PL\n",
    )
    report = await import_contracts(store, changed)
    assert (report.added, report.updated) == (0, 1)
    async with store.reading() as conn:
        contract = await contract_detail(conn, "40027719")
        untouched = await contract_detail(conn, "40012345")
    assert contract is not None and untouched is not None
    assert (contract["partner"], contract["service_level"], contract["valid_to"]) == (
        "Nowy Partner",
        "4H_AHR",
        "2027-12-31",
    )
    assert contract["serials"] == ["2214G-00417", "9999A-00001"]
    assert contract["contacts"] == ["serwis@example.pl"]
    assert untouched["serials"] == ["2129G-00558"]  # contracts absent from the file stay


async def test_bad_rows_are_reported_with_line_numbers_while_the_rest_import(store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "40000001,Good,P,NBD_AHR,2026-01-01,2026-12-31,1111A-00001,a@b.pl\n"  # line 2
        + "40000002,Bad level,P,GOLD,2026-01-01,2026-12-31,1111A-00002,\n"  # line 3
        + '40000003,"Multi\nline",P,TAC_OS,2026-02-30,2026-12-31,1111A-00003,\n'  # line 4-5: bad date
        + "40000004,Ends before,P,TAC_OS,2026-06-01,2026-01-01,1111A-00004,\n"  # line 6
        + "40000005,Bad contact,P,TAC_OS,2026-01-01,2026-12-31,1111A-00005,not a contact\n"  # line 7
        + "40000001,Twice,P,TAC_OS,2026-01-01,2026-12-31,1111A-00006,\n"  # line 8
        + "40000007,Too few fields\n"  # line 9
        + "40000008,Good too,,SOS_24X7_NBD,01.02.2026,31.01.2027,1111A-00008,\n",  # line 10
    )
    report = await import_contracts(store, path)
    assert report.added == 2
    lines = {line: error for line, error in report.failures}
    assert sorted(lines) == [3, 4, 6, 7, 8, 9]
    assert "GOLD" in lines[3]
    assert "valid_from" in lines[4]
    assert "before valid_from" in lines[6]
    assert "not a contact" in lines[7]
    assert "already on line 2" in lines[8]
    assert "expected 8 fields" in lines[9]
    async with store.reading() as conn:
        late = await contract_detail(conn, "40000008")
    assert late is not None and late["valid_from"] == date(2026, 2, 1).isoformat()


async def test_windows_1250_file_with_semicolons_keeps_polish_letters(store: Store, tmp_path: Path) -> None:
    text = (
        "contract_number;customer;partner;service_level;valid_from;valid_to;serials;contacts\r\n"
        "40000011;Zakład Łączności Śląskiej;Żuraw Sp. z o.o.;NBD_ONSITE;2026-01-01;2026-12-31;"
        '"1111A-00011; 1111A-00012";'
        '"łączność@example.pl;601 234 567"\r\n'
    )
    path = write(tmp_path, text, encoding="cp1250")
    report = await import_contracts(store, path)
    assert (report.added, report.failures) == (1, [])
    async with store.reading() as conn:
        contract = await contract_detail(conn, "40000011")
    assert contract is not None
    assert (contract["customer"], contract["partner"]) == ("Zakład Łączności Śląskiej", "Żuraw Sp. z o.o.")
    assert contract["serials"] == ["1111A-00011", "1111A-00012"]
    assert contract["contacts"] == ["+48601234567", "łączność@example.pl"]


async def test_utf8_with_bom_and_progress_counter(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "40000021,Żółć S.A.,,TAC_OS,2026-01-01,2026-12-31,,\n", encoding="utf-8-sig")
    progress = io.StringIO()
    report = await import_contracts(store, path, progress=progress, batch_size=1)
    assert (report.added, report.failures) == (1, [])
    assert "1/1 contracts" in progress.getvalue()
    async with store.reading() as conn:
        contract = await contract_detail(conn, "40000021")
    assert contract is not None and contract["customer"] == "Żółć S.A."


async def test_many_contracts_span_several_batches(store: Store, tmp_path: Path) -> None:
    rows = "".join(
        f"4{n:07d},Customer {n},P,NBD_AHR,2026-01-01,2026-12-31,{n:04d}A-{n:05d};{n:04d}B-{n:05d},c{n}@example.pl\n"
        for n in range(1, 26)
    )
    path = write(tmp_path, HEADER + rows)
    assert (await import_contracts(store, path, batch_size=10)).added == 25
    report = await import_contracts(store, path, batch_size=10)
    assert (report.added, report.updated, report.serials) == (0, 25, 50)


async def test_a_file_without_the_required_columns_is_refused(store: Store, tmp_path: Path) -> None:
    with pytest.raises(RegistryImportError, match="no column service_level"):
        await import_contracts(store, write(tmp_path, "contract_number,customer\n40000001,X\n"))
    with pytest.raises(RegistryImportError, match="cannot read"):
        await import_contracts(store, tmp_path / "absent.csv")


def test_contacts_are_lower_case_addresses_or_e164_numbers() -> None:
    assert normalise_contact(" Jan.Kowalski@Example.PL ") == "jan.kowalski@example.pl"
    assert normalise_contact("0-12 345 67 89") == "+48123456789"
    assert normalise_contact("+48 601 234 567") == "+48601234567"
    assert normalise_contact("jan@") is None
    assert normalise_contact("12 25 25 600") is None  # our own hotline is nobody's contact


def test_shipped_levels_follow_the_service_description() -> None:
    levels = default_levels()
    assert set(levels) == {
        "TAC_OS",
        "NBD_AHR",
        "4H_AHR",
        "NBD_ONSITE",
        "4H_ONSITE",
        "AHB_8X5_NBD",
        "AHB_24X7_NBD",
        "SOS_8X5_NBD",
        "SOS_24X7_NBD",
    }
    assert not levels["TAC_OS"].replacement
    assert (levels["AHB_24X7_NBD"].window, levels["AHB_24X7_NBD"].delivery) == ("24x7", "8h")
    assert (levels["sos_8x5_nbd"].window, levels["SOS_8X5_NBD"].delivery, levels["SOS_8X5_NBD"].onsite) == (
        "8x5",
        "nbd",
        True,
    )
    assert levels.window_of("UNKNOWN") == "8x5"
    assert levels.window_of(None) == "8x5"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, "no \\[levels"),
        ({"levels": {"X": {"window": "9x5", "delivery": "nbd", "onsite": False}}}, "levels.X.window"),
        ({"levels": {"X": {"window": "8x5", "delivery": "2h", "onsite": False}}}, "levels.X.delivery"),
        ({"levels": {"X": {"window": "8x5", "delivery": "nbd", "onsite": "yes"}}}, "levels.X.onsite"),
        ({"levels": {"X": {"window": "8x5", "delivery": "nbd", "onsite": True, "colour": 1}}}, "unknown key colour"),
    ],
)
def test_bad_level_files_fail_loudly(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_levels(table)


def test_missing_level_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_levels(tmp_path / "none.toml")
