"""Values under a column header: tables written as lines of cells (HTML tables as html_text renders them, pastes
from a spreadsheet with tabs, CSV exports with `;` or `,`, Markdown and ASCII tables with `|`).

A label that fills a header cell ("Numer seryjny", "Nr umowy", "S/N", "PSU1 SN") names the column below it; the
rows that follow, up to a blank line, hold one value per cell in that column. A row is read only when it has as many
cells as the header: empty cells vanish from rendered text, and in a shorter row another column's value would stand
under the label. A text's rows are read up to a bound (ColumnReader).
"""

from __future__ import annotations

import re
from collections.abc import Callable

Found = tuple[int, str]
Cells = Callable[[str, int, int], list[tuple[int, int]]]

# Rendered and pasted tables: cells are parted by a tab or two blanks; one blank stays inside a cell.
_PLAIN_CELL = re.compile(r"[^\t ]+(?: [^\t ]+)*")
# What may stand in a header cell besides the label: number words and the unit the column is about (no value: a
# digit may only number a unit, "PSU1", "Zasilacz 2").
_HEADER_WORDS = re.compile(
    r"(?:\s|[:#.\"'()]|\b(?:nr|numer|no|number)\b|\b(?:psu|ps|power\s+supply|zasilacz\w*|chassis|device|unit|slot"
    r"|urządzeni\w*|modu[lł]\w*|module)(?:[ \t]?\d{1,2})?\b)*",
    re.IGNORECASE,
)
_MAX_ROWS = 100
MAX_ROWS_PER_TEXT = 2_000


def _plain_cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    if text.find("\t", start, end) >= 0:  # a spreadsheet's paste: every tab parts two cells, empty ones too
        return _tab_cells(text, start, end)
    return [match.span() for match in _PLAIN_CELL.finditer(text, start, end)]


def _tab_cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    while True:
        tab = text.find("\t", start, end)
        cell_end = end if tab < 0 else tab
        value = _PLAIN_CELL.search(text, start, cell_end)
        spans.append(value.span() if value else (start, start))
        if tab < 0:
            return spans
        start = tab + 1


def _delimited(separator: str) -> Cells:
    """Cells of a CSV line parted by `separator`: each value's span (inside its quotes when quoted), empty ones
    too, or [] when the line does not read as such a line."""
    escaped = re.escape(separator)
    field = re.compile(
        rf'[ \t\ufeff]*(?:"(?P<quoted>(?:[^"]|"")*)"|(?P<plain>[^{escaped}"\n]*?))[ \t\r]*(?:{escaped}|$)'
    )

    def cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
        if text.find(separator, start, end) < 0:
            return []
        spans: list[tuple[int, int]] = []
        position = start
        while position < end:
            match = field.match(text, position, end)
            if match is None or match.end() == position:
                return []  # not a well-formed line of this separator
            group = "quoted" if match.group("quoted") is not None else "plain"
            spans.append(match.span(group))
            position = match.end()
        return spans if len(spans) > 1 else []  # an empty cell is written out here, and keeps its place

    return cells


_CELL_SPLITTERS: tuple[Cells, ...] = (_plain_cells, _delimited(";"), _delimited(","), _delimited("|"))


def _column_of(text: str, label: re.Match[str], header: list[tuple[int, int]]) -> int | None:
    """The index of the header cell that holds `label` and nothing but header words besides it."""
    for index, (start, end) in enumerate(header):
        if start <= label.start() and label.end() <= end:
            before = _HEADER_WORDS.fullmatch(text, start, label.start())
            return index if before and _HEADER_WORDS.fullmatch(text, label.end(), end) else None
    return None


def _trailing_cells_empty(
    row: list[tuple[int, int]], row_start: int, indents: list[int], column: int, cells: Cells
) -> bool:
    """A shorter row typed in columns under its header ("Uwagi" left empty): every cell starts where its header
    does, so the missing cells are the last ones, after `column`."""
    return (
        cells is _plain_cells
        and column < len(row) < len(indents)
        and all(start - row_start == indent for (start, _), indent in zip(row, indents, strict=False))
    )


class ColumnReader:
    """Reads the columns under the labels of one text, at most MAX_ROWS_PER_TEXT rows in all.

    Each header reads its rows, so a text of stacked header-like lines ("S/N<tab>Nr umowy" ten thousand times)
    would cost headers x rows: a crafted attachment could hold a worker for minutes.
    """

    def __init__(self, text: str, layout: str | None = None) -> None:
        """`layout`: the text before look-alikes were blanked in it (same length), when `text` is masked. Its cells
        part the rows, so a blanked cell ("INC0088412") keeps its place instead of vanishing."""
        self.text = text
        self.layout = text if layout is None or len(layout) != len(text) else layout
        self.rows_left = MAX_ROWS_PER_TEXT

    def values(self, label: re.Match[str]) -> list[Found] | None:
        """(offset, cell) of each row under `label`'s column when `label` heads a column of a table, else None.

        A header's label names only its own column: the caller must not take the next line's first value for it.
        """
        text = self.text
        line_end = text.find("\n", label.end())
        if line_end < 0:
            return None
        # A header cell ends after the label and a few header words, at a cell break or the line's end: prose that
        # merely holds a label ("Numer seryjny: 2214G-00417, umowa ...") is passed over before any line is split.
        words = _HEADER_WORDS.match(text, label.end(), line_end)
        assert words is not None  # the pattern matches the empty string
        after = words.group(0)
        if not (words.end() == line_end or text[words.end()] in ';,|"' or "\t" in after or "  " in after):
            return None
        line_start = text.rfind("\n", 0, label.start()) + 1
        for cells in _CELL_SPLITTERS:
            header = cells(self.layout, line_start, line_end)
            if len(header) < 2:
                continue
            column = _column_of(text, label, header)
            if column is not None:
                indents = [start - line_start for start, _ in header]
                return self._rows(line_end + 1, cells, indents, column)
        return None

    def _rows(self, first: int, cells: Cells, indents: list[int], column: int) -> list[Found]:
        """The cells under `column` of the rows from `first`; `indents`: where each header cell starts in its line."""
        text, layout = self.text, self.layout
        found: list[Found] = []
        row_start = first
        for _ in range(min(_MAX_ROWS, max(self.rows_left, 0))):
            self.rows_left -= 1
            row_end = text.find("\n", row_start)
            row_end = len(text) if row_end < 0 else row_end
            if not layout[row_start:row_end].strip():
                break  # a blank line ends the table
            row = cells(layout, row_start, row_end)
            if len(row) == len(indents) or _trailing_cells_empty(row, row_start, indents, column, cells):
                start, end = row[column]
                found.append((start, text[start:end].strip()))
            if row_end == len(text):
                break
            row_start = row_end + 1
        return found
