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
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# What may stand before a label (the plain patterns say `(?<![A-Za-z0-9])`).
_BEFORE_A_WORD = "[^a-z0-9]"


def lowered(text: str) -> str:
    """`text` in lower case with the same offsets (the few characters whose lower case is longer stay as they are)."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(low if len(low := char.lower()) == 1 else char for char in text)


class LabelSearch:
    """`finditer` of `exact` over a text, sped up by searching for where a label can start first."""

    def __init__(self, exact: re.Pattern[str], prefixes: Iterable[str]) -> None:
        rests_by_first: dict[str, list[str]] = {}
        for prefix in prefixes:
            if not (prefix[:1].isalpha() and prefix[:1].islower()):
                raise ValueError(f"a label prefix must start with a lower-case letter: {prefix!r}")
            rests_by_first.setdefault(prefix[0], []).append(prefix[1:])
        by_first_letter = "|".join(f"{re.escape(first)}(?:{'|'.join(rest)})" for first, rest in rests_by_first.items())
        self.exact = exact
        self._candidates = re.compile(f"{_BEFORE_A_WORD}(?:{by_first_letter})")

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """The matches `exact.finditer(text)` gives: leftmost first, not overlapping."""
        padded = " " + lowered(text)
        position = matched_up_to = 0
        while (candidate := self._candidates.search(padded, position)) is not None:
            start = candidate.start()  # of the character before the label in `padded`: the label's own in `text`
            position = start + 1
            if start < matched_up_to:
                continue
            match = self.exact.match(text, start)
            if match is not None:
                yield match
                matched_up_to = match.end()
