"""Which lines of a body the reporter wrote, which are their signature, and which are quoted or forwarded.

Only the reporter's own words decide the language and the phone number, and only they belong in `description`;
identifier extraction reads everything, so a marker recognised too early costs little and one missed costs a
wrong language. Markers are those of Outlook (EN/PL), Gmail, Thunderbird, Apple Mail and webmail clients.

Every marker needs a character most lines lack (a colon ends attributions and header fields, separators are runs of
- _ = *, quotes start with >), so a line is tested against the patterns only when it, or for a two-line attribution
the next line, holds one: the patterns were most of the time spent on bodies, and a few `in` tests are not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A separator line that opens forwarded or original material: "-----Original Message-----",
# "-----Wiadomość oryginalna-----", "---------- Forwarded message ---------", "-------- Przekazana wiadomość --------".
_SEPARATOR = re.compile(
    r"^\s*[-_=*]{2,}\s*(?:original message|forwarded message|wiadomo[sś][cć] (?:oryginalna|przekazana(?: dalej)?)"
    r"|oryginalna wiadomo[sś][cć]|przekazana wiadomo[sś][cć]|tre[sś][cć] przekazanej wiadomo[sś]ci"
    r"|message d'origine|urspr[uü]ngliche nachricht|weitergeleitete nachricht)\s*[-_=*]*\s*:?\s*$",
    re.IGNORECASE,
)
_BEGIN_FORWARDED = re.compile(r"^\s*(?:begin forwarded message|pocz[aą]tek przekazanej wiadomo[sś]ci)\s*:\s*$", re.I)
# Outlook's separator rule before a header block.
_RULE = re.compile(r"^\s*_{10,}\s*$")
# Attribution lines: "W dniu 12.02.2026 o 10:41, X pisze:", "On Mon, ... X wrote:", "Dnia ... X napisał(a):".
_ATTRIBUTION_END = re.compile(
    r"(?:wrote|writes|pisze|napisa[lł](?:a|\(a\))?|napisa[lł]\(a\)|schrieb|a [ée]crit)\s*:\s*$", re.IGNORECASE
)
_ATTRIBUTION_START = re.compile(r"^\s*(?:on\b|w dniu\b|dnia\b|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|am\b|le\b)", re.I)
# Outlook header blocks: "From:/Od:" followed within a few lines by "Sent:/Wysłano:/Date:" and "To:/Do:/Subject:".
_HEADER_FROM = re.compile(r"^\s*\*?(?:from|od|von|de)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_DATE = re.compile(r"^\s*\*?(?:sent|date|wys[lł]ano|wys[lł]ane|data|gesendet|envoy[ée])\s*:", re.IGNORECASE)
_HEADER_OTHER = re.compile(r"^\s*\*?(?:to|do|an|[àa]|subject|temat|betreff|objet|cc|dw)\s*:", re.IGNORECASE)
_QUOTED = re.compile(r"^\s*>")
# RFC 3676 signature delimiter; many clients drop the trailing space.
_SIGNATURE_DELIMITER = re.compile(r"^--\s*$")
# Confidentiality notices and legal or data-protection footers that a company's mail server or template adds: not
# the reporter's words (an English notice under a short Polish report decided its language). One opens a paragraph.
_DISCLAIMER_START = re.compile(
    r"^\W*(?:confidentiality\s+(?:notice|note|statement)|disclaimer|legal\s+notice|klauzula\s+poufno[sś]ci"
    r"|(?:this|the)\s+(?:e-?mail|message|communication)\b.{0,80}?\b(?:confidential|privileged|intended\s+(?:solely|only))"
    r"|the\s+information\s+(?:contained\s+)?in\s+this\s+(?:e-?mail|message|communication)"
    r"|please\s+consider\s+the\s+environment"
    r"|(?:tre[sś][cć]\s+)?(?:tej|niniejszej)\s+wiadomo[sś]ci\b.{0,80}?(?:poufn|zastrze[zż]on|przeznaczon)"
    r"|(?:ta|niniejsza)\s+wiadomo[sś][cć]\b.{0,80}?(?:poufn|zastrze[zż]on|przeznaczon)"
    r"|informacje\s+zawarte\s+w\s+(?:tej|niniejszej)\s+wiadomo[sś]ci"
    r"|administratorem\s+(?:pani|pana|pa[nń]stwa|twoich|danych)"
    r"|zanim\s+wydrukujesz)",
    re.IGNORECASE,
)
# The same openings sought in the whole own text at once, each from the line break before a blank line (the regex
# engine skips from one line break to the next in C); a find is then confirmed on its own line.
_DISCLAIMER_AFTER_BLANK_LINE = re.compile(
    r"\n(?=[^\S\n]*\n" + _DISCLAIMER_START.pattern.removeprefix("^") + ")", re.IGNORECASE
)
_HEADER_BLOCK_SPAN = 6


@dataclass(frozen=True)
class BodySplit:
    """A body cut into the reporter's own words, their signature and everything quoted or forwarded."""

    own: str
    signature: str
    quoted: str

    @property
    def own_with_signature(self) -> str:
        return f"{self.own}\n{self.signature}".strip()


