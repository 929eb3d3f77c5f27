"""What an Extreme serial or a service-contract number looks like, as a value on its own.

Shapes come from ../shared/IDENTIFIERS.md. A value is tested here without its surroundings; whether a label
is needed is decided by the callers (labels.py, fields.py).
"""

from __future__ import annotations

import re
from datetime import datetime

# Letters and digits only: "_" is a word character for `\b` but a separator in file names (show_tech_2011G-00289.log).
# A dash and more digits continue a longer number; a dash and a word may follow (tabliczka_2247G-00563-tyl.jpg).
_START = r"(?<![A-Za-z0-9])"
_END = r"(?![A-Za-z0-9]|-[0-9])"

EXOS_SERIAL = r"\d{4}[A-Za-z]-\d{5}"
"""EXOS / Switch Engine / universal hardware and their PSUs: 2011G-00289, 2231A-10458."""
VOSS_SERIAL = r"\d{2}[A-Za-z]{2}\d{3}[A-Za-z]\d{4}"
"""VOSS / VSP / Fabric Engine chassis: 14JP512E0001."""
BROCADE_SERIAL = r"[A-Za-z]{3}\d{4}[A-Za-z][A-Za-z0-9]{3}"
"""SLX (EXH3349M005) and IronWare/MLX (BGD2503J01F) share the Brocade layout."""
AP_SERIAL = r"\d{14}"
"""ExtremeCloud IQ / Aerohive access points: 02501608254257."""

# Shapes distinctive enough to be believed without a label anywhere in free text.
UNLABELLED_SERIAL_RE = re.compile(rf"{_START}(?:{EXOS_SERIAL}|{VOSS_SERIAL}|{BROCADE_SERIAL}|{AP_SERIAL}){_END}")
# The same search, fast: the regex engine skips ahead in C only to a plain first character, so every shape is
# searched from its first digit — the Brocade shape looks back from there for its three letters, which start the
# word. The first digit is ASCII `[0-9]` (a Unicode `\d` set is three times slower to skip through; serials are
# ASCII). Same matches as UNLABELLED_SERIAL_RE on such text (tests compare them).
_UNLABELLED_SERIAL_FROM_DIGIT = re.compile(
    rf"[0-9](?<![A-Za-z0-9][0-9])(?:\d{{3}}[A-Za-z]-\d{{5}}|\d[A-Za-z]{{2}}\d{{3}}[A-Za-z]\d{{4}}|\d{{13}}){_END}"
)
_BROCADE_LETTERS = 3
_BROCADE_SERIAL_FROM_DIGIT = re.compile(
    rf"[0-9](?<=(?<![A-Za-z0-9])[A-Za-z]{{{_BROCADE_LETTERS}}}[0-9])\d{{3}}[A-Za-z][A-Za-z0-9]{{3}}{_END}"
)


