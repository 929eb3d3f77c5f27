"""pl/en of the reporter's own text, on short and identifier-heavy texts."""

from __future__ import annotations

import pytest

from parsers.language import detect_language, reporters_own_text

POLISH = [
    "Dzień dobry, padł switch X440-G2, S/N 2235G-00688, umowa 40110054. Proszę o kontakt.",
    "dzwoni 2gi raz, brak kontaktu od inz. od wczoraj. prosi o eskalacje do kierownika. sn 2229g-01115",
    "SLX 9250 alarm temperatury, wentylator 3 nie kreci. SN:EXH4102L033. klient prosi o wentylator zamienny.",
    "HZ-2026-000845 kurier z urzadzeniem zastepczym nie dotarl, czekamy od 9:00. Prosze o info.",
    "Witam,\nzgłaszam uszkodzenie.\n\nSwitch          : 800979-00-05 2011G-00289 Rev 05 BootROM: 2.0.0.5\n"
    "Image   : ExtremeXOS version 31.7.1.4 by release-manager on Thu Jun 29 2023",
    "Przekazuję niżej.\n\n-----Original Message-----\nFrom: GTAC\nDear customer, the replacement is approved and "
    "will be shipped to you today. Please return the unit.",
    "Padl sw na hali 2, sn 2240g-00121, um. 40231188. Pls oddzwon asap",  # typed without diacritics
    # a note above what was pasted below a banner of dashes
    "Przesyłam odpowiedź z GTAC poniżej, proszę o decyzję.\n\n----- GTAC -----\nDear customer, the replacement is "
    "approved and will be shipped to you today. Please return the faulty unit within 10 days. Thanks and regards",
]
ENGLISH = [
    "Hi, AP305C sn 03052110070714 offline since morning, contract 40111392. Pls call back. Tom",
    "EN speaking caller, answer in English. Two AP410C on 3rd floor offline since the office move.",
    "Our lab switch X460-G2 stopped booting after a power cut in Gdańsk; S/N: 2104G-00356.",
    "Thanks,\nHenrik\n\n-----Wiadomość oryginalna-----\nOd: Jan\nDzień dobry, przełącznik nie działa, proszę o pomoc.",
    "> Dzień dobry, dziękujemy za zgłoszenie\n> Numer seryjny: 2233G-00618\n"
    "The replacement arrived, thanks, we can close it.",
    "I think PSU 2 in X465 is dead, I swapped cable, I reseated it, I do not know what else I can do.",
]


@pytest.mark.parametrize("text", POLISH)
def test_polish(text: str) -> None:
    assert detect_language(text, default="en") == "pl"


@pytest.mark.parametrize("text", ENGLISH)
def test_english(text: str) -> None:
    assert detect_language(text, default="pl") == "en"


@pytest.mark.parametrize("text", ["", "   ", "5420F-24P-4XE, 1:25 LED", "2011G-00289 40012345", "OK"])
@pytest.mark.parametrize("default", ["pl", "en"])
def test_too_little_text_gives_default(text: str, default: str) -> None:
    assert detect_language(text, default=default) == default  # type: ignore[arg-type]


def test_own_text_is_whole_text_when_only_history() -> None:
    text = "-----Original Message-----\nFrom: x\nSent: today\nHello"
    assert reporters_own_text(text) == text
