"""The e-mail acknowledgement: content in both languages, threading headers, and what reporters cannot inject."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import jinja2
import pytest

from gateway.ack import AckContext, render_ack_email, tagged_subject
from gateway.schema import Language, MissingItem, Reporter

from .test_ack_support import INJECTION, RECEIVED, REFERENCE, body_text, make_context, reparse

NEEDS: dict[Language, dict[tuple[MissingItem, ...], str]] = {
    "en": {
        ("serial_number", "contract_number"): "To accept the report we need the serial number of the failed device "
        "and the service contract number.",
        ("serial_number",): "To accept the report we need the serial number of the failed device.",
        ("contract_number",): "To accept the report we need the service contract number.",
    },
    "pl": {
        ("serial_number", "contract_number"): "Do przyjęcia zgłoszenia potrzebujemy numeru seryjnego uszkodzonego "
        "urządzenia oraz numeru umowy serwisowej.",
        ("serial_number",): "Do przyjęcia zgłoszenia potrzebujemy numeru seryjnego uszkodzonego urządzenia.",
        ("contract_number",): "Do przyjęcia zgłoszenia potrzebujemy numeru umowy serwisowej.",
    },
}
NEEDS_PREFIX: dict[Language, str] = {"en": "To accept the report we need", "pl": "Do przyjęcia zgłoszenia potrzebujemy"}


def ack(
    ctx: AckContext,
    *,
    original_subject: str | None = None,
    to_address: str = "jan@example.pl",
    in_reply_to: str | None = "<m1@example.pl>",
    references: Sequence[str] = ("<root@example.pl>",),
    templates_dir: Path | None = None,
) -> EmailMessage:
    message = render_ack_email(
        ctx,
        from_address="pomoc@myhezo.pl",
        to_address=to_address,
        message_id="<ack-1@myhezo.pl>",
        in_reply_to=in_reply_to,
        references=references,
        original_subject=ctx.subject if original_subject is None else original_subject,
        date=RECEIVED,
        templates_dir=templates_dir,
    )
    return reparse(message)


@pytest.mark.parametrize("language", ["pl", "en"])
def test_both_languages_render_the_essentials(language: Language) -> None:
    message = ack(make_context(language=language, serial_numbers=["SN123456"], contract_numbers=["PW-77"], missing=[]))
    text, html = body_text(message, "plain"), body_text(message, "html")
    for body in (text, html):
        assert REFERENCE in body
        assert "SN123456" in body and "PW-77" in body
        assert "escalation@myhezo.pl" in body and "+48 12 25 25 502" in body
        assert NEEDS_PREFIX[language] not in body
    assert message["Content-Language"] == language
    received = {"pl": "środa, 23.12.2026, 16:30", "en": "Wednesday, 23 December 2026, 16:30"}[language]
    deadline = {"pl": "poniedziałek, 28.12.2026, 09:30", "en": "Monday, 28 December 2026, 09:30"}[language]
    assert received in text and deadline in text
    hours = {"pl": "od poniedziałku do piątku, 9:00–17:00", "en": "Monday to Friday, 9:00–17:00"}[language]
    assert hours in text


@pytest.mark.parametrize("language", ["pl", "en"])
@pytest.mark.parametrize("missing", [("serial_number", "contract_number"), ("serial_number",), ("contract_number",)])
def test_only_the_missing_items_are_asked_for(language: Language, missing: tuple[MissingItem, ...]) -> None:
    message = ack(make_context(language=language, missing=list(missing)))
    for body in (body_text(message, "plain"), body_text(message, "html")):
        assert NEEDS[language][missing] in body
        assert f"[{REFERENCE}]" in body  # "reply keeping the tag in the subject"
        for other, sentence in NEEDS[language].items():
            if other != missing:
                assert sentence not in body


@pytest.mark.parametrize(("language", "marker"), [("pl", "Termin odpowiedzi: —"), ("en", "Response deadline: —")])
def test_unknown_deadline_is_a_dash(language: Language, marker: str) -> None:
    assert marker in body_text(ack(make_context(language=language, with_due=False)), "plain")


@pytest.mark.parametrize(("language", "phrase"), [("pl", "w ciągu 7 dni"), ("en", "within 7 days")])
def test_return_obligation_only_for_replacements(language: Language, phrase: str) -> None:
    assert phrase in body_text(ack(make_context(language=language, replacement=True)), "plain")
    assert phrase not in body_text(ack(make_context(language=language)), "plain")


def test_24x7_window_is_described() -> None:
    ctx = make_context(language="en")
    ctx_24x7 = replace(ctx, window="24x7")
    text = body_text(ack(ctx_24x7), "plain")
    assert "24 hours a day, 7 days a week" in text and "Monday to Friday" not in text


def test_threading_and_rfc3834_headers() -> None:
    message = ack(make_context())
    assert message["Subject"] == f"[{REFERENCE}] Switch X465 nie działa"
    assert message["From"] == message["Reply-To"] == "myHEZO Serwis <pomoc@myhezo.pl>"
    assert message["To"].addresses[0].addr_spec == "jan@example.pl"
    assert message["Message-ID"] == "<ack-1@myhezo.pl>"
    assert message["In-Reply-To"] == "<m1@example.pl>"
    assert message["References"] == "<root@example.pl> <m1@example.pl>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["Date"].datetime == RECEIVED
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in message.iter_parts())


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("Awaria switcha", f"[{REFERENCE}] Awaria switcha"),
        (f"Re: [{REFERENCE}] Awaria switcha", f"Re: [{REFERENCE}] Awaria switcha"),
        (f"Odp: [{REFERENCE.lower()}] Awaria", f"Odp: [{REFERENCE.lower()}] Awaria"),
        ("Re: [HZ-2026-000999] Inna sprawa", f"[{REFERENCE}] Re: [HZ-2026-000999] Inna sprawa"),
        ("", f"[{REFERENCE}] Zgłoszenie serwisowe"),
        ("  \r\n ", f"[{REFERENCE}] Zgłoszenie serwisowe"),
    ],
)
def test_subject_tag_is_added_once(original: str, expected: str) -> None:
    assert tagged_subject(REFERENCE, original, "pl") == expected
    assert ack(make_context(), original_subject=original)["Subject"] == expected


def test_default_english_subject() -> None:
    assert tagged_subject(REFERENCE, None, "en") == f"[{REFERENCE}] Service request"


@pytest.mark.parametrize(
    "payload",
    [
        INJECTION,
        "x\nBcc: victim@example.com",
        "x\rBcc: victim@example.com",
        "x\u2028Bcc: victim@example.com",
        "x\x85Bcc: victim@example.com",
    ],
)
def test_subject_and_name_cannot_add_headers(payload: str) -> None:
    ctx = make_context(subject=payload, reporter=Reporter(name=payload, email="jan@example.pl"))
    message = ack(ctx, original_subject=payload)
    assert message["Bcc"] is None
    assert sorted(message.keys()) == sorted(
        [
            "Subject",
            "From",
            "To",
            "Date",
            "Message-ID",
            "Auto-Submitted",
            "X-Auto-Response-Suppress",
            "X-HEZO-Reference",
            "Reply-To",
            "In-Reply-To",
            "References",
            "MIME-Version",
            "Content-Type",
            "Content-Language",
        ]
    )
    assert [a.addr_spec for a in message["To"].addresses] == ["jan@example.pl"]
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]


def test_reporter_message_ids_cannot_add_headers() -> None:
    message = ack(make_context(), in_reply_to=INJECTION, references=[f"<a@b.pl>{INJECTION}", "<ok@example.pl>"])
    assert message["Bcc"] is None
    assert message["In-Reply-To"] is None  # unusable ids are dropped, the acknowledgement still goes out
    assert message["References"] == "<ok@example.pl>"


def test_long_reference_chains_are_capped() -> None:
    ids = [f"<m{i}@example.pl>" for i in range(50)]
    message = ack(make_context(), in_reply_to="<last@example.pl>", references=ids)
    chain = message["References"].split()
    assert len(chain) == 20 and chain[0] == "<m0@example.pl>" and chain[-1] == "<last@example.pl>"


def test_recipient_address_with_linefeed_is_refused() -> None:
    with pytest.raises(ValueError):
        ack(make_context(), to_address="jan@example.pl\r\nBcc: victim@example.com")


def test_own_message_id_is_checked() -> None:
    with pytest.raises(ValueError, match="message_id"):
        render_ack_email(
            make_context(),
            from_address="pomoc@myhezo.pl",
            to_address="jan@example.pl",
            message_id="not an id",
            in_reply_to=None,
            references=[],
            original_subject="x",
            date=RECEIVED,
        )


def test_markup_from_the_reporter_is_escaped_in_html() -> None:
    ctx = make_context(
        subject='<script>alert(1)</script> <a href="http://evil.example">x</a>',
        description="<script>steal()</script>",
        serial_numbers=["<b>SN1</b>"],
    )
    message = ack(ctx)
    html = body_text(message, "html")
    assert "<script>" not in html and "<a href" not in html and "<b>SN1" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # The description is never echoed: an auto-reply that repeats arbitrary text to a forged sender is a spam relay.
    assert "steal()" not in html and "steal()" not in body_text(message, "plain")


def _write_templates(root: Path, text: str, html: str) -> Path:
    for language in ("pl", "en"):
        folder = root / "ack" / language
        folder.mkdir(parents=True)
        (folder / "email.txt.j2").write_text(text, encoding="utf-8")
        (folder / "email.html.j2").write_text(html, encoding="utf-8")
    return root


def test_explicit_templates_dir_escapes_html_only(tmp_path: Path) -> None:
    templates = _write_templates(tmp_path, "T {{ ctx.subject }}\n", "<p>{{ ctx.subject }}</p>\n")
    message = ack(make_context(subject="<i>"), templates_dir=templates)
    assert body_text(message, "plain").splitlines() == ["T <i>"]
    assert body_text(message, "html").splitlines() == ["<p>&lt;i&gt;</p>"]


def test_undefined_template_variables_fail_loudly(tmp_path: Path) -> None:
    templates = _write_templates(tmp_path, "{{ no_such_variable }}", "")
    with pytest.raises(jinja2.UndefinedError):
        ack(make_context(), templates_dir=templates)


def test_context_validates_reference_and_times() -> None:
    ctx = make_context()
    with pytest.raises(ValueError, match="reference"):
        replace(ctx, reference="HZ-26-1\r\nBcc: x")
    with pytest.raises(ValueError, match="aware"):
        replace(ctx, received_at=RECEIVED.replace(tzinfo=None))
