"""HTML mail bodies to plain text that keeps what identifier extraction needs.

html2text renders a table row as `label | value` on one line, which keeps a label next to its value (Outlook puts
"Numer seryjny" and the serial in neighbouring cells). Markdown decoration is then taken back out: separator rows,
cell bars, escapes and non-breaking spaces would otherwise sit between a label and its value.
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


def html_to_text(html: str) -> str:
    """Readable text of an HTML body; table rows stay on one line, `&nbsp;` becomes a space."""
    try:
        markdown = _converter().handle(html)
    except Exception:  # html2text is best effort on hostile HTML; tag stripping still keeps every word
        markdown = _strip_tags(html)
    lines = [_tidy_line(line) for line in markdown.splitlines() if not _TABLE_RULE.match(line)]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()
