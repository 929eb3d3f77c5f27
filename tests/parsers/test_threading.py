"""Follow-up tags and escalation wording, read from the top-level subject only."""

from __future__ import annotations

import pytest

from parsers import threading
from parsers.threading import follow_up_tag, strip_reply_prefixes, subject_asks_escalation, subject_follow_up_tag


@pytest.mark.parametrize(
    ("subject", "tag"),
    [
        ("Re: [HZ-2026-000318] Awaria zasilacza", "HZ-2026-000318"),
        ("Odp: RE: Fwd: HZ-2026-000451 Wymiana", "HZ-2026-000451"),
        ("PD: AW: [hz-2026-000001]", "HZ-2026-000001"),
        ("ESKALACJA [HZ–2026–000611] brak kontaktu", "HZ-2026-000611"),
        ("Awaria 5520, klient HZ-2026-0003181", None),
        ("Extreme Networks Case 02517744", None),
        ("", None),
    ],
)
def test_subject_tag(subject: str, tag: str | None) -> None:
    assert subject_follow_up_tag(subject) == tag


def test_sms_body_tag_keeps_old_signature() -> None:
    assert follow_up_tag("Dot. HZ-2026-000123, nadal nie działa") == "HZ-2026-000123"


def test_prefixes_are_stripped() -> None:
    assert strip_reply_prefixes("RE: Odp: FW: PD: Temat") == "Temat"
    assert strip_reply_prefixes("Temat: Re") == "Temat: Re"


@pytest.mark.parametrize(
    "subject",
    [
        "ESKALACJA [HZ-2026-000611] brak kontaktu",
        "Prośba o eskalację - VSP 4900",
        "PROŚBA O ESKALACJĘ",
        "prośbA o eskalacje zgłoszenia",
        "Escalation: VSP 7432CQ fabric outage",
        "RE: Eskalacja: 2x 5320",
        "Please escalate RMA 1220931",
        "Bez sieci, prośba o eskalację",  # a negation holds only within its own part of the subject
        "No PoE, escalation request",
        "Switch will not boot, escalation",
        "Eskalujemy: X690 w serwerowni",
        "Prośba o zeskalowanie zgłoszenia",
        "PILNE – eskalować do 2 linii: rdzeń 57",  # the verb with where to
        "URGENT - escalate to L2 / X690 core down",
        "Need this escalated to L3 today - VSP 7400 down",
        "ESCALATE: core down",
        "Escalate core switch outage",
        "Eskalacja potrzebna pilnie",
    ],
)
def test_explicit_escalation(subject: str) -> None:
    assert subject_asks_escalation(subject)


@pytest.mark.parametrize(
    "subject",
    [
        "Flapujące uplinki - prośba o weryfikację",
        "Awaria - jeśli brak odpowiedzi, eskalacja do dyrekcji",
        "We will request escalation if nobody calls today",
        "No escalation needed - thanks",
        "bez eskalacji, dziękuję",
        "Jeśli nie odpowiecie, eskalacja",  # a condition runs over its comma
        "de-escalation of the case",
        "Why did you escalate it?",
        "We will escalate to L2 if nobody calls",
        "Nie trzeba eskalować do producenta",
        "Do not escalate to GTAC yet",
        "Re: [HZ-2026-000123] Odwołujemy eskalację – przełącznik działa",  # withdrawn before the word
        "Re: [HZ-2026-000124] Rezygnujemy z eskalacji",
        "Aktualizacja macierzy eskalacji – II kwartał 2026",  # the word names something else
        "Escalation matrix update - Poznan warehouse",
        "Zmiana osób w ścieżce eskalacyjnej",
        "5520 PSU replacement - escalation not needed",  # turned down after the word
        "Eskalacja nie jest potrzebna",
        "Awaria switcha",
    ],
)
def test_no_escalation(subject: str) -> None:
    assert not subject_asks_escalation(subject)


def test_only_the_start_of_an_endless_subject_is_read_for_escalation() -> None:
    assert subject_asks_escalation("x" * 10 + " Eskalacja")
    assert not subject_asks_escalation("x" * threading.SUBJECT_CHARS_READ + " Eskalacja")
    assert not subject_asks_escalation("no eskalacja " * 20_000)  # judged on its first thousand characters
