"""Bad mail never breaks intake: real awkward mail, the stdlib's own test mail, and thousands of mutations.

Only input that is no e-mail at all may raise, and then only ParseError.
"""

from __future__ import annotations

import sysconfig
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.email import parse_email
from parsers.result import ParsedIntake, ParseError

NOW = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
TESTS = Path(__file__).resolve().parents[1]
PEER_MAIL = TESTS.parent.parent / "shared" / "peer-mail"
STDLIB_MAIL = Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data"
CORPUS_MAIL = sorted((TESTS / "corpus" / "email").glob("*/*.eml"))


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern)) if folder.is_dir() else []


def _parse(raw: bytes) -> ParsedIntake:
    return parse_email(raw, mailbox="pomoc", received_at=NOW)


@pytest.mark.parametrize("path", _files(PEER_MAIL, "*/*.eml"), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_peer_mail_parses(path: Path) -> None:
    parsed = _parse(path.read_bytes())
    assert parsed.request.channel == "email"


def test_peer_mail_present() -> None:
    if not PEER_MAIL.is_dir():
        pytest.skip("../shared/peer-mail is not present on this machine")
    assert _files(PEER_MAIL, "*/*.eml")


# The folder also holds images and sounds for other stdlib tests: only the messages are e-mail.
@pytest.mark.parametrize("path", _files(STDLIB_MAIL, "msg_*.txt"), ids=lambda path: path.name)
def test_stdlib_test_mail_parses(path: Path) -> None:
    parsed = _parse(path.read_bytes())
    assert parsed.request.channel == "email"


def test_stdlib_test_mail_present() -> None:
    if not STDLIB_MAIL.is_dir():
        pytest.skip("this Python installation ships without test/test_email/data")
    assert _files(STDLIB_MAIL, "msg_*.txt")


def _parse_or_refuse(raw: bytes) -> None:
    try:
        parsed = _parse(raw)
    except ParseError:
        return
    assert isinstance(parsed.request.description, str)


@st.composite
def byte_damage(draw: st.DrawFn) -> bytes:
    """A corpus mail with flipped bytes, a cut-off end, or a slice deleted or repeated."""
    raw = bytearray(draw(st.sampled_from(CORPUS_MAIL)).read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        if not raw:
            break
        at = draw(st.integers(0, len(raw) - 1))
        action = draw(st.sampled_from(["flip", "truncate", "delete", "repeat", "insert"]))
        if action == "flip":
            raw[at] ^= draw(st.integers(1, 255))
        elif action == "truncate":
            del raw[at:]
        elif action == "delete":
            del raw[at : at + draw(st.integers(1, 400))]
        elif action == "repeat":
            raw[at:at] = raw[at : at + draw(st.integers(1, 400))] * draw(st.integers(1, 3))
        else:
            raw[at:at] = draw(st.binary(min_size=1, max_size=40))
    return bytes(raw)


_HEADER_DAMAGE = [
    (b"boundary=", b"boundary=x"),
    (b"boundary=", b""),
    (b"\n--", b"\n-"),
    (b"charset=", b"charset=x-bogus-"),
    (b"Content-Transfer-Encoding: base64", b"Content-Transfer-Encoding: quoted-printable"),
    (b"Content-Transfer-Encoding: quoted-printable", b"Content-Transfer-Encoding: base64"),
    (b"Content-Type: text/plain", b"Content-Type: message/rfc822"),
    (b"Content-Type: text/plain", b"Content-Type: multipart/mixed"),
    (b"Content-Type: ", b'Content-Type: ;;;="\\'),
    (b"Subject: ", b"Subject: =?utf-8?B?###?= =?x?q?"),
    (b"From: ", b'From: <<<@@@>>> "unterminated '),
    (b"Message-ID: ", b"Message-ID: <<>"),
    (b"\n\n", b"\n"),
    (b"\r\n\r\n", b"\r\n"),
    (b": ", b":\n "),
    (b"=?", b"=?\xff\xfe"),
    (b"filename=", b"filename*=utf-8''%ZZ%"),
]


@st.composite
def header_damage(draw: st.DrawFn) -> bytes:
    """A corpus mail with broken boundaries, charsets, encodings or header syntax."""
    raw = draw(st.sampled_from(CORPUS_MAIL)).read_bytes()
    for _ in range(draw(st.integers(1, 4))):
        old, new = draw(st.sampled_from(_HEADER_DAMAGE))
        raw = raw.replace(old, new, draw(st.integers(1, 3)))
    return raw


@pytest.mark.skipif(not CORPUS_MAIL, reason="tests/corpus/email holds no mail to mutate")
@settings(
    max_examples=1500,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(byte_damage())
def test_byte_damage_never_raises_anything_but_parse_error(raw: bytes) -> None:
    _parse_or_refuse(raw)


@pytest.mark.skipif(not CORPUS_MAIL, reason="tests/corpus/email holds no mail to mutate")
@settings(max_examples=800, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(header_damage())
def test_header_and_boundary_damage_never_raises_anything_but_parse_error(raw: bytes) -> None:
    _parse_or_refuse(raw)
