"""Characters that sit invisibly between a label and its value, and the line ends of every mailer, made plain."""

from __future__ import annotations

import re

_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile("[\u00a0\u2007\u202f]")


def clean_text(text: str) -> str:
    """Unix line ends, ordinary spaces for non-breaking ones, no zero-width characters or soft hyphens."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isascii():  # none of the characters below is ASCII: CLI output and English mail are done here
        return text
    return _INVISIBLE.sub("", _SPACES.sub(" ", text))
