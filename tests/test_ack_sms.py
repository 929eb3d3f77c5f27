"""SMS segment arithmetic and the SMS acknowledgement that must always fit in two segments."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.ack import AckContext, render_ack_sms, sms_segments
from gateway.schema import Language, MissingItem

from .test_ack_support import REFERENCE, make_context


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters cost two septets
        ("€" * 81, 2),
        ("[" + "a" * 158, 1),
        ("]" + "a" * 159, 2),
        ("a" * 152 + "{" + "a" * 152, 3),  # 306 septets, but an escape pair is never split across segments
        ("a" * 151 + "{" + "a" * 153, 2),
        ("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¡ÄÖÑÜ§¿äöñüà", 1),  # all GSM-7 basic, one septet each
        ("ą" * 70, 1),  # Polish letters are not GSM-7: UCS-2
        ("ą" * 71, 2),
        ("ą" * 134, 2),
        ("ą" * 135, 3),
        ("a" * 69 + "ł", 1),  # one non-GSM character moves the whole text to UCS-2
        ("a" * 70 + "ł", 2),
        ("😀" * 35, 1),  # astral characters are two UTF-16 units
        ("😀" * 36, 2),
        ("aa" + "😀" * 65 + "aa", 3),  # 134 units, but a surrogate pair is never split either
    ],
)
def test_segment_table(text: str, segments: int) -> None:
    assert sms_segments(text) == segments


@pytest.mark.parametrize("language", ["pl", "en"])
@pytest.mark.parametrize(
    "missing", [(), ("serial_number",), ("contract_number",), ("serial_number", "contract_number")]
)
@pytest.mark.parametrize("with_due", [True, False])
def test_sms_fits_and_names_only_what_is_missing(
    language: Language, missing: tuple[MissingItem, ...], with_due: bool
) -> None:
    ctx = make_context(language=language, channel="sms", missing=list(missing), with_due=with_due)
    text = render_ack_sms(ctx)
    assert sms_segments(text) <= 2
    assert REFERENCE in text
    assert "502" in text  # the escalation line
    serial = {"pl": "nr seryjny", "en": "serial number"}[language]
    contract = {"pl": "nr umowy", "en": "contract number"}[language]
    assert (serial in text) == ("serial_number" in missing)
    assert (contract in text) == ("contract_number" in missing)


def test_english_sms_stays_in_gsm7() -> None:
    text = render_ack_sms(make_context(language="en", missing=["serial_number", "contract_number"]))
    assert sms_segments(text) == sms_segments("a" * len(text))


def test_long_serial_lists_are_dropped_not_the_essentials() -> None:
    serials = [f"SN{i:010d}" for i in range(40)]
    text = render_ack_sms(make_context(language="pl", serial_numbers=serials, missing=["contract_number"]))
    assert sms_segments(text) <= 2
    assert REFERENCE in text and "nr umowy" in text and "+48122525502" in text
    assert "SN0000000039" not in text


SERIALS = st.lists(st.text(min_size=0, max_size=80), max_size=30)


@settings(max_examples=150, deadline=None)
@given(
    language=st.sampled_from(["pl", "en"]),
    serials=SERIALS,
    contracts=SERIALS,
    missing=st.sampled_from([[], ["serial_number"], ["contract_number"], ["serial_number", "contract_number"]]),
    with_due=st.booleans(),
)
def test_adversarial_inputs_always_fit_two_segments(
    language: Language, serials: list[str], contracts: list[str], missing: list[MissingItem], with_due: bool
) -> None:
    ctx: AckContext = make_context(
        language=language, serial_numbers=serials, contract_numbers=contracts, missing=missing, with_due=with_due
    )
    text = render_ack_sms(ctx)
    assert sms_segments(text) <= 2
    assert REFERENCE in text
