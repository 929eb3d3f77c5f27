"""Characters that sit invisibly between a label and its value, and the line ends of every mailer, made plain."""

from __future__ import annotations

import re

_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile("[\u00a0\u2007\u202f]")
_LINE_ENDS = re.compile(r"\r\n?")


def clean_text(text: str) -> str:
    """Unix line ends, ordinary spaces for non-breaking ones, no zero-width characters or soft hyphens."""
    return _INVISIBLE.sub("", _SPACES.sub(" ", _LINE_ENDS.sub("\n", text)))
