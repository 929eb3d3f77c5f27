"""Extreme GTAC case and RMA numbers quoted by reporters."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import vendor_cases as vendor_cases_module
from parsers.vendor_cases import vendor_cases
from tests.parsers.test_wordscan import GLUE, LABEL_WORDS, VALUES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Case 02483917", [("gtac_case", "02483917")]),
        ("GTAC case 02483917 otwarty wczoraj", [("gtac_case", "02483917")]),
        ("nr zgłoszenia w GTAC 02483917", [("gtac_case", "02483917")]),
        ("numer zgłoszenia GTAC: 02483917", [("gtac_case", "02483917")]),
        ("Case #02483917, case no. 02483917", [("gtac_case", "02483917")]),
        ("RMA 1207734", [("rma", "1207734")]),
        ("RMA: 1207734 oraz rma nr 1207735", [("rma", "1207734"), ("rma", "1207735")]),
        ("RMA 1207734 do Case 02483917", [("rma", "1207734"), ("gtac_case", "02483917")]),
        ("Case 12483917", []),  # GTAC case numbers start with 0
        ("Case 024839170", []),  # nine digits
        ("umowa 40027719, S/N 2214G-00417, 02483917", []),  # no label, no case
        ("RMA 12345", []),
        ("showcase 02483917", []),
    ],
)
def test_vendor_cases(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(c["type"], c["number"]) for c in vendor_cases(text)] == expected


def plain_vendor_cases(text: str) -> list[dict[str, str]]:
    """vendor_cases with each label pattern run over the whole text on its own."""
    found = [
        (m.start("number"), "gtac_case", m.group("number")) for m in vendor_cases_module._GTAC.exact.finditer(text)
    ]
    found += [(m.start("number"), "rma", m.group("number")) for m in vendor_cases_module._RMA.exact.finditer(text)]
    cases: list[dict[str, str]] = []
    for _, kind, number in sorted(found):
        if {"type": kind, "number": number} not in cases:
            cases.append({"type": kind, "number": number})
    return cases


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(st.sampled_from([*LABEL_WORDS, *VALUES, *GLUE]), max_size=16))
def test_one_shared_label_scan_finds_what_each_pattern_finds_alone(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert vendor_cases(text) == plain_vendor_cases(text)
