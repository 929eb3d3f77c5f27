"""Values under a column header: tables written as lines of cells (HTML tables as html_text renders them, pastes
from a spreadsheet with tabs).

A label that fills a header cell on its own ("Numer seryjny", "Nr umowy", "S/N") names the column below it; the
rows that follow, up to a blank line, hold one value per cell in that column. A row is read only when it has as many
cells as the header: empty cells vanish from rendered text, and in a shorter row another column's value would stand
under the label.
"""

from __future__ import annotations

import re

Found = tuple[int, str]

_CELL = re.compile(r"[^\t ]+(?: [^\t ]+)*")  # cells are parted by a tab or two blanks; one blank stays inside a cell
# What may stand in a header cell besides the label itself.
_HEADER_WORDS = re.compile(r"(?:\s|[:#.]|\bnr\b|\bnumer\b|\bno\b|\bnumber\b)*", re.IGNORECASE)
_MAX_ROWS = 100


def _cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return [match.span() for match in _CELL.finditer(text, start, end)]


def column_values(text: str, label: re.Match[str]) -> list[Found]:
    """(offset, cell) of each row under `label`'s column, when `label` heads a column of a table; else []."""
    line_start = text.rfind("\n", 0, label.start()) + 1
    line_end = text.find("\n", label.end())
    if line_end < 0:
        return []
    header = _cells(text, line_start, line_end)
    column = next((index for index, (start, end) in enumerate(header) if start <= label.start() < end), None)
    if len(header) < 2 or column is None:
        return []
    cell_start, cell_end = header[column]
    if label.end() > cell_end or not (
        _HEADER_WORDS.fullmatch(text, cell_start, label.start())
        and _HEADER_WORDS.fullmatch(text, label.end(), cell_end)
    ):
        return []
    found: list[Found] = []
    row_start = line_end + 1
    for _ in range(_MAX_ROWS):
        row_end = text.find("\n", row_start)
        row_end = len(text) if row_end < 0 else row_end
        row = _cells(text, row_start, row_end)
        if not row:
            break  # a blank line ends the table
        if len(row) == len(header):
            start, end = row[column]
            found.append((start, text[start:end]))
        if row_end == len(text):
            break
        row_start = row_end + 1
    return found
