"""Column reading stays bounded however many header-like lines a text stacks."""

from __future__ import annotations

import re

from parsers.identifiers.columns import MAX_ROWS_PER_TEXT, ColumnReader


def test_a_text_of_stacked_header_lines_reads_a_bounded_number_of_rows() -> None:
    text = "S/N\tNr umowy\n" * 5_000  # every line looks like a header of the lines below it
    reader = ColumnReader(text)
    read = [value for label in re.finditer(r"S/N|umowy", text) for value in reader.values(label)]
    assert reader.rows_left == 0
    assert len(read) <= MAX_ROWS_PER_TEXT


def test_a_real_table_is_read_whole() -> None:
    text = "Model  S/N\n" + "".join(f"X440  ABCD{n:04d}EF\n" for n in range(50)) + "\n"
    reader = ColumnReader(text)
    label = re.search("S/N", text)
    assert label is not None
    assert [value for _, value in reader.values(label)] == [f"ABCD{n:04d}EF" for n in range(50)]
