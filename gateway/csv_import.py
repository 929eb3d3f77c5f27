"""Reading CSV exports people make (phone-system call logs, contract registries): decoding, header, rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

DELIMITERS = ",;\t"


def decode_export(data: bytes) -> str:
    """UTF-8 (a BOM is dropped) when the bytes are valid UTF-8, otherwise Windows-1250 as Polish Windows writes it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # cp1250 maps almost every byte, so it is only the fallback: UTF-8 fails on cp1250's Polish letters.
        return data.decode("cp1250", errors="replace")


def header_delimiter(text: str) -> str:
    # Counted on the header only: data rows may hold ';' inside list fields (serials, contacts).
    header_line = text.partition("\n")[0]
    return max(DELIMITERS, key=header_line.count)


def csv_rows(
    text: str, required: Sequence[str], *, error: type[Exception]
) -> Iterator[tuple[int, dict[str, str] | str]]:
    """(line, values by lower-case column name) for each data row, or (line, what is wrong) for one that does not
    fit the header; blank rows are skipped. Raises `error` when the header lacks a required column."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=header_delimiter(text))
    header = [name.strip().lower() for name in next(reader, [])]
    absent = [name for name in required if name not in header]
    if absent:
        raise error(f"the header has no column {', '.join(absent)} (found: {', '.join(header) or 'nothing'})")
    start = reader.line_num + 1
    for fields in reader:
        line, start = start, reader.line_num + 1  # a quoted field may span lines: report where the row began
        if not any(value.strip() for value in fields):
            continue
        if len(fields) != len(header):
            yield line, f"expected {len(header)} fields as in the header, found {len(fields)}"
            continue
        yield line, dict(zip(header, fields, strict=True))
