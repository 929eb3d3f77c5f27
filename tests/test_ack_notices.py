"""Escalation notices and SLA warnings to the desk: content, RFC 3834 marking, and no header injection."""

from __future__ import annotations

import pytest

from gateway.ack import SlaStage, render_escalation_notice, render_sla_warning
from gateway.schema import Language, Reporter

from .test_ack_support import INJECTION, RECEIVED, REFERENCE, body_text, make_context, reparse

TEAM = ["escalation@myhezo.pl", "desk@myhezo.pl"]


@pytest.mark.parametrize("language", ["pl", "en"])
def test_escalation_notice_names_everything_the_team_needs(language: Language) -> None:
    ctx = make_context(serial_numbers=["SN123456"], contract_numbers=["PW-77"], missing=[], escalation=True)
    message = reparse(
        render_escalation_notice(
            ctx,
            from_address="gateway@myhezo.pl",
            to_addresses=TEAM,
            message_id="<esc-1@myhezo.pl>",
            language=language,
            date=RECEIVED,
        )
    )
    assert message["Subject"].startswith(f"[{REFERENCE}] ")
    assert [a.addr_spec for a in message["To"].addresses] == TEAM
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == language
    assert message.get_content_type() == "text/plain"
    text = body_text(message, "plain")
    for expected in (
        REFERENCE,
        "Jan Kowalski",
        "Example",
        "jan@example.pl",
        "+48601234567",
        "Switch X465",
        "SN123456",
        "PW-77",
    ):
        assert expected in text
    assert "http" not in text  # link-free: the team opens the request in the desk view


@pytest.mark.parametrize(
    ("language", "stage", "subject", "phrase"),
    [
        ("pl", "due_soon", "SLA: 15 min do terminu odpowiedzi", "15 min do terminu odpowiedzi"),
        ("pl", "breached", "SLA: termin odpowiedzi przekroczony", "przekroczyło termin odpowiedzi"),
        ("en", "due_soon", "SLA: 15 min to the response deadline", "is 15 minutes from its response deadline"),
        ("en", "breached", "SLA: response deadline breached", "has breached its response deadline"),
    ],
)
def test_sla_warning(language: Language, stage: SlaStage, subject: str, phrase: str) -> None:
    message = reparse(
        render_sla_warning(
            make_context(),
            stage=stage,
            from_address="gateway@myhezo.pl",
            to_addresses=["desk@myhezo.pl"],
            message_id="<sla-1@myhezo.pl>",
            language=language,
            date=RECEIVED,
        )
    )
    assert message["Subject"] == f"[{REFERENCE}] {subject}"
    assert message["Auto-Submitted"] == "auto-generated"
    text = body_text(message, "plain")
    assert phrase in text and REFERENCE in text
    deadline = {"pl": "28.12.2026, 09:30", "en": "28 December 2026, 09:30"}[language]
    assert deadline in text


def test_notices_cannot_be_given_headers_by_the_reporter() -> None:
    ctx = make_context(subject=INJECTION, reporter=Reporter(name=INJECTION, company=INJECTION))
    for built in (
        render_escalation_notice(
            ctx, from_address="gateway@myhezo.pl", to_addresses=TEAM, message_id="<esc-2@myhezo.pl>", date=RECEIVED
        ),
        render_sla_warning(
            ctx,
            stage="breached",
            from_address="gateway@myhezo.pl",
            to_addresses=TEAM,
            message_id="<sla-2@myhezo.pl>",
            date=RECEIVED,
        ),
    ):
        message = reparse(built)
        assert message["Bcc"] is None
        assert "\n" not in message["Subject"]


def test_notice_needs_a_recipient() -> None:
    with pytest.raises(ValueError, match="recipient"):
        render_escalation_notice(
            make_context(),
            from_address="gateway@myhezo.pl",
            to_addresses=[],
            message_id="<esc-3@myhezo.pl>",
            date=RECEIVED,
        )
