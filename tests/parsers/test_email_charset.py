"""Charset fallbacks for bodies and RFC 2047 / raw 8-bit header decoding."""

from __future__ import annotations

import pytest

from parsers.email.charset import decode_bytes, known_codec
from parsers.email.headers import decode_header_value, first_address, message_ids

POLISH = "Zażółć gęślą jaźń – „test”"


@pytest.mark.parametrize("codec", ["utf-8", "cp1250", "iso-8859-2"])
def test_correct_label_is_trusted(codec: str) -> None:
    decoded = decode_bytes(POLISH.replace("„", '"').replace("”", '"').replace("–", "-").encode(codec), codec)
    assert decoded.text.startswith("Zażółć gęślą jaźń")
    assert decoded.note is None


def test_utf8_label_on_windows_1250_bytes_falls_back() -> None:
    decoded = decode_bytes("Dzień dobry, przełącznik".encode("cp1250"), "utf-8")
    assert decoded.text == "Dzień dobry, przełącznik"
    assert decoded.codec == "cp1250"
    assert decoded.note is not None and "utf-8" in decoded.note


def test_missing_label_prefers_utf8_then_polish_legacy() -> None:
    assert decode_bytes("żółw".encode(), None).text == "żółw"
    assert decode_bytes("śląski żółw".encode("iso-8859-2"), None).text == "śląski żółw"
    assert decode_bytes("śląski żółw".encode("cp1250"), None).text == "śląski żółw"


def test_latin2_label_on_windows_1250_typography_is_corrected() -> None:
    data = "„Przełącznik” – ściana".encode("cp1250")
    assert decode_bytes(data, "iso-8859-2").text == "„Przełącznik” – ściana"


def test_unknown_label_and_junk_never_raise() -> None:
    assert decode_bytes("ąę".encode(), "x-no-such-charset").text == "ąę"
    assert decode_bytes(bytes(range(256)), "utf-8").text  # every byte value, still text
    assert known_codec('"Windows-1250"') == "cp1250"
    assert known_codec("bogus") is None


def test_rfc2047_words_in_subject_and_names() -> None:
    assert decode_header_value("=?utf-8?B?Sm9hbm5hIEthbWnFhHNrYQ==?= <j@x.pl>") == "Joanna Kamińska <j@x.pl>"
    assert decode_header_value("=?UTF-8?Q?Odp=3A_=5BHZ-2026-000451=5D_Wymiana?=\n =?UTF-8?Q?_X440?=") == (
        "Odp: [HZ-2026-000451] Wymiana X440"
    )
    assert decode_header_value("=?windows-1250?Q?Uszkodzony_wentylator_=96_serwerownia?=") == (
        "Uszkodzony wentylator – serwerownia"
    )
    assert decode_header_value("=?iso-8859-2?Q?Pro=B6ba_o_eskalacj=EA?=") == "Prośba o eskalację"


def test_broken_encoded_words_and_raw_8bit_headers() -> None:
    assert decode_header_value("=?unknown?Q?abc?= def") == "abc def"
    assert decode_header_value("=?utf-8?B?!!!?=") == ""
    raw_cp1250 = "Awaria prze\udcb3\udcb9cznika"  # how the parser keeps raw 8-bit header bytes
    assert decode_header_value(raw_cp1250) == "Awaria przełącznika"


def test_addresses_and_message_ids() -> None:
    assert first_address('"Kowalski, Jan" <Jan@Example.pl>') == ("Kowalski, Jan", "Jan@Example.pl")
    assert first_address("") == ("", "")
    assert message_ids("<a@x> <b@y>\n <c@z>") == ["a@x", "b@y", "c@z"]
    assert message_ids("bare@id") == ["bare@id"]


def test_a_charset_label_with_a_nul_byte_is_unknown_not_an_error() -> None:
    from parsers.email.charset import known_codec

    assert known_codec("utf\x00-8") is None
