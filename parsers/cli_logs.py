"""Serial numbers in Extreme CLI output, read by the structure of each command's output.

- EXOS / Switch Engine `show version`: `Switch : <part> <serial> Rev …`, stack `Slot-N :` lines, option modules
  (`5520-VIM-4X-1 : <part> <serial> Rev 03`) and PSUs (`PSU-1 : Internal PSU-1 <serial>`); `show power` PartInfo.
  The first token after the colon is a PART number, never the serial.
- VOSS / Fabric Engine `show sys-info`: `Serial#`, `Ps#N Serial Number` and the card table's Serial# column;
  `Part Number` lines are not serials.
- SLX `show inventory` (`SN:`), IronWare and ERS `show version` (`Serial #:`),
  XIQ / HiveOS JSON (`serialNumber`, `serial`).

Structure only: the values returned are candidates at serial positions (offset, value), and the caller checks
their shape (an empty cell, `--` or `N/A` stands where a serial would). Offsets keep the order of first appearance.
"""

from __future__ import annotations

import re

from parsers.wordscan import LabelScan, LabelSearch

Found = tuple[int, str]

_PART_NUMBER_RE = re.compile(r"\d{6}-\d{2}-\d{2}|\d{6}-[A-Z]\.\d{2}|\d{2}-\d{7}-\d{2}")
# `<name> : <tokens>` hardware lines of EXOS show version / show power.
_EXOS_HARDWARE_LINE_RE = re.compile(
    # Possessive runs (`++`): a run of letters and digits is followed by "-", a blank or ":", never by more of
    # them, so giving characters back cannot help; on long lines the backtracking cost four times the search.
    r"^[ \t]*+(?P<name>Switch|Slot-\d+|PSU-\d+|PartInfo|[A-Za-z0-9]++(?:-[A-Za-z0-9]++)+)"
    r"[ \t]*:[ \t]*(?P<rest>[^\n]*)$",
    re.MULTILINE,
)
_ALWAYS_HARDWARE_NAMES = re.compile(r"Switch|Slot-\d+|PSU-\d+|PartInfo")
_HARDWARE_LINE_END_RE = re.compile(r"\s(?:Rev|BootROM:|IMG:)(?:\s|$)")
_NOT_A_SERIAL_TOKEN_RE = re.compile(r"Internal|External|PSU-\d+|Rev", re.IGNORECASE)

# Key/value lines whose value is a serial on every platform.
_SERIAL_KEY_VALUE = LabelSearch(
    re.compile(
        r"(?<![^\s(,;])(?:Serial\s*#|Serial\s+Number|Ps#\d+\s+Serial\s+Number|SN)[ \t]*:[ \t]*(?P<value>[A-Za-z0-9-]+)",
        re.IGNORECASE,
    ),
    prefixes=("serial", "ps#", "sn"),
)
LABEL_SEARCHES = (_SERIAL_KEY_VALUE,)
"""The label searches of this module, for a LabelGroup that scans a text once for them and others."""
# Key case varies by tool: serialNumber (XIQ), SerialNumber (PowerShell, .NET), serial_number.
_JSON_SERIAL_RE = re.compile(r'"(?i:serialNumber|serial_number|serialNo|serial|sn)"\s*:\s*"(?P<value>[^"]{1,40})"')
# SNMP walks of the ENTITY-MIB: `ENTITY-MIB::entPhysicalSerialNum.5 = STRING: "LBNNTMPL22166B"`.
_SNMP_SERIAL_RE = re.compile(r'entPhysicalSerialNum(?:\.\d+)*\s*=\s*STRING:\s*"?(?P<value>[A-Za-z0-9-]{1,40})')

# VOSS card table: a header with a `Serial#` column, then rows until a blank line.
_TABLE_HEADER_RE = re.compile(r"^[ \t]*(?=[^\n]*\bSerial#)(?:\S+[ \t]+){2,}\S+[ \t]*$", re.MULTILINE)
_ROW_TOKEN_RE = re.compile(r"\S+")


def _hardware_lines(text: str) -> list[re.Match[str]]:
    """What `_EXOS_HARDWARE_LINE_RE.finditer(text)` finds, trying only lines that hold a colon.

    The pattern is anchored at line starts, which the regex engine cannot skip to: it tried every position of the
    text. Every match holds a colon, and colons are found at C speed.
    """
    lines: list[re.Match[str]] = []
    colon = text.find(":")
    while colon >= 0:
        line = _EXOS_HARDWARE_LINE_RE.match(text, text.rfind("\n", 0, colon) + 1)
        if line is not None:
            lines.append(line)
        line_end = text.find("\n", colon)
        colon = text.find(":", line_end) if line_end >= 0 else -1
    return lines


def _exos_hardware_serials(text: str) -> list[Found]:
    found: list[Found] = []
    for line in _hardware_lines(text):
        rest = line.group("rest")
        has_part_number = _PART_NUMBER_RE.search(rest) is not None
        if not _ALWAYS_HARDWARE_NAMES.fullmatch(line.group("name")) and not (
            has_part_number and _HARDWARE_LINE_END_RE.search(rest)
        ):
            continue
        end = _HARDWARE_LINE_END_RE.search(rest)
        offset = line.start("rest")
        for token in _ROW_TOKEN_RE.finditer(rest[: end.start()] if end else rest):
            value = token.group(0)
            if _PART_NUMBER_RE.fullmatch(value) or _NOT_A_SERIAL_TOKEN_RE.fullmatch(value):
                continue
            found.append((offset + token.start(), value))
    return found


def _table_serials(text: str) -> list[Found]:
    found: list[Found] = []
    if "Serial#" not in text:  # the header pattern asks for it: skip the line-by-line search
        return found
    for header in _TABLE_HEADER_RE.finditer(text):
        columns = header.group(0).split()
        column = columns.index("Serial#") if "Serial#" in columns else -1
        if column < 0:
            continue
        position = header.end() + 1
        for row in text[position:].split("\n"):
            if not row.strip():
                break
            cells = list(_ROW_TOKEN_RE.finditer(row))
            # Continuation lines of the header ("Status Status State") are shorter and fail the caller's shape check.
            if len(cells) > column:
                found.append((position + cells[column].start(), cells[column].group(0)))
            position += len(row) + 1
    return found


def serial_candidates_in_cli_output(text: str, scan: LabelScan | None = None) -> list[Found]:
    """Values standing where Extreme CLI output and XIQ JSON put a serial, anywhere in `text`, in text order.

    `scan`: a scan of `text` by a LabelGroup holding LABEL_SEARCHES (saves a pass over the text).
    """
    found = _exos_hardware_serials(text) + _table_serials(text)
    key_values = (_SERIAL_KEY_VALUE.finditer(text, scan), _JSON_SERIAL_RE.finditer(text))
    snmp = _SNMP_SERIAL_RE.finditer(text) if "entPhysicalSerialNum" in text else iter(())
    for matches in (*key_values, snmp):
        found += [(m.start("value"), m.group("value")) for m in matches]
    return sorted(found)
