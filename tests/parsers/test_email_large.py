"""Large mail is read without copies of the whole of it, and reads exactly as the stdlib's own calls read it.

Each memory-saving path is compared with the stdlib call it replaces (message tree, decoded bytes and recorded
defects, body hash) on real mail and on inputs built to hit the edges of its slices; then its peak is measured.
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
import sysconfig
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

import parsers.email.body_hash as body_hash
import parsers.email.payload as payload
from parsers.email import parse_email
from parsers.email.decode import read_message

TESTS = Path(__file__).resolve().parents[1]
STDLIB_MAIL = Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data"
REAL_MAIL = sorted(
    [
        *(TESTS / "corpus" / "email").glob("*/*.eml"),
        *(TESTS.parent.parent / "shared" / "peer-mail").glob("*/*.eml"),
        *STDLIB_MAIL.glob("msg_*.txt"),
        TESTS / "data" / "simple.eml",
    ]
)
NOW = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


def _stdlib_tree(raw: bytes) -> Message:
    message: Message = BytesParser(policy=policy.compat32).parsebytes(raw)
    return message


def _shape(message: Message) -> list[tuple[Any, ...]]:
    """Everything the parse decided, part by part: headers, payload as stored, defects."""
    return [
        (
            part.get_unixfrom(),
            part.items(),
            part.get_payload() if not part.is_multipart() else None,
            part.preamble,
            part.epilogue,
            [type(defect).__name__ for defect in part.defects],
        )
        for part in message.walk()
    ]


def _attachment_mail(body: bytes, *, newline: bytes = b"\r\n") -> bytes:
    head = (
        b"From: Jan <jan@example.pl>\r\nSubject: show tech\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
        b"S/N 2214G-00417\r\n--b\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="t.bin"\r\n\r\n'
    )
    return (head + body + b"\r\n--b--\r\n").replace(b"\r\n", newline)


def _random_base64(size: int, seed: int = 1) -> bytes:
    return base64.encodebytes(random.Random(seed).randbytes(size)).replace(b"\n", b"\r\n")


# -- the message tree ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", REAL_MAIL, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_real_mail_parses_to_the_stdlib_tree(path: Path) -> None:
    raw = path.read_bytes()
    if not raw.strip():
        pytest.skip("empty file")
    message, _ = read_message(raw)
    assert _shape(message) == _shape(_stdlib_tree(raw))


@pytest.mark.parametrize("newline", [b"\r\n", b"\n", b"\r"], ids=["crlf", "lf", "cr"])
def test_line_ends_split_across_slices_parse_as_the_stdlib_parses_them(newline: bytes) -> None:
    # Lines of 8191 bytes put a CR at the end of every 8192-byte slice and its LF at the start of the next.
    body = b"".join(bytes([65 + i % 26]) * 8189 + b"\r\n" for i in range(12))
    raw = _attachment_mail(body, newline=newline)
    message, _ = read_message(raw)
    assert _shape(message) == _shape(_stdlib_tree(raw))


@pytest.mark.parametrize("raw", [b"", b" ", b"\r\n\t \x0b\x0c"], ids=repr)
def test_empty_input_is_still_refused(raw: bytes) -> None:
    from parsers.result import ParseError

    with pytest.raises(ParseError):
        read_message(raw)


# -- decoded payloads ------------------------------------------------------------------------------------------------


def _leaves(raw: bytes) -> Iterator[tuple[Message, Message]]:
    """The same leaf part of two separate trees: decoding records defects on the part it reads."""
    ours, theirs = _stdlib_tree(raw), _stdlib_tree(raw)
    for mine, reference in zip(ours.walk(), theirs.walk(), strict=True):
        if not mine.is_multipart():
            yield mine, reference


def _assert_decoded_alike(raw: bytes) -> None:
    for mine, reference in _leaves(raw):
        expected = reference.get_payload(decode=True)
        assert payload.payload_bytes(mine) == (expected if isinstance(expected, bytes) else b"")
        assert [type(d) for d in mine.defects] == [type(d) for d in reference.defects]


BASE64_BODIES = {
    "valid": _random_base64(3000),
    "valid, one short line at the end": _random_base64(3001),
    "missing padding": _random_base64(3001).rstrip(b"=\r\n"),
    "missing one of two pads": _random_base64(3002).rstrip(b"\r\n")[:-1],
    "one character too many": _random_base64(3000).rstrip(b"\r\n") + b"A",
    "non-alphabet characters": _random_base64(3000).replace(b"\r\n", b"\r\n*", 3),
    "spaces": _random_base64(3000).replace(b"\r\n", b" \r\n"),
    "padding in the middle": b"QUI=\r\n" + _random_base64(3000),
    "data after the padding": _random_base64(3001) + b"QUJD\r\n",
    "empty": b"",
    "8-bit bytes": _random_base64(300) + b"\xc5\xbc\r\n",
    "url-safe alphabet": base64.urlsafe_b64encode(random.Random(2).randbytes(3000)),
}


@pytest.mark.parametrize("slice_chars", [4, 5, 77, 1 << 20])
@pytest.mark.parametrize("body", BASE64_BODIES.values(), ids=BASE64_BODIES.keys())
def test_base64_decodes_to_the_stdlib_bytes_and_defects(
    monkeypatch: pytest.MonkeyPatch, body: bytes, slice_chars: int
) -> None:
    monkeypatch.setattr(payload, "SLICE_CHARS", slice_chars)
    _assert_decoded_alike(_attachment_mail(body))


@pytest.mark.parametrize("path", REAL_MAIL, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_real_mail_decodes_to_the_stdlib_bytes_and_defects(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setattr(payload, "SLICE_CHARS", 64)
    _assert_decoded_alike(path.read_bytes())


# -- body hash -------------------------------------------------------------------------------------------------------


def _reference_body_hash(content: bytes) -> str:
    """The definition, on the whole body at once."""
    _, sep, body = content.partition(b"\r\n\r\n")
    if not sep:
        _, _, body = content.partition(b"\n\n")
    return hashlib.sha256(re.sub(rb"\r?\n", b"\n", body).rstrip()).hexdigest()[:32]


@pytest.mark.parametrize("slice_bytes", [1, 2, 3, 7, 1 << 20])
def test_body_hash_matches_its_definition(monkeypatch: pytest.MonkeyPatch, slice_bytes: int) -> None:
    monkeypatch.setattr(body_hash, "SLICE_BYTES", slice_bytes)
    pieces = [b"\r", b"\n", b"\r\n", b"\n\n", b"\r\n\r\n", b" ", b"\t", b"\x0b", b"\x0c", b"a", b".", b"\xc5"]
    rng = random.Random(7)
    for _ in range(1500):
        content = b"".join(rng.choice(pieces) for _ in range(rng.randrange(0, 30)))
        assert body_hash.email_body_hash(content) == _reference_body_hash(content), content


@pytest.mark.parametrize("path", REAL_MAIL, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_body_hash_of_real_mail_matches_its_definition(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setattr(body_hash, "SLICE_BYTES", 100)
    raw = path.read_bytes()
    assert body_hash.email_body_hash(raw) == _reference_body_hash(raw)


# -- peaks -----------------------------------------------------------------------------------------------------------


def _peak_above_start(work: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        work()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - start


LARGE = _attachment_mail(_random_base64(1_500_000))


def test_a_large_attachment_is_parsed_within_four_times_the_message() -> None:
    # The parser's own line list for the part and its joined text remain (about 2.7 times the message, the
    # decoded attachment included); the stdlib's whole-message string, its StringIO and the line list of its
    # base64 decoding came to 7.7.
    parsed: list[object] = []
    peak = _peak_above_start(lambda: parsed.append(parse_email(LARGE, mailbox="pomoc", received_at=NOW)))
    assert peak < 4 * len(LARGE)
    [attachment] = parsed[0].attachments  # type: ignore[attr-defined]
    assert attachment.content == random.Random(1).randbytes(1_500_000)


def test_the_body_hash_of_a_large_message_reads_slices_only() -> None:
    peak = _peak_above_start(lambda: body_hash.email_body_hash(LARGE))
    assert peak < 10 * body_hash.SLICE_BYTES < len(LARGE) / 2
    assert body_hash.email_body_hash(LARGE) == _reference_body_hash(LARGE)
