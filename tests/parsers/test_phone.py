"""Phone numbers to E.164 and the reporter's own number in a text."""

from __future__ import annotations

import pytest

from parsers.phone import normalise_phone, phones_in_text, reporter_phone_in_text

NORMALISED = [
    ("+48 601 234 567", "+48601234567"),
    ("604 331 870", "+48604331870"),
    ("512-448-903", "+48512448903"),
    ("+48 605-218-774", "+48605218774"),
    ("0-12 418 22 90", "+48124182290"),  # trunk 0 that Poland does not have
    ("032 258 14 09", "+48322581409"),
    ("(22) 614 09 32", "+48226140932"),
    ("+48 (58) 552 71 90", "+48585527190"),
    ("0048583012277", "+48583012277"),
    ("48601234567", "+48601234567"),
    ("+48 22 535 12 00 wew. 214", "+48225351200"),
    ("601 234 567 w. 12", "+48601234567"),
    ("+44 20 7946 0958", "+442079460958"),
    ("+48 (0)22 463 18 90", "+48224631890"),  # the trunk zero in brackets, for callers at home
    ("0048 (0) 22 463 18 90", "+48224631890"),
    ("(0-22) 654 12 33", "+48226541233"),
]


@pytest.mark.parametrize(("value", "e164"), NORMALISED)
def test_normalise_phone(value: str, e164: str) -> None:
    assert normalise_phone(value) == e164


@pytest.mark.parametrize(
    "value",
    ["", "   ", "abc", "12345", "800617-00-04", "+48 12 25 25 600", "0-12 25 25 600", "12 25 25 502", "2026-11-24"],
)
def test_not_a_reporter_number(value: str) -> None:
    assert normalise_phone(value) is None


SIGNATURES = [
    ("Marek\ntel. kom. 603 447 120\nwww.serwis-netkom.pl", "+48603447120"),
    (
        "Dzwoniłem na infolinię 12 25 25 600.\n--\nPaweł\nul. Łódzka 17, 62-800 Kalisz\ntel. (62) 767 21 40",
        "+48627672140",
    ),
    ("Tel.: +48\xa022\xa0535\xa012\xa000 wew. 214", "+48225351200"),
    ("Direct: +48 22 460 73 15\nescalation line +48 12 25 25 502", "+48224607315"),
    ("tel. 12 345 67 89 w. 12, fax 12 345 67 80\nNIP 677-123-45-67, REGON 356789012, KRS 0000123456", "+48123456789"),
    ("kom. 512 300 847\n\n---------- Forwarded message ---------\nJan\ntel. 607 221 903", "+48512300847"),
    ("tel. 600 918 244\n\nW dniu 12.02.2026 o 10:41, myHEZO pisze:\n> tel. 601 111 222", "+48600918244"),
    ("S/N 2214G-00417 part 800617-00-04 IP 10.42.7.31 tel. 601 905 442", "+48601905442"),
    ("tel. 601 905 442, kom. 601 905 442", "+48601905442"),
    ("Jan\ntel/fax: 22 123 45 67", "+48221234567"),  # the same number twice is one number
    ("Jan\ntel. 22 654-12-33", "+48226541233"),  # 654-12-33 is no date
    ("Jan\ntel. (0-22) 654 12 33", "+48226541233"),
    ("Jan\ntel. 0-22-654-12-33", "+48226541233"),  # 22-654 is no postal code here
    ("Jan, 24-11-2026\ntel. 601 234 567", "+48601234567"),
    ("Proszę o kontakt: 601 234 567.", "+48601234567"),  # a full stop after the number
    ("Jan\ntel.601234567", "+48601234567"),
    ("Jan\ntel. 61/852-14-09", "+48618521409"),  # area code and number parted by a slash
    ("Jan\nkom. 512.330.781.", "+48512330781"),  # groups parted by dots
    ("Jan\nkom:604 117 352", "+48604117352"),  # a colon glued to the label
    ("Dzwoń do Marka: 601 998 221.\n\nSerdecznie pozdrawiam\nJan\ntel. 61 426 57 03", "+48614265703"),
    ("Call our NOC: +48 22 100 20 30.\n\nAll the best,\nJohn\n+48 512 447 930", "+48512447930"),
    ("Jan\nTel.: (58) 344 10 20\nFaks: (58) 344 10 29", "+48583441020"),  # the Polish spelling of fax
    ("Marek: 601 998 221.\n\nŁączę pozdrowienia\nJan\ntel. 33 815 20 70", "+48338152070"),
    ("Jan\ntel. 601 118 342, fax (89) 646 21 09", "+48601118342"),  # a fax with a bracketed area code
    ("Jan\ntel. 22.614.09.32", "+48226140932"),  # a landline in four dotted groups: 614 is no address's part
    ("Jan\ntel. 61.852.14.09.", "+48618521409"),
    ("IP 10.42.7.31, firmware 8.1.5.0\nkom. 601 234 567", "+48601234567"),
    ("T: +48 32 258 11 00 | F: +48 32 258 11 09", "+48322581100"),  # F: is a fax
    ("Phone: +47 55 94 30 43\nOrg.nr. 912 345 678 MVA", "+4755943043"),  # a company number is no phone
    ("sysUpTime.0 = 412345678\n\nPozdrawiam\nJan\ntel. (91) 430 82 14, wew. 31", "+48914308214"),  # a counter
    # another person's number in the message: the reporter's stands under the closing salutation
    ("Na miejscu będzie p. Marek (kom. 601 998 221).\n\nPozdrawiam\nJan Nowak\ntel. 512 330 990", "+48512330990"),
]


@pytest.mark.parametrize(("text", "e164"), SIGNATURES)
def test_reporter_phone_in_text(text: str, e164: str) -> None:
    assert reporter_phone_in_text(text) == e164


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tel. 86 215 44 01 | kom. 604 117 385",  # two numbers: ambiguous
        "infolinia: 0-12 25 25 600 | pomoc@myhezo.pl",
        "Rachunek: PL61 1090 1014 0000 0712 1981 2874\nNIP: 677-236-41-90",
        "Part 800617-00-04, data 24.11.2026, wersja 32.6.3.126, 30-740 Kraków",
        "AP 03052104180266, device 918273645012",
        "plik 601234567.pdf, wersja 512.330.781.2, 12/11/2026, WZ 123/2026/456",
        "IP 22.123.45.67, wersja 22.614.09.32.1, 1.22.614.09.32",  # an address, and longer dotted runs
    ],
)
def test_no_reporter_phone(text: str) -> None:
    assert reporter_phone_in_text(text) is None


def test_phones_in_text_keeps_order_and_skips_ours() -> None:
    text = "tel. 86 215 44 01, infolinia 12 25 25 600, kom. 604 117 385"
    assert phones_in_text(text) == ["+48862154401", "+48604117385"]


def test_a_number_from_the_telephone_network_needs_only_to_be_possible() -> None:
    # +44 7700 900xxx is kept for drama: phonenumbers calls it invalid, yet Twilio delivers SMS from such numbers.
    assert normalise_phone("+447700900929") is None
    assert normalise_phone("+447700900929", carrier_given=True) == "+447700900929"
    assert normalise_phone("+48122525600", carrier_given=True) is None  # ours, however it came
    assert normalise_phone("123", carrier_given=True) is None
