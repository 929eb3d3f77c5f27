"""Extreme GTAC case and RMA numbers quoted by reporters."""

from __future__ import annotations

import pytest

from parsers.vendor_cases import vendor_cases


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
