"""RFC 3676 format=flowed text back to the paragraphs its writer typed.

Thunderbird and other clients send plain text as format=flowed: a long line is broken where it would wrap, and a
space before the line break marks the break as soft. Read line by line, a soft break can part a label from its value
("numer seryjny \\nzasilacza: LBNNTMPL22158H"). Joining soft-broken lines gives the writer's lines back.
"""

from __future__ import annotations

_SIGNATURE_DELIMITER = "-- "


def _quote_depth(line: str) -> int:
    return len(line) - len(line.lstrip(">"))


def unflow(text: str, *, delsp: bool = False) -> str:
    """`text` with soft line breaks joined (`delsp`: DelSp=yes, the space before a soft break is not content).

    A line is soft-broken when it ends in a space, is not the signature delimiter, and the next line has the same
    quote depth (RFC 3676 4.5); space-stuffing (a space put before a line that starts with a space, ">" or "From ")
    is taken out (4.4).
    """
    lines: list[str] = []
    pending = ""
    pending_depth = -1
    for raw in text.split("\n"):
        line = raw.removesuffix("\r")
        depth = _quote_depth(line)
        content = line[depth:]
        # A quoted line keeps its "> " as written (quote detection reads it); an unquoted one loses its stuffing.
        prefix = line[:depth] + (" " if depth and content.startswith(" ") else "")
        if content.startswith(" "):
            content = content[1:]
        if pending and depth != pending_depth:
            lines.append(pending)  # a soft break before another quote depth is a hard one
            pending = ""
        soft = content.endswith(" ") and content != _SIGNATURE_DELIMITER
        if soft:
            pending = (pending or prefix) + (content[:-1] if delsp else content)
            pending_depth = depth
            continue
        lines.append((pending or prefix) + content)
        pending = ""
    if pending:
        lines.append(pending)
    return "\n".join(lines)
