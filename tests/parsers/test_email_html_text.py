"""HTML bodies keep labels next to values."""

from __future__ import annotations

from parsers.email.html_text import html_to_text
from parsers.identifiers import extract_identifiers

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


EMPTY_CELLS = """<table><tr><th>Model</th><th>S/N</th><th>Umowa</th></tr>
<tr><td></td><td>2214G-00417</td><td>40027719</td></tr>
<tr><td>X440</td><td>&nbsp;</td><td>40027720</td></tr></table><p>Pozdrawiam</p>"""


def test_table_cells_are_parted_by_tabs_and_empty_cells_keep_their_place() -> None:
    assert html_to_text(EMPTY_CELLS).splitlines()[:3] == [
        "Model\tS/N\tUmowa",
        "\t2214G-00417\t40027719",
        "X440\t\t40027720",
    ]


def test_a_column_with_an_empty_cell_is_read_under_its_header() -> None:
    found = extract_identifiers(html_to_text(EMPTY_CELLS))
    assert found.contract_numbers == ("40027719", "40027720")


def test_bars_outside_a_table_are_not_cells() -> None:
    assert (
        html_to_text("<p>T: +48 32 258 11 00 | F: +48 32 258 11 09</p>") == "T: +48 32 258 11 00  F: +48 32 258 11 09"
    )
