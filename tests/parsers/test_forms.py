"""Portal submissions, call records and SMS webhooks to ParsedIntake."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from parsers.forms import parse_phone, parse_portal, parse_sms
from parsers.result import ParseError

AT = datetime(2026, 11, 24, 9, 15, tzinfo=UTC)
SHOW_VERSION = b"Switch          : 800889-00-07 2208G-00622 Rev 07 BootROM: 2.0.1.9    IMG: 31.7.3.7\n"


def _portal(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "submission_id": "P-000123",
        "login": "vzam:jkowalski",
        "company": "Example Sp. z o.o.",
        "contact": {"name": "Jan Kowalski", "email": "Jan@Example.pl", "phone": "+48 601 234 567"},
        "serial_number": "",
        "contract_number": "",
        "subject": "Switch nie działa",
        "description": "Przełącznik nie startuje po burzy, proszę o wymianę.",
        "language": "pl",
        "attachments": [],
    }
    payload.update(changes)
    return payload


def test_portal_fills_the_request() -> None:
    parsed = parse_portal(_portal(serial_number="SN: 2011G-00289", contract_number="PW 40012345"), received_at=AT)
    request = parsed.request
    assert request.channel == "portal"
    assert request.external_id == "P-000123"
    assert request.received_at == AT
    assert request.reporter.model_dump() == {
        "name": "Jan Kowalski",
        "email": "jan@example.pl",
        "phone": "+48601234567",
        "company": "Example Sp. z o.o.",
        "portal_login": "vzam:jkowalski",
    }
    assert (request.serial_numbers, request.contract_numbers, request.missing) == (["2011G-00289"], ["40012345"], [])
    assert (request.language, request.escalation, request.follow_up_of) == ("pl", False, None)


def test_portal_attachment_is_decoded_and_searched() -> None:
    attachment = {
        "filename": "show_version.txt",
        "content_type": "text/plain",
        "content_base64": base64.b64encode(SHOW_VERSION).decode(),
    }
    parsed = parse_portal(_portal(serial_number="w załączniku", attachments=[attachment]), received_at=AT)
    assert parsed.request.serial_numbers == ["2208G-00622"]
    assert parsed.request.missing == ["contract_number"]
    assert parsed.attachments[0].content == SHOW_VERSION
    meta = parsed.request.attachments[0]
    assert (meta.filename, meta.size, meta.sha256) == (
        "show_version.txt",
        len(SHOW_VERSION),
        hashlib.sha256(SHOW_VERSION).hexdigest(),
    )


def test_portal_binary_attachment_is_kept_but_not_searched() -> None:
    attachment = {
        "filename": "photo.png",
        "content_type": "image/png",
        "content_base64": base64.b64encode(b"S/N 2011G-00289").decode(),
    }
    parsed = parse_portal(_portal(attachments=[attachment]), received_at=AT)
    assert parsed.request.serial_numbers == []
    assert len(parsed.attachments) == 1


@pytest.mark.parametrize(
    ("filename", "content_type", "content"),
    [
        ("showver", "application/octet-stream", SHOW_VERSION),  # no extension, no type: the bytes say text
        ("v.txt", "text/plain", "\ufeff".encode("utf-16-le") + SHOW_VERSION.decode().encode("utf-16-le")),
    ],
)
def test_portal_attachments_are_read_as_mail_attachments_are(filename: str, content_type: str, content: bytes) -> None:
    attachment = {
        "filename": filename,
        "content_type": content_type,
        "content_base64": base64.b64encode(content).decode(),
    }
    parsed = parse_portal(_portal(attachments=[attachment]), received_at=AT)
    assert parsed.request.serial_numbers == ["2208G-00622"]


def test_portal_product_field_and_glued_labels_are_searched() -> None:
    payload = _portal(serial_number="jw.", contract_number="PW-40146290", product="X440-G2-24t, S/N 2214G-00455")
    parsed = parse_portal(payload, received_at=AT)
    assert (parsed.request.serial_numbers, parsed.request.contract_numbers) == (["2214G-00455"], ["40146290"])


def test_portal_description_sent_as_lines_and_phone_as_a_list_are_read() -> None:
    payload = _portal(
        description=["Numer seryjny: 2409G-01515", "Umowa serwisowa nr 40915015"],
        contact={"name": "Jan", "email": "jan@example.pl", "phone": ["601 910 442"]},
    )
    request = parse_portal(payload, received_at=AT).request
    assert request.description == "Numer seryjny: 2409G-01515\nUmowa serwisowa nr 40915015"
    assert (request.serial_numbers, request.contract_numbers) == (["2409G-01515"], ["40915015"])
    assert request.reporter.phone == "+48601910442"


def test_portal_fields_with_glued_labels_and_a_phone_with_a_note_are_read() -> None:
    payload = _portal(
        serial_number="SN2302G-00633, nr ser.LBNNTMPL24093D",
        contract_number="umowa40231177",
        contact={"name": "Jan", "email": "jan@example.pl", "phone": "601 220 419 (po 15:00)"},
    )
    request = parse_portal(payload, received_at=AT).request
    assert (request.serial_numbers, request.contract_numbers) == (["2302G-00633", "LBNNTMPL24093D"], ["40231177"])
    assert request.reporter.phone == "+48601220419"


def test_portal_fields_naming_something_else_give_nothing() -> None:
    payload = _portal(
        serial_number="2219G-00145, FortiGate FGT60FTK2109ABCD, nazwa AP w XIQ: KRKAP01PARTER",
        contract_number="brak (nr klienta 40211873), oferta 40811922",
    )
    request = parse_portal(payload, received_at=AT).request
    assert (request.serial_numbers, request.contract_numbers) == (["2219G-00145"], [])


@pytest.mark.parametrize("line", ["escalation", "Eskalacja", "+48 12 25 25 502", "0048122525502"])
def test_phone_escalation_line_written_in_other_ways(line: str) -> None:
    assert parse_phone(_call(line=line), received_at=AT).request.escalation is True


@pytest.mark.parametrize(
    "body",
    [
        "Prowadzę samochód z włączonym trybem skupienia. Zobaczę Twoją wiadomość, gdy dotrę na miejsce.",
        "I'm driving with Driving Focus turned on. I'll see your message when I get where I'm going.",
    ],
)
def test_an_automatic_text_message_reply_is_auto_submitted(body: str) -> None:
    """A driving mode's answer; a person writing that they are away from tomorrow is a person (next test)."""
    parsed = parse_sms({"MessageSid": "SM1", "From": "+48602118455", "Body": body}, received_at=AT)
    assert parsed.request.auto_submitted and parsed.notes