def _may_attribute(lines: list[str], index: int) -> bool:
    """An attribution (one line, or two with the colon on the second) ends a line with a colon."""
    return ":" in lines[index] or (index + 1 < len(lines) and ":" in lines[index + 1])


def _may_open_history(lines: list[str], index: int) -> bool:
    """A separator or rule holds one of - _ = *; forwarded, header and attribution lines need a colon."""
    line = lines[index]
    return "-" in line or "_" in line or "=" in line or "*" in line or _may_attribute(lines, index)


def _is_header_block(lines: list[str], start: int) -> bool:
    if not _HEADER_FROM.match(lines[start]):
        return False
    window = lines[start + 1 : start + 1 + _HEADER_BLOCK_SPAN]
    return any(_HEADER_DATE.match(line) for line in window) and any(_HEADER_OTHER.match(line) for line in window)


def _ends_attribution(line: str) -> bool:
    # The cheap test first: the pattern can only match a line that ends with a colon.
    return line.rstrip().endswith(":") and _ATTRIBUTION_END.search(line) is not None


def _attribution_lines(lines: list[str], index: int) -> int:
    """How many lines (1 or 2) an attribution starting here spans; 0 when it is not one."""
    line = lines[index]
    if _ends_attribution(line) and (_ATTRIBUTION_START.match(line) or _next_is_quote(lines, index + 1)):
        return 1
    # Gmail and Thunderbird wrap a long attribution before "<address> wrote:".
    if index + 1 < len(lines) and _ATTRIBUTION_START.match(line) and _ends_attribution(lines[index + 1]):
        return 2
    return 0


def _next_is_quote(lines: list[str], index: int) -> bool:
    following = [line for line in lines[index : index + 3] if line.strip()]
    return bool(following) and bool(_QUOTED.match(following[0]))


def history_start(lines: list[str]) -> int:
    """Index of the first line of quoted or forwarded history that runs to the end; len(lines) when none."""
    for index, line in enumerate(lines):
        if not _may_open_history(lines, index):
            continue
        if _SEPARATOR.match(line) or _BEGIN_FORWARDED.match(line):
            return index
        if _RULE.match(line) and index + 1 < len(lines) and _is_header_block(lines, index + 1):
            return index
        if _is_header_block(lines, index) or _attribution_lines(lines, index):
            return index
    return len(lines)


def signature_start(lines: list[str]) -> int:
    """Index of the first line of the signature block in the own text: the signature delimiter, or a boilerplate
    paragraph (see _DISCLAIMER_START) before it; len(lines) when the signature cannot be told apart."""
    delimiter = len(lines)
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].startswith("--") and _SIGNATURE_DELIMITER.match(lines[index]):
            delimiter = index
            break
    text = "\n" + "\n".join(lines[:delimiter])  # a line break before the first line too
    for found in _DISCLAIMER_AFTER_BLANK_LINE.finditer(text):
        blank = text.count("\n", 0, found.start())  # the line after the break found
        if blank + 1 < delimiter and _DISCLAIMER_START.match(lines[blank + 1]):
            return blank + 1
    return delimiter


def split_body(text: str) -> BodySplit:
    """Cut a plain-text body; interleaved `>` lines are history, unquoted answers between them stay own text."""
    lines = text.splitlines()
    start = history_start(lines)
    head, history = lines[:start], lines[start:]
    if not any(line.strip() for line in head) and history and _attribution_lines(history, 0):
        # Bottom-posted or interleaved answer: the reporter's words are the unquoted lines below the attribution.
        head, history = history, []
    own_lines: list[str] = []
    quoted_lines: list[str] = []
    skip = 0
    for index, line in enumerate(head):
        if skip:
            skip -= 1
            quoted_lines.append(line)
        elif ">" in line and _QUOTED.match(line):
            quoted_lines.append(line)
        elif _may_attribute(head, index) and (span := _attribution_lines(head, index)):
            skip = span - 1
            quoted_lines.append(line)
        else:
            own_lines.append(line)
    cut = signature_start(own_lines)
    own = "\n".join(own_lines[:cut]).strip()
    signature = "\n".join(own_lines[cut:]).strip()
    quoted = "\n".join([*quoted_lines, *history]).strip()
    return BodySplit(own=own, signature=signature, quoted=quoted)
