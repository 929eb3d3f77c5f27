"""HTML mail bodies to plain text that keeps what identifier extraction needs.

html2text renders a table row as `label| value` on one line, which keeps a label next to its value (Outlook puts
"Numer seryjny" and the serial in neighbouring cells). Markdown decoration is then taken back out: separator rows,
cell bars, escapes and non-breaking spaces would otherwise sit between a label and its value. The rows of a table
(the line above html2text's separator row and the lines below it up to a blank one) have their cells parted by
tabs, empty cells kept: a column's values then stay under its header (see parsers/identifiers/columns.py).
"""

from __future__ import annotations

import re
from html import unescape

import html2text

_TABLE_RULE = re.compile(r"^[\s|:-]*-{3,}[\s|:-]*$")
_CELL_BAR = re.compile(r"[ \t]+\|[ \t]+|^\|[ \t]*|[ \t]*\|$")
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>])")
_TAG = re.compile(r"<[^>]*>")
_DROPPED_BLOCKS = re.compile(r"(?is)<(style|script|head)\b.*?</\1\s*>")
_BREAKS = re.compile(r"(?i)<\s*(br|/p|/div|/tr|/li|/h\d)\b[^>]*>")
_CELLS = re.compile(r"(?i)<\s*/t[dh]\s*>")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_RUNS = re.compile(r"\n{3,}")


def _converter() -> html2text.HTML2Text:
    converter = html2text.HTML2Text()
    converter.body_width = 0  # never re-wrap: a wrapped line can split a label from its value
    converter.unicode_snob = True  # real characters (ą, „) instead of ASCII look-alikes
    converter.ignore_images = True
    converter.ignore_links = True  # keep link text, drop URLs: long tracking URLs only add noise
    converter.ignore_emphasis = True
    converter.ignore_tables = False
    return converter


def _tidy_line(line: str) -> str:
    line = line.replace("\u00a0", " ")
    line = _MARKDOWN_ESCAPE.sub(r"\1", line)
    line = _CELL_BAR.sub("  ", line) if "|" in line else line
    return line.rstrip()


def _strip_tags(html: str) -> str:
    """Last resort when the converter fails: drop tags, keep line and cell breaks."""
    text = _DROPPED_BLOCKS.sub(" ", html)
    text = _BREAKS.sub("\n", text)
    text = _CELLS.sub("  ", text)
    text = unescape(_TAG.sub("", text))
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())


def _table_row(line: str) -> str:
    return "\t".join(_tidy_line(cell).strip() for cell in line.split("|"))


def _tidy_lines(markdown: str) -> list[str]:
    lines = markdown.splitlines()
    table_rows: set[int] = set()
    for index, line in enumerate(lines):
        if _TABLE_RULE.match(line) and "|" in line and index > 0 and "|" in lines[index - 1]:
            table_rows.add(index - 1)
            below = index + 1
            while below < len(lines) and lines[below].strip():
                table_rows.add(below)
                below += 1
    return [
        _table_row(line) if index in table_rows and "|" in line else _tidy_line(line)
        for index, line in enumerate(lines)
        if not _TABLE_RULE.match(line)
    ]


def html_to_text(html: str) -> str:
    """Readable text of an HTML body; table rows stay on one line, `&nbsp;` becomes a space."""
    try:
        markdown = _converter().handle(html)
    except Exception:  # html2text is best effort on hostile HTML; tag stripping still keeps every word
        markdown = _strip_tags(html)
    return _BLANK_RUNS.sub("\n\n", "\n".join(_tidy_lines(markdown))).strip()
