"""Form fields (portal, call record): typed by people, so classified by the shape of each value.

A field may be empty, hold several values (`2011G-00289, 2011G-00290`, `A / B`, `A + B (stack)`), carry a prefix
(`SN: …`, `PW 40012345`, `umowa 40012345`) or hold the wrong thing (a contract number in the serial field).
The field itself is the label, so an 8-digit 4… number counts as a contract in either field.
"""

from __future__ import annotations

import re

from parsers.identifiers.lookalikes import mask_lookalikes
from parsers.identifiers.shapes import (
    EXTREME_NAME_RE,
    OTHER_MAKER_RE,
    OTHER_MAKERS,
    contract_shape,
    is_distinctive_serial,
    is_labelled_serial,
)

_TOKEN_RE = re.compile(r"[A-Za-z0-9]+(?:[-/.#][A-Za-z0-9]+)*")
# A label glued to the value it names (`SN#2301G-00452`, `S/N.2214G-00417`, `PW-40146290`): the separators also join
# a value's own parts, so the label is cut off the token rather than split at them.
_GLUED_LABEL_RE = re.compile(r"^(?:s/n|sn|serial|ser|pw|nr)[#:.\-]+(?=[A-Za-z0-9])", re.IGNORECASE)
# ... and glued with nothing between (`PW40012345`, `umowa40231177`, `SN2302G-00633`).
_GLUED_CONTRACT_LABEL_RE = re.compile(r"(?:pw|um[oó]w[^\W\d_]*|kontrakt[^\W\d_]*|contract)(?=4)", re.IGNORECASE)
_GLUED_SERIAL_LABEL_RE = re.compile(r"(?:s/n|sn)(?=\d)", re.IGNORECASE)
_WORD_BEFORE_RE = re.compile(r"([^\W\d_]+)[ \t:#.'’]*\Z")
_SOMETHING_ELSE_RE = re.compile(
    rf"{OTHER_MAKERS}|UPS|XIQ|nazwa|name|hostname|host|klienta|customer|oferta|offer|quote", re.IGNORECASE
)


def _classify(token: str, serials: list[str], contracts: list[str]) -> None:
    if contract_shape(token):
        contracts.append(token.upper())
    elif (label := _GLUED_CONTRACT_LABEL_RE.match(token)) and contract_shape(token[label.end() :]):
        contracts.append(token[label.end() :])
    elif is_labelled_serial(token):
        serials.append(token.upper())
    elif (label := _GLUED_SERIAL_LABEL_RE.match(token)) and is_labelled_serial(token[label.end() :]):
        serials.append(token[label.end() :].upper())
    elif "/" in token:  # `A/B` written without spaces
        for part in token.split("/"):
            _classify(part, serials, contracts)


def _named_as_something_else(masked: str, start: int) -> bool:
    """The word right before a token names another maker or a name, not a serial: "FortiGate FGT60F…", "nazwa AP w
    XIQ: KRKAP01…"."""
    before = _WORD_BEFORE_RE.search(masked, max(0, start - 40), start)
    return before is not None and _SOMETHING_ELSE_RE.fullmatch(before.group(1)) is not None


def identifiers_in_field(value: str) -> tuple[list[str], list[str]]:
    """(serials, contracts) typed into one form field, in the order written."""
    serials: list[str] = []
    contracts: list[str] = []
    masked = mask_lookalikes(value)
    # A field that names another maker and nothing of Extreme's is about their device ("nie ma - podała
    # FGT60FTK22019874 (to FortiGate)"): a serial there needs a shape of Extreme's own.
    about_another_maker = OTHER_MAKER_RE.search(masked) is not None and EXTREME_NAME_RE.search(masked) is None
    for token in _TOKEN_RE.finditer(masked):
        text = _GLUED_LABEL_RE.sub("", token.group(0))
        distinctive = is_distinctive_serial(text)
        if _named_as_something_else(masked, token.start()) and not distinctive:
            continue
        if about_another_maker and not distinctive:
            _classify(text, [], contracts)  # the field's contract numbers still count
            continue
        _classify(text, serials, contracts)
    return serials, contracts