def test_a_person_texting_about_their_holiday_is_a_person() -> None:
    body = "Od jutra jestem na urlopie. W sprawie switcha S/N 2319G-00788 proszę dzwonić do Pawła: 603 118 402."
    parsed = parse_sms({"MessageSid": "SM2", "From": "+48602118455", "Body": body}, received_at=AT)
    assert not parsed.request.auto_submitted


def test_portal_attachment_file_name_is_searched() -> None:
    attachment = {"filename": "tabliczka_2011G-00289.png", "content_type": "image/png", "content_base64": ""}
    assert parse_portal(_portal(attachments=[attachment]), received_at=AT).request.serial_numbers == ["2011G-00289"]


# A facilities desk's mail attached to a submission: its body is base64, so only reading it as mail finds the serial.
FORWARDED_MAIL = (
    b"From: Facilities <desk@example.eu>\r\nSubject: AP dead again\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + base64.encodebytes(b"Label on the unit: AP410C, SN 02503125110937.\n")
)


@pytest.mark.parametrize(("filename", "content_type"), [("dead.eml", "message/rfc822"), ("dead.eml", "")])
def test_portal_attached_mail_is_read_as_mail(filename: str, content_type: str) -> None:
    content = base64.b64encode(FORWARDED_MAIL).decode()
    attachment = {"filename": filename, "content_type": content_type, "content_base64": content}
    parsed = parse_portal(_portal(serial_number="", attachments=[attachment]), received_at=AT)
    assert parsed.request.serial_numbers == ["02503125110937"]


def test_portal_attached_mail_that_is_no_mail_yields_nothing() -> None:
    attachment = {"filename": "empty.eml", "content_type": "message/rfc822", "content_base64": ""}
    parsed = parse_portal(_portal(serial_number="", attachments=[attachment]), received_at=AT)
    assert parsed.request.serial_numbers == []
    assert len(parsed.attachments) == 1


def test_portal_bad_base64_is_a_clear_parse_error() -> None:
    attachment = {"filename": "show_tech.txt", "content_type": "text/plain", "content_base64": "not base64!"}
    with pytest.raises(ParseError, match=r"attachment 1 \(show_tech.txt\) is not valid base64"):
        parse_portal(_portal(attachments=[attachment]), received_at=AT)


