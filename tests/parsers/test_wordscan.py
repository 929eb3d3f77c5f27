"""The fast label search finds exactly what the plain pattern finds."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.cli_logs import _EXOS_HARDWARE_LINE_RE, _SERIAL_KEY_VALUE
from parsers.identifiers.labels import _CONTRACT_LABEL, _SERIAL_LABEL
from parsers.identifiers.lookalikes import _LABELLED_FOREIGN
from parsers.identifiers.shapes import PARTNERWORKS_CONTRACT_RE, UNLABELLED_SERIAL_RE, unlabelled_serial_spans
from parsers.language import _CLI_LINE_RE
from parsers.vendor_cases import _GTAC, _RMA
from parsers.wordscan import LabelGroup, LabelSearch, lowered

SEARCHES = {
    "foreign": _LABELLED_FOREIGN,
    "serial": _SERIAL_LABEL,
    "contract": _CONTRACT_LABEL,
    "cli serial": _SERIAL_KEY_VALUE,
    "gtac case": _GTAC,
    "rma": _RMA,
}

# Pieces the generated text is glued from, with and without spaces between them, so labels also appear in the
# middle of words, in every case, next to digits and punctuation.
LABEL_WORDS = [
    "NIP", "nip", "Regon", "KRS", "pesel", "IBAN", "BIC", "swift", "rachunek", "konto bankowe", "konta", "account",
    "faktura", "FV", "invoice", "zamówienia", "Zamowienie", "ZAM", "order", "PO", "po", "Po", "P.O.", "purchase order",
    "POrtach", "kontakt", "KONTO", "konto_",
    "case", "GTAC", "zgłoszenia w GTAC", "zgloszenie", "RMA", "ticket", "INC", "device id", "id urz.",
    "id urządzenia", "list przewozowy", "listopad", "przesyłka", "tracking", "AWB", "S/N", "s.n.", "SN", "sn",
    "Serial", "serial number", "serial no.", "numer seryjny", "nr seryjny", "nr. ser.", "numeru seryjnego", "nr",
    "umowa", "Umowy", "umową", "kontrakt", "kontraktu", "contract", "Contracts", "service agreement",
    "agreement", "PW", "pw", "PartnerWorks", "partner works", "Extreme Works", "klienta", "numer", "number", "w",
    "in", "no", "GTAC case", "Case", "nr zgłoszenia w GTAC", "numer zgłoszenia do GTAC", "RMA:", "id",
    "Serial #:", "Serial Number:", "Ps#1 Serial Number : ", "SN:", "sn :",
]  # fmt: skip
VALUES = [
    "40012345", "2214G-00417", "FV/2025/11/0231", "677-123-45-67", "PL61", "02483917", "x1", "#", "12",
    "14JP512E0001", "02483917", "1207734", "EXH3349M005", "BGD2503J01F", "02501608254257", "2011g-00289", "-A1", "_",
]  # fmt: skip
GLUE = [" ", "", "\n", ": ", "-", "#", ".", "(", ")", "=", ", ", "–", "ą", "ż", "Ł", "x", "9", "İ", "\u212a", "ſ", "_"]


def piece() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(LABEL_WORDS), st.sampled_from(VALUES), st.sampled_from(GLUE))


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(sorted(SEARCHES)), pieces=st.lists(piece(), max_size=14))
def test_fast_search_finds_what_the_plain_pattern_finds(name: str, pieces: list[str]) -> None:
    search = SEARCHES[name]
    text = "".join(pieces)
    assert [m.span() for m in search.finditer(text)] == [m.span() for m in search.exact.finditer(text)]


@pytest.mark.parametrize("name", sorted(SEARCHES))
def test_fast_search_finds_what_the_plain_pattern_finds_for_every_label_glue_and_value(name: str) -> None:
    # Generated text seldom puts one particular label, glue and value in a row; every such triple is tried here.
    search = SEARCHES[name]
    for before, label, glue, value in itertools.product(("", "x", " "), LABEL_WORDS, GLUE, VALUES):
        text = before + label + glue + value
        assert [m.span() for m in search.finditer(text)] == [m.span() for m in search.exact.finditer(text)], text


ALL_SEARCHES = LabelGroup(SEARCHES.values())


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(piece(), max_size=14))
def test_searches_sharing_a_group_scan_find_what_the_plain_patterns_find(pieces: list[str]) -> None:
    text = "".join(pieces)
    scan = ALL_SEARCHES.scan(text)
    for search in SEARCHES.values():
        assert [m.span() for m in search.finditer(text, scan)] == [m.span() for m in search.exact.finditer(text)]


def test_a_scan_serves_only_its_own_text_and_group() -> None:
    scan = LabelGroup([_SERIAL_LABEL]).scan("S/N 2214G-00417")
    with pytest.raises(ValueError, match="another text"):
        list(_SERIAL_LABEL.finditer("S/N 2214G-00418", scan))
    with pytest.raises(ValueError, match="without this search"):
        list(_CONTRACT_LABEL.finditer(scan.text, scan))


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(piece(), max_size=14))
def test_fast_serial_shapes_find_what_the_plain_pattern_finds(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert unlabelled_serial_spans(text) == [m.span() for m in UNLABELLED_SERIAL_RE.finditer(text)]


# The plain forms of patterns rewritten to backtrack less: the rewritten ones must match the same.
PLAIN_CLI_LINE_RE = re.compile(r"^(?:[^\n:]{1,40}[ \t]:[ \t].*|\S+[#>][ \t]*(?:show|sh)\b.*)$", re.MULTILINE | re.I)
PLAIN_EXOS_HARDWARE_LINE_RE = re.compile(
    r"^[ \t]*(?P<name>Switch|Slot-\d+|PSU-\d+|PartInfo|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+)[ \t]*:[ \t]*(?P<rest>[^\n]*)$",
    re.MULTILINE,
)
PLAIN_PARTNERWORKS_CONTRACT_RE = re.compile(r"(?<![A-Za-z0-9/.,])(?<!\d-)4\d{7}(?![A-Za-z0-9/-]|[.,]\d)")
CLI_PIECES = [
    "4",
    "40012345",
    "9-",
    "/",
    ".",
    ",",
    "#",
    ">",
    "a",
    "B7",
    " ",
    "\t",
    "show",
    "sh",
    "\n",
    ":",
    " : ",
    "x#",
    "Switch",
    "Slot-1",
    "PSU-2",
    "-",
]


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(st.sampled_from(CLI_PIECES), max_size=16))
def test_rewritten_line_patterns_match_what_the_plain_ones_match(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert _CLI_LINE_RE.sub("", text) == PLAIN_CLI_LINE_RE.sub("", text)
    assert [m.span() for m in PARTNERWORKS_CONTRACT_RE.finditer(text)] == [
        m.span() for m in PLAIN_PARTNERWORKS_CONTRACT_RE.finditer(text)
    ]
    fast = [m.groupdict() | {"span": m.span()} for m in _EXOS_HARDWARE_LINE_RE.finditer(text)]
    assert fast == [m.groupdict() | {"span": m.span()} for m in PLAIN_EXOS_HARDWARE_LINE_RE.finditer(text)]


@pytest.mark.parametrize("text", ["Umowa nr 40012345", "NIP: 677-123-45-67 i umowa 40012345", "fakturaPW 1"])
def test_fast_search_on_examples(text: str) -> None:
    for search in SEARCHES.values():
        assert [m.span() for m in search.finditer(text)] == [m.span() for m in search.exact.finditer(text)]


def test_lowering_keeps_offsets_when_a_lower_case_is_longer() -> None:
    text = "İSTANBUL umowa"
    assert len("İ".lower()) == 2  # the reason for the care taken
    low = lowered(text)
    assert len(low) == len(text)
    assert low.endswith("umowa") and low.index("umowa") == text.index("umowa")


def test_a_prefix_must_start_with_a_lower_case_letter() -> None:
    with pytest.raises(ValueError, match="lower-case letter"):
        LabelSearch(re.compile("x"), prefixes=("NIP",))
