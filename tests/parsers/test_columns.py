"""Column reading stays bounded however many header-like lines a text stacks."""

from __future__ import annotations

import re

from parsers.identifiers.columns import MAX_ROWS_PER_TEXT, ColumnReader


def test_a_text_of_stacked_header_lines_reads_a_bounded_number_of_rows() -> None:
    text = "S/N\tNr umowy\n" * 5_000  # every line looks like a header of the lines below it
    reader = ColumnReader(text)
    read = [value for label in re.finditer(r"S/N|umowy", text) for value in reader.values(label) or []]
    assert reader.rows_left == 0
    assert len(read) <= MAX_ROWS_PER_TEXT


def test_a_real_table_is_read_whole() -> None:
    text = "Model  S/N\n" + "".join(f"X440  ABCD{n:04d}EF\n" for n in range(50)) + "\n"
    reader = ColumnReader(text)
    label = re.search("S/N", text)
    assert label is not None
    assert [value for _, value in reader.values(label) or []] == [f"ABCD{n:04d}EF" for n in range(50)]


def test_tabs_part_cells_and_an_empty_cell_keeps_its_place() -> None:
    text = "Model\tS/N\tNr umowy\nX440\t\t40027719\n"
    label = re.search("umowy", text)
    assert label is not None
    assert [value for _, value in ColumnReader(text).values(label) or []] == ["40027719"]


def test_a_blanked_cell_keeps_its_place_when_the_layout_is_given() -> None:
    layout = "Ticket  Invoice  Contract\nINC0088412  40311209  40250614\n"
    masked = layout.replace("INC0088412", " " * len("INC0088412"))
    label = re.search("Contract", masked)
    assert label is not None
    assert ColumnReader(masked).values(label) == []  # two cells left under a header of three: the row is not read
    assert [value for _, value in ColumnReader(masked, layout).values(label) or []] == ["40250614"]


def test_a_label_in_prose_heads_no_column() -> None:
    text = "Numer seryjny: 2214G-00417, umowa 40027719.\nHala B, 40999999\n"
    label = re.search("umowa", text)
    assert label is not None
    assert ColumnReader(text).values(label) is None


def test_a_row_typed_in_columns_may_leave_its_last_cells_empty() -> None:
    text = (
        "Lp  Model       Nr umowy   Uwagi\n"
        "1   5520-24X    40177501\n"  # Uwagi left empty: every cell starts under its header
        "2   5520-24W  40177502\n"  # not typed in columns: a cell may stand under the wrong header
    )
    label = re.search("umowy", text)
    assert label is not None
    assert [value for _, value in ColumnReader(text).values(label) or []] == ["40177501"]