def unlabelled_serial_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each match of UNLABELLED_SERIAL_RE in `text`, in order."""
    spans = [match.span() for match in _UNLABELLED_SERIAL_FROM_DIGIT.finditer(text)]
    spans += [(match.start() - _BROCADE_LETTERS, match.end()) for match in _BROCADE_SERIAL_FROM_DIGIT.finditer(text)]
    return sorted(spans)


_HEZO_CONTRACT_AFTER_H = r"[Zz]/[A-Za-z]{3}/\d{4}/\d{4}"
HEZO_CONTRACT = rf"[Hh]{_HEZO_CONTRACT_AFTER_H}"
"""HEZO AHB/SOS contracts: HZ/AHB/2025/0142 (any three-letter product, they are all ours)."""
PARTNERWORKS_CONTRACT = r"4\d{7}"
"""PartnerWorks / ExtremeWorks contracts: 8 digits starting with 4; believed only with a label or in a field."""

# The word-start check follows the first letter, so the regex engine can skip ahead to an "H" or "h".
HEZO_CONTRACT_RE = re.compile(rf"[Hh](?<![A-Za-z0-9/][Hh]){_HEZO_CONTRACT_AFTER_H}(?![A-Za-z0-9]|/\d)")
# The checks on what stands before come after the leading "4", so the regex engine can skip ahead to a "4".
# A letter or digit before the 4 makes it part of another token, except the PW of `PW40012345` (its own label, glued);
# a dot, except that of `no.`/`nr.`, `um.`/`kontr.` glued to the number (`contract no.40935035`, `um.40311907`).
PARTNERWORKS_CONTRACT_RE = re.compile(
    r"4(?:(?<=PW4)|(?<=[Nn][OoRr]\.4)|(?<=[Uu][Mm]\.4)|(?<=[Tt][Rr]\.4)|(?<![A-Za-z0-9/.,]4))(?<!\d-4)\d{7}"
    r"(?![A-Za-z0-9/-]|[.,]\d)"
)

_CONTRACT_VALUE = re.compile(rf"{HEZO_CONTRACT}|{PARTNERWORKS_CONTRACT}")
_EXACT_SERIAL_SHAPES = re.compile(rf"(?:{EXOS_SERIAL}|{VOSS_SERIAL}|{BROCADE_SERIAL}|{AP_SERIAL})")
_GENERIC_SERIAL = re.compile(r"[A-Z0-9]{8,20}")
# The reporter's own helpdesk tickets (INC0012345, RITM…) have the letters+digits mix of a serial.
_TICKET = re.compile(r"(?:INC|REQ|RITM|CHG|PRB|TASK|SR|CS|CASE|RMA|FV|ZAM|PO)\d+")
_ALL_HEX_12 = re.compile(r"[0-9A-F]{12}")  # a MAC written without separators
_DIGITS = re.compile(r"\d")
_LETTERS = re.compile(r"[A-Z]")


def looks_like_timestamp(digits: str) -> bool:
    """A 14-digit YYYYMMDDhhmmss stamp (log and file names) is not an access-point serial."""
    try:
        datetime.strptime(digits, "%Y%m%d%H%M%S")
    except ValueError:
        return False
    return digits.startswith(("19", "20"))


def is_distinctive_serial(value: str) -> bool:
    """A value whose shape alone makes it a serial (no label needed)."""
    upper = value.upper()
    if not _EXACT_SERIAL_SHAPES.fullmatch(upper):
        return False
    return not (upper.isdigit() and looks_like_timestamp(upper))


OTHER_MAKERS = (
    r"APC|Eaton|Cisco|HPE?|Aruba|Dell|Fortinet|FortiGate|Juniper|Ubiquiti|UniFi|MikroTik|Huawei|Synology|QNAP|Lenovo|"
    r"Supermicro|Zyxel|TP-?Link|Netgear|Sophos|Palo\s+Alto|"
    r"Catalyst|Nexus|Meraki|ProCurve|ProLiant|PowerEdge|ThinkSystem|Smart-UPS"
)
"""Makers of equipment beside Extreme's in a report, and their product lines named without the maker ("obok Nexus
9300"), whose serials are not ours (an alternation, no groups)."""
EXTREME_NAMES = (
    r"extreme\w*|exos|voss|slx|mlx\w*|ironware|brocade|vsp|vdx|summit|ers|x\d{3}\w*|\d{4}[a-z]?-\d{2}\w*|ap\d{3}\w*"
)
"""Extreme's names, platforms and model numbers as written in reports (lower case, for IGNORECASE patterns)."""

# A line (a sentence, an inventory row) that names only another maker's equipment: a serial on it whose shape other
# makers share is theirs ("rtr-wan-01,Cisco,ISR4331/K9,FOC2318X05A"). "UPS" is no maker: a UPS fails beside a switch.
OTHER_MAKER_RE = re.compile(rf"(?<![A-Za-z0-9])(?:{OTHER_MAKERS})(?![A-Za-z0-9])", re.IGNORECASE)
"""Another maker (or a product line of theirs) named in a text."""
EXTREME_NAME_RE = re.compile(
    rf"(?<![A-Za-z0-9])(?:{EXTREME_NAMES}|switch\s+engine|fabric\s+engine)(?![A-Za-z0-9])", re.IGNORECASE
)
"""Extreme, one of its platforms or one of its models named in a text."""

_SERIAL_SHAPES_OTHERS_DO_NOT_SHARE = re.compile(rf"{EXOS_SERIAL}|{VOSS_SERIAL}|{AP_SERIAL}")


def is_shared_with_other_makers(value: str) -> bool:
    """A serial whose shape other makers use too: Cisco's (FOC2318X05A) has the SLX/IronWare layout, and a
    labelled-only shape (LBNNTMPL20180R, AS1923123456) could be anyone's."""
    return _SERIAL_SHAPES_OTHERS_DO_NOT_SHARE.fullmatch(value) is None


def is_labelled_serial(value: str) -> bool:
    """A value that is a serial when a serial label (or a form field) vouches for it.

    Besides the known shapes, any 8-20 letters-and-digits value with both letters and digits (PSU serials such as
    LBNNTMPL20180R, older platforms). Part numbers, models, versions and MACs carry '-', '.' or ':' and fail the
    shape; pure numbers other than the 14-digit AP serial are case, RMA, device or contract numbers.
    """
    upper = value.upper()
    if is_distinctive_serial(upper):
        return True
    if not _GENERIC_SERIAL.fullmatch(upper) or upper.isdigit():
        return False
    if _TICKET.fullmatch(upper) or _ALL_HEX_12.fullmatch(upper):
        return False
    return len(_DIGITS.findall(upper)) >= 2 and bool(_LETTERS.search(upper))


def contract_shape(value: str) -> bool:
    """A value shaped like a contract number (either registry convention)."""
    return bool(_CONTRACT_VALUE.fullmatch(value))
