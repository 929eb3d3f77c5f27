"""Line ends, non-breaking spaces and invisible characters made plain."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.email.cleanup import clean_text


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("a\r\nb\rc\nd", "a\nb\nc\nd"),
        ("S/N:\u00a02214G-00417", "S/N: 2214G-00417"),
        ("umo\u00adwa\u200b 40012345\ufeff", "umowa 40012345"),
        ("nr\u202fser.\u2007x\u2060", "nr ser. x"),
        ("Zgłoszenie\r\n", "Zgłoszenie\n"),
        ("plain ascii\r\r\n", "plain ascii\n\n"),
    ],
)
def test_clean_text(text: str, clean: str) -> None:
    assert clean_text(text) == clean


def _one_pass(text: str) -> str:
    """The rule in one place: what clean_text must give, written plainly."""
    text = re.sub(r"\r\n?", "\n", text)
    text = re.sub("[\u00a0\u2007\u202f]", " ", text)
    return re.sub("[\u00ad\u200b\u200c\u200d\u2060\ufeff]", "", text)


@given(st.text(alphabet="ab ą\r\n\u00a0\u2007\u202f\u00ad\u200b\u200c\u200d\u2060\ufeff"))
def test_clean_text_follows_the_rule_on_any_mix(text: str) -> None:
    assert clean_text(text) == _one_pass(text)
