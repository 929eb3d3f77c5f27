"""Label searches that Python's regex engine can run fast, with the exact results of the plain pattern.

Why this exists: `re` skips ahead in C only when a pattern starts with a plain character or character set. A
label pattern starts with a look-behind (`(?<![A-Za-z0-9])`) and an IGNORECASE alternation, so the engine tries
every alternative at every position of the text: such searches were most of the parser's time (about 15 ns per
character per pattern). Here a cheap candidate pattern, searched in the lower-cased text, finds the few word
starts where a label can begin; the exact pattern is then tried only there.

The candidate pattern is built from the lower-case beginnings of the labels (`prefixes`): it opens with the one
character before a word (no ASCII letter or digit: the engine's fast path skips to the next such character, a fifth
of the text), then tries the prefixes that begin with the letter that follows. The text is searched with a space
in front, so a label at its very start has a character before it too. Every place where the exact pattern can
match must begin with one of the prefixes at a word start: a missing prefix would lose matches, and the tests
compare this search with the plain `finditer` on generated text.

Several searches over the same text can share that first pass: a LabelGroup finds, in one scan, every place where a
label of any of its searches can begin (the candidate patterns look ahead without consuming, so no place hides
inside another), and each search then keeps the places its own candidate pattern accepts. One scan costs about as
much as one search's, so the group saves the others'.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# What may stand before a label (the plain patterns say `(?<![A-Za-z0-9])`).
_BEFORE_A_WORD = "[^a-z0-9]"


def lowered(text: str) -> str:
    """`text` in lower case with the same offsets (the few characters whose lower case is longer stay as they are)."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(low if len(low := char.lower()) == 1 else char for char in text)


def _label_starts(prefixes: Iterable[str]) -> str:
    """A pattern for what may stand before a label and, looked ahead at, the beginning of one of `prefixes`."""
    rests_by_first: dict[str, list[str]] = {}
    for prefix in prefixes:
        if not (prefix[:1].isalpha() and prefix[:1].islower()):
            raise ValueError(f"a label prefix must start with a lower-case letter: {prefix!r}")
        rests_by_first.setdefault(prefix[0], []).append(prefix[1:])
    by_first_letter = "|".join(f"{re.escape(first)}(?:{'|'.join(rest)})" for first, rest in rests_by_first.items())
    return f"{_BEFORE_A_WORD}(?=(?:{by_first_letter}))"


def _padded(text: str) -> str:
    """The text the candidate patterns search: lower case, with a character before the first word."""
    return " " + lowered(text)


class LabelSearch:
    """`finditer` of `exact` over a text, sped up by searching for where a label can start first."""

    def __init__(self, exact: re.Pattern[str], prefixes: Iterable[str]) -> None:
        self.exact = exact
        self.prefixes = tuple(prefixes)
        self._candidates = re.compile(_label_starts(self.prefixes))

    def finditer(self, text: str, scan: LabelScan | None = None) -> Iterator[re.Match[str]]:
        """The matches `exact.finditer(text)` gives: leftmost first, not overlapping.

        `scan` is a LabelGroup's scan of this same text, when the group holds this search.
        """
        if scan is None:
            starts: Iterable[int] = (candidate.start() for candidate in self._candidates.finditer(_padded(text)))
        elif (scan.text is text or scan.text == text) and self in scan.searches:
            starts = (start for start in scan.starts if self._candidates.match(scan.padded, start))
        else:
            raise ValueError("the scan is of another text, or by a group without this search")
        matched_up_to = 0
        for start in starts:  # of the character before the label in the padded text: the label's own in `text`
            if start < matched_up_to:
                continue
            match = self.exact.match(text, start)
            if match is not None:
                yield match
                matched_up_to = match.end()


@dataclass(frozen=True)
class LabelScan:
    """Where a label of any search of a group may begin in `text` (offsets in `padded`, as LabelSearch uses them)."""

    text: str
    padded: str
    starts: list[int]
    searches: frozenset[LabelSearch]


class LabelGroup:
    """Label searches run over the same text, with the places where their labels may begin found in one pass."""

    def __init__(self, searches: Iterable[LabelSearch]) -> None:
        self.searches = frozenset(searches)
        prefixes = {prefix for search in self.searches for prefix in search.prefixes}
        self._candidates = re.compile(_label_starts(sorted(prefixes)))

    def scan(self, text: str) -> LabelScan:
        padded = _padded(text)
        starts = [candidate.start() for candidate in self._candidates.finditer(padded)]
        return LabelScan(text=text, padded=padded, starts=starts, searches=self.searches)


# The characters that IGNORECASE matches to ASCII letters although lower() keeps them apart (İ ı to i, ſ to s, the
# Kelvin sign to k): a text holding one may match a case-insensitive pattern that none of its lower-case words show.
FOLDS_TO_ASCII = frozenset("\u0130\u0131\u017f\u212a")


def may_hold_any(text: str, needles: tuple[str, ...]) -> bool:
    """False only when `text` cannot hold any of the lower-case `needles` in any case: a gate before a slow
    case-insensitive search whose every match contains one of them."""
    if any(char in text for char in FOLDS_TO_ASCII):  # four substring searches: isdisjoint would walk the text
        return True
    lower = text.lower()
    return any(needle in lower for needle in needles)
