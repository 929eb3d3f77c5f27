"""Extreme GTAC case numbers and RMA numbers a reporter quotes: "Case 02483917", "GTAC case 02483917",
"nr zgłoszenia w GTAC 02483917", "RMA 1207734", "RMA: 1207734". Pure.

They are not our identifiers (the identifier parser blanks them as look-alikes), but the desk wants them: a case
already open at Extreme's GTAC, or an RMA already issued, changes what the engineer does first. A case number is
8 digits starting with 0; only numbers after a label count, since a bare number could be anything.
"""

from __future__ import annotations

import re

from parsers.wordscan import LabelGroup, LabelSearch

_FILLER = r"(?:[\s:#.=()\-–]|nr\b|no\b|numer\w*|number\b|id\b)*"
_GTAC_LABEL = (
    r"(?:GTAC\s+)?case|"
    r"(?:nr\.?\s+|numer\w*\s+)?zg[lł]oszeni\w*\s+(?:w\s+|do\s+)?GTAC|"
    r"GTAC"
)
_GTAC = LabelSearch(
    re.compile(rf"(?<![A-Za-z0-9])(?:{_GTAC_LABEL}){_FILLER}(?P<number>0\d{{7}})(?!\d)", re.IGNORECASE),
    prefixes=("gtac", "case", "nr", "numer", "zg"),
)
_RMA = LabelSearch(
    re.compile(rf"(?<![A-Za-z0-9])RMA{_FILLER}(?P<number>\d{{7,8}})(?!\d)", re.IGNORECASE), prefixes=("rma",)
)


# One pass over the text finds where either kind of label may begin (the text is a whole mail: subject,
# description and body).
_LABELS = LabelGroup([_GTAC, _RMA])


def vendor_cases(text: str) -> list[dict[str, str]]:
    """`[{"type": "gtac_case" | "rma", "number": "..."}]` in order of appearance, without repeats."""
    scan = _LABELS.scan(text)
    found = [(m.start("number"), "gtac_case", m.group("number")) for m in _GTAC.finditer(text, scan)]
    found += [(m.start("number"), "rma", m.group("number")) for m in _RMA.finditer(text, scan)]
    seen: set[tuple[str, str]] = set()
    cases: list[dict[str, str]] = []
    for _, kind, number in sorted(found):
        if (kind, number) not in seen:
            seen.add((kind, number))
            cases.append({"type": kind, "number": number})
    return cases
