"""Machine mail is recognised by headers first, wording only where it is unmistakable."""

from __future__ import annotations

import pytest

from parsers.autoreply import auto_reply_reason, is_auto_submitted

HUMAN = "Dzień dobry,\nswitch 5520 nie działa od rana. Kolega jest na urlopie, więc piszę ja.\nS/N 2011G-00289"


def _reason(
    headers: dict[str, str] | None = None,
    *,
    content_type: str = "text/plain",
    sender: str = "jan@firma.pl",
    subject: str = "Awaria",
    own_text: str = HUMAN,
    is_reply: bool = False,
) -> str | None:
    return auto_reply_reason(
        headers or {}, content_type=content_type, sender=sender, subject=subject, own_text=own_text, is_reply=is_reply
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"auto-submitted": "auto-replied"},
        {"auto-submitted": "auto-generated (failure)"},
        {"precedence": "bulk"},
        {"precedence": "Junk"},
        {"precedence": "list"},
        {"list-id": "<news.example.pl>"},
        {"list-unsubscribe": "<mailto:u@example.pl>"},
        {"x-autoreply": "yes"},
        {"x-autorespond": "vacation"},
        {"x-auto-response-suppress": "All"},
        {"x-auto-response-suppress": "DR, OOF, AutoReply"},
        {"return-path": "<>"},
    ],
)
def test_headers_mark_machine_mail(headers: dict[str, str]) -> None:
    assert _reason(headers) is not None


def test_auto_submitted_no_is_a_person() -> None:
    assert _reason({"auto-submitted": "no", "return-path": "<jan@firma.pl>", "precedence": "first-class"}) is None


@pytest.mark.parametrize("content_type", ["multipart/report", "message/delivery-status"])
def test_reports_are_machine_mail(content_type: str) -> None:
    assert _reason(content_type=content_type) is not None


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.pl", "postmaster@example.pl"])
def test_bounce_senders(sender: str) -> None:
    assert _reason(sender=sender) is not None


@pytest.mark.parametrize(
    "subject",
    [
        "Automatyczna odpowiedź: [HZ-2026-000690] Eskalacja",
        "Odpowiedź automatyczna: Przyjęliśmy zgłoszenie",
        "Out of Office: Re: case",
        "Automatic reply: [HZ-2026-000402] We have received your request",
        "Autoreply: test",
        "Nieobecność: Re: awaria",
        "Undelivered Mail Returned to Sender",
        "Undeliverable: [HZ-2026-000001]",
        "Out of Office AutoReply: Awaria",
        "AUTO: Jan Kowalski is out of the office (returning 05.06.2026)",  # Lotus Notes
        "[Auto-Reply] Re: [HZ-2026-000123]",
        "[Out of Office] Re: awaria",
        "Autoodpowiedź: Re: zgłoszenie",
    ],
)
def test_subjects_mark_machine_mail(subject: str) -> None:
    assert _reason(subject=subject) is not None


@pytest.mark.parametrize(
    "subject", ["Nieobecność zasilania na porcie 12", "Urlopowy grafik a awaria", "Autoryzacja RADIUS nie działa"]
)
def test_ordinary_subjects_are_people(subject: str) -> None:
    assert _reason(subject=subject) is None


@pytest.mark.parametrize(
    "text",
    [
        "Do 5 czerwca nie ma mnie w szkole i nie mam dostępu do poczty.\nW pilnych sprawach proszę pisać na a@b.pl.",
        "Będę niedostępna do 10.06.2026. W pilnych sprawach: sekretariat@b.pl",
        "I'm on parental leave until June. Please contact it@example.com",
        "I am not in the office until Monday. Please contact it@example.com",
        "Przebywam na szkoleniu do 20.03.2026 z ograniczonym dostępem do poczty.",
        "I'm OOO until Monday 23 March with very limited access to email.",
        "I am at a conference until Friday. Please contact it@example.com",
        "Przebywam na zwolnieniu lekarskim i nie odczytuję poczty.",
        "Jestem w delegacji, pocztę sprawdzam tylko sporadycznie.",
    ],
)
def test_more_out_of_office_wordings(text: str) -> None:
    assert _reason(own_text=text, is_reply=True) == "out-of-office wording"


@pytest.mark.parametrize(
    ("text", "is_reply"),
    [
        ("We would like to acknowledge that we have received your request and a ticket has been created.", True),
        (
            "Zgłoszenie zostało zarejestrowane.\n"
            "Ta wiadomość została wysłana automatycznie, prosimy na nią nie odpowiadać.",
            True,
        ),
        ("Your incident INC0045127 has been opened on your behalf.\nThis is an automatic notification.", False),
    ],
)
def test_helpdesk_notices_are_machine_mail(text: str, is_reply: bool) -> None:
    assert _reason(own_text=text, is_reply=is_reply) == "automatic notice wording"


def test_a_person_asking_about_a_ticket_is_a_person() -> None:
    text = "Dzień dobry, czy dostaliście nasze zgłoszenie? Switch 2011G-00289 nadal nie działa, umowa 40012345."
    assert _reason(own_text=text, is_reply=True) is None


OOF = "Dzień dobry,\njestem poza biurem do 16.03.2026 r.\nW pilnych sprawach proszę o kontakt z Działem IT."


def test_out_of_office_wording_in_a_reply() -> None:
    assert _reason(own_text=OOF, is_reply=True) == "out-of-office wording"
    english = "I am out of the office until Monday with limited access to email."
    assert _reason(own_text=english, is_reply=True) is not None


def test_holiday_mentioned_by_a_person_is_not_automatic() -> None:
    assert _reason(own_text=HUMAN, is_reply=True) is None
    long_report = OOF + "\n" + "Switch 5520 w serwerowni restartuje się co godzinę, logi w załączniku. " * 12
    assert _reason(own_text=long_report, is_reply=True) is None
    assert _reason(own_text=OOF, is_reply=False) is None  # a new mail is no answer to anything


def test_boolean_wrapper() -> None:
    assert is_auto_submitted(
        {"precedence": "bulk"}, content_type="text/plain", sender="", subject="", own_text="", is_reply=False
    )
