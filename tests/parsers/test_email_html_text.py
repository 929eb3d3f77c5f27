"""HTML bodies keep labels next to values."""

from __future__ import annotations

from parsers.email.html_text import html_to_text

TABLE = """<html><head><style>p {color:red}</style></head><body>
<p>Dzie&#324; dobry,</p>
<table><tr><td><p><b>Numer seryjny</b>&nbsp;:</p></td><td><p>&nbsp;2246G-00377</p></td></tr>
<tr><td>Nr umowy</td><td>HZ/AHB/2026/0023</td></tr></table>
<p>tel.&nbsp;+48&nbsp;81&nbsp;532&nbsp;44&nbsp;90</p>
<script>var x = "2011G-99999";</script>
</body></html>"""


def test_table_rows_stay_on_one_line() -> None:
    lines = html_to_text(TABLE).splitlines()
    assert any("Numer seryjny" in line and "2246G-00377" in line for line in lines)
    assert any("Nr umowy" in line and "HZ/AHB/2026/0023" in line for line in lines)
    assert not any(set(line.strip()) <= set("-|: ") and line.strip() for line in lines)


def test_nbsp_becomes_space_and_styles_and_scripts_vanish() -> None:
    text = html_to_text(TABLE)
    assert "tel. +48 81 532 44 90" in text
    assert "\u00a0" not in text
    assert "color:red" not in text
    assert "2011G-99999" not in text


def test_markdown_escapes_are_removed() -> None:
    assert html_to_text("<p>1. item</p><p>- 2011G-00289</p><p>a_b*c</p>").splitlines()[-1] == "a_b*c"
    assert "- 2011G-00289" in html_to_text("<p>- 2011G-00289</p>")


def test_hostile_html_still_gives_text() -> None:
    assert "hello" in html_to_text("<div><<<p>hello</b></td></table><!-- unterminated")
    assert html_to_text("") == ""