def test_portal_language_from_text_not_form_field() -> None:
    english = _portal(
        description="Our switch stopped booting after a power cut, please send a replacement.", language="pl"
    )
    assert parse_portal(english, received_at=AT).request.language == "en"


def test_portal_form_language_breaks_a_tie_on_short_text() -> None:
    short = _portal(subject="5420F", description="5420F-24P-4XE", language="en")
    assert parse_portal(short, received_at=AT).request.language == "en"


@pytest.mark.parametrize("submission_id", [None, "", "  ", ["P-1"]])
def test_portal_without_id_is_a_parse_error(submission_id: Any) -> None:
    with pytest.raises(ParseError, match="submission_id"):
        parse_portal(_portal(submission_id=submission_id), received_at=AT)


def test_portal_tolerates_wrong_types_and_nulls() -> None:
    payload = _portal(
        submission_id=123,
        contact=None,
        company=["x"],
        serial_number=None,
        contract_number=40012345,
        subject=None,
        description=7,
        attachments="none",
        extra={"ignored": True},
    )
    request = parse_portal(payload, received_at=AT).request
    assert request.external_id == "123"
    assert request.reporter.name is None and request.reporter.company is None
    assert request.contract_numbers == ["40012345"]


def _call(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "call_id": "c-8812",
        "line": "hotline",
        "caller_number": "0-12 345 67 89",
        "caller_name": "Anna Nowak",
        "company": "Firma",
        "serial_number": "",
        "contract_number": "",
        "notes": "switch nie działa, sn 2011g-00289, umowa hz/sos/2026/0052",
    }
    payload.update(changes)
    return payload


def test_phone_call_fills_the_request() -> None:
    request = parse_phone(_call(), received_at=AT).request
    assert (request.channel, request.external_id, request.escalation) == ("phone", "c-8812", False)
    assert (request.reporter.name, request.reporter.phone, request.reporter.company) == (
        "Anna Nowak",
        "+48123456789",
        "Firma",
    )
    assert (request.serial_numbers, request.contract_numbers) == (["2011G-00289"], ["HZ/SOS/2026/0052"])
    assert request.description.startswith("switch nie działa")
    assert request.language == "pl"


@pytest.mark.parametrize(
    ("line", "escalation"), [("escalation", True), ("Escalation", True), ("hotline", False), (None, False)]
)
def test_phone_escalation_line(line: Any, escalation: bool) -> None:
    assert parse_phone(_call(line=line), received_at=AT).request.escalation is escalation


def test_phone_without_call_id_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="call_id"):
        parse_phone(_call(call_id=None), received_at=AT)


def test_phone_contract_field_stands_without_label() -> None:
    request = parse_phone(_call(notes="", contract_number="40012345", serial_number="40097740"), received_at=AT).request
    assert request.contract_numbers == ["40012345", "40097740"]
    assert request.missing == ["serial_number"]


def _sms(**changes: Any) -> dict[str, str]:
    payload = {
        "MessageSid": "SM123",
        "From": "+48602118455",
        "To": "+48122525600",
        "Body": "HZ-2026-000845 kurier nie dotarł.",
    }
    payload.update(changes)
    return payload


def test_sms_fills_the_request() -> None:
    request = parse_sms(_sms(), received_at=AT).request
    assert (request.channel, request.external_id, request.reporter.phone) == ("sms", "SM123", "+48602118455")
    assert request.follow_up_of == "HZ-2026-000845"
    assert request.missing == ["serial_number", "contract_number"]
    assert request.language == "pl"


def test_sms_identifiers_and_no_follow_up() -> None:
    request = parse_sms(_sms(Body="Hi, AP305C sn 03052110070714 down, contract 40111392."), received_at=AT).request
    assert (request.serial_numbers, request.contract_numbers, request.follow_up_of) == (
        ["03052110070714"],
        ["40111392"],
        None,
    )
    assert request.language == "en"


def test_sms_without_sid_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="MessageSid"):
        parse_sms({"From": "+48602118455", "Body": "x"}, received_at=AT)


def test_a_caller_number_from_twilio_needs_only_to_be_possible() -> None:
    record = {"call_id": "CA1", "caller_number": "+447700900929", "notes": "switch down"}
    assert parse_phone(record, received_at=AT).request.reporter.phone is None  # typed by an agent: must be valid
    from_twilio = parse_phone({**record, "source": "twilio"}, received_at=AT).request.reporter.phone
    assert from_twilio == "+447700900929"
