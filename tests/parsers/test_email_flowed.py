"""RFC 3676 format=flowed bodies are joined back into the lines their writer typed."""

from __future__ import annotations

import pytest

from parsers.email.flowed import unflow

CASES = [
    ("numer seryjny \nzasilacza: LBNNTMPL22158H", False, "numer seryjny zasilacza: LBNNTMPL22158H"),
    ("numer seryjny \nzasilacza: X", True, "numer seryjnyzasilacza: X"),  # DelSp=yes: the space is no content
    ("one \ntwo \nthree\nfour", False, "one two three\nfour"),
    ("hard line\nanother", False, "hard line\nanother"),
    ("-- \nJan", False, "-- \nJan"),  # the signature delimiter is never a soft break
    ("> quoted \n> more\nown", False, "> quoted more\nown"),
    ("soft \n> quoted", False, "soft \n> quoted"),  # another quote depth: the break is hard
    ("  stuffed line\n >From here", False, " stuffed line\n>From here"),  # space-stuffing taken out
    ("crlf \r\nline\r\n", False, "crlf line\n"),
    ("ends soft ", False, "ends soft "),
]


@pytest.mark.parametrize(("text", "delsp", "expected"), CASES)
def test_unflow(text: str, delsp: bool, expected: str) -> None:
    assert unflow(text, delsp=delsp) == expected
