"""Own words, signature and history are told apart for every common client."""

from __future__ import annotations

import pytest

from parsers.email.quotes import split_body

OWN = "Dzień dobry,\nswitch nie działa.\n\nPozdrawiam\nJan\ntel. 601 234 567"

HISTORY_MARKERS = [
    "-----Original Message-----\nFrom: a@b.pl\nSent: Monday\nTo: c@d.pl\nSubject: x\n\nHello",
    "-----Wiadomość oryginalna-----\nOd: a@b.pl\nWysłano: poniedziałek\nDo: c@d.pl\nTemat: x\n\nTreść",
    "-------- Wiadomość oryginalna --------\nOd: a\nData: 1.1.2026\n\nTreść",
    "---------- Forwarded message ---------\nFrom: a\nDate: Mon\nSubject: x\nTo: b\n\nBody",
    "Od: myHEZO Pomoc <pomoc@myhezo.pl>\nWysłane: czwartek, 23 kwietnia 2026 14:05\nDo: Ewa\nTemat: [HZ]\n\nTreść",
    "________________________________\nFrom: A <a@b>\nSent: Thursday\nTo: B\nSubject: x\n\nold",
    "W dniu 12.02.2026 o 10:41, myHEZO Pomoc pisze:\n> cytat\n> dalej",
    "On Mon, 2 Mar 2026 at 10:00, Lars Eriksen <l@e.eu>\nwrote:\n> quoted",
    "Dnia 3.03.2026 Jan Nowak napisał(a):\n> cytat",
    "Begin forwarded message:\n\nFrom: x\nSubject: y",
]


@pytest.mark.parametrize("history", HISTORY_MARKERS)
def test_history_is_cut_after_own_words(history: str) -> None:
    split = split_body(f"{OWN}\n\n{history}")
    assert split.own == OWN
    assert split.quoted.startswith(history.splitlines()[0].strip())


def test_signature_is_split_off_but_kept_for_the_phone() -> None:
    split = split_body("Proszę o wymianę.\n\n-- \nAdam Mazur\ntel. 600 918 244\n\n> quoted 12 25 25 600")
    assert split.own == "Proszę o wymianę."
    assert split.signature == "-- \nAdam Mazur\ntel. 600 918 244"
    assert "600 918 244" in split.own_with_signature
    assert "12 25 25 600" not in split.own_with_signature


def test_interleaved_answers_stay_own_text() -> None:
    split = split_body("> Czy to 5520?\nTak, 5520-24W.\n> Numer?\n2233G-00618")
    assert split.own == "Tak, 5520-24W.\n2233G-00618"
    assert "Czy to 5520?" in split.quoted


def test_bottom_posted_reply_keeps_the_answer() -> None:
    split = split_body("W dniu 1.07.2026 o 14:02, Pomoc pisze:\n> Prosimy o numer.\n\nNumer to 2233G-00618.")
    assert split.own == "Numer to 2233G-00618."


def test_ordinary_from_line_is_not_a_header_block() -> None:
    text = "Od: poniedziałku switch nie działa.\nProszę o pomoc."
    assert split_body(text).own == text


def test_no_history() -> None:
    assert split_body("Tylko tekst.").quoted == ""


DISCLAIMERS = [
    "CONFIDENTIALITY NOTICE: This e-mail and any attachments are confidential and may be privileged.",
    "This e-mail and any attachments are confidential. If you have received it in error, please delete it.",
    "The information contained in this message is intended solely for the addressee.",
    "Treść tej wiadomości jest poufna i prawnie chroniona. Odbiorcą może być jedynie jej adresat.",
    "Informacje zawarte w niniejszej wiadomości są poufne.",
    "Administratorem Pani/Pana danych osobowych jest Nordic Paper Polska Sp. z o.o.",
]


@pytest.mark.parametrize("disclaimer", DISCLAIMERS)
def test_a_boilerplate_footer_is_signature_not_own_words(disclaimer: str) -> None:
    split = split_body(f"Padł switch, proszę o wymianę.\nJan\ntel. 601 882 340\n\n{disclaimer}\nDruga linia.")
    assert split.own == "Padł switch, proszę o wymianę.\nJan\ntel. 601 882 340"
    assert split.signature == f"{disclaimer}\nDruga linia."


def test_a_footer_phrase_inside_the_reporters_paragraph_stays_theirs() -> None:
    text = "Switch nie działa.\nThis message is confidential, they said, but the serial is 2011G-00289."
    assert split_body(text).own == text
