"""parse_email end to end: what goes where, attachments, nesting, threading and refusal of non-mail."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.schema import Mailbox
from parsers.email import parse_email
from parsers.email.structure import MAX_DEPTH
from parsers.result import ParsedIntake, ParseError

NOW = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "email"


def parse(raw: bytes | str, mailbox: Mailbox = "pomoc") -> ParsedIntake:
    data = raw.encode() if isinstance(raw, str) else raw
    return parse_email(data.replace(b"\n", b"\r\n"), mailbox=mailbox, received_at=NOW)


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode()


REPLY = """From: =?utf-8?q?Ewelina_Zieli=C5=84ska?= <E.Zielinska@umig.pl>
Reply-To: helpdesk@umig.pl
To: pomoc@myhezo.pl
Subject: =?utf-8?q?Odp=3A_=5BHZ-2026-000451=5D_Wymiana?=
Message-ID: <own@umig.pl>
In-Reply-To: <ack.451@myhezo.pl>
References: <first@umig.pl> <ack.451@myhezo.pl>
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Good morning, the replacement works, please close it.

Regards
Ewelina
tel. 22 758 40 11

Od: myHEZO Pomoc <pomoc@myhezo.pl>
Wysłane: czwartek, 23 kwietnia 2026 14:05
Do: Ewelina
Temat: [HZ-2026-000451] Wymiana

Dzień dobry, wymiana urządzenia 2247G-01230 w ramach umowy 40074920 zatwierdzona.
Prosimy o eskalację tylko w razie potrzeby. Infolinia: tel. 12 25 25 600, inżynier: 601 552 310.
"""


def test_reply_fields_go_where_they_belong() -> None:
    parsed = parse(REPLY)
    request = parsed.request
    assert request.channel == "email" and request.mailbox == "pomoc"
    assert request.reporter.name == "Ewelina Zielińska"
    assert request.reporter.email == "e.zielinska@umig.pl"  # From, never Reply-To
    assert request.reporter.phone == "+48227584011"  # own signature, not the quoted engineer
    assert request.subject == "Odp: [HZ-2026-000451] Wymiana"
    assert request.follow_up_of == "HZ-2026-000451"
    assert request.language == "en"  # own words, though the quote is Polish
    assert not request.escalation  # body wording never escalates
    assert request.serial_numbers == ["2247G-01230"]  # quoted text still counts
    assert request.contract_numbers == ["40074920"]
    assert request.description.startswith("Good morning") and "Wysłane" not in request.description
    assert parsed.message_id == request.external_id == "own@umig.pl"
    assert parsed.thread_ids == ("ack.451@myhezo.pl", "first@umig.pl")
    assert "2247G-01230" in parsed.body_text


def test_escalation_mailbox_and_subject() -> None:
    assert parse(REPLY, mailbox="escalation").request.escalation
    assert parse(REPLY.replace("Subject: =?utf-8?q?Odp", "Subject: =?utf-8?q?ESKALACJA_Odp")).request.escalation


HTML_ONLY = """From: Joanna <j@bank.pl>
Subject: Awaria
Content-Type: text/html; charset=iso-8859-2
Content-Transfer-Encoding: quoted-printable

<p>Dzie=F1 dobry, prze=B3=B1cznik nie dzia=B3a.</p><table><tr><td>Numer seryjny&nbsp;:</td>
<td>&nbsp;2246G-00377</td></tr><tr><td>Nr umowy</td><td>HZ/AHB/2026/0023</td></tr></table>
<p>tel.&nbsp;46&nbsp;830&nbsp;15&nbsp;72</p>
"""


def test_html_only_body_is_converted() -> None:
    request = parse(HTML_ONLY).request
    assert "przełącznik nie działa" in request.description
    assert request.serial_numbers == ["2246G-00377"]
    assert request.contract_numbers == ["HZ/AHB/2026/0023"]
    assert request.reporter.phone == "+48468301572"
    assert request.language == "pl"


def test_plain_part_is_preferred_but_empty_plain_falls_back_to_html() -> None:
    alternative = """From: a@b.pl
Subject: x
Content-Type: multipart/alternative; boundary="B"

--B
Content-Type: text/plain; charset=utf-8

{plain}
--B
Content-Type: text/html; charset=utf-8

<p>HTML wins 2011G-00289</p>
--B--
"""
    assert parse(alternative.format(plain="Plain wins")).request.description == "Plain wins"
    assert parse(alternative.format(plain="  ")).request.description == "HTML wins 2011G-00289"
    # A plain part that only points at the HTML one is no text of its own.
    placeholder = parse(alternative.format(plain="This message is in HTML. View it in your browser."))
    assert placeholder.request.description == "HTML wins 2011G-00289"
    assert placeholder.request.serial_numbers == ["2011G-00289"]
    assert parse(alternative.format(plain="Awaria, szczegóły w HTML")).request.description == "HTML wins 2011G-00289"
    long_plain = "Przełącznik nie działa, opis w HTML poniżej jest taki sam. " * 6
    assert parse(alternative.format(plain=long_plain)).request.description == long_plain.strip()


def test_format_flowed_lines_are_joined_before_extraction() -> None:
    flowed = (
        "From: a@b.pl\nSubject: x\nContent-Type: text/plain; charset=utf-8; format=flowed\n\n"
        "Padl zasilacz, numer seryjny \nzasilacza: LBNNTMPL22158H\n"
    )
    assert parse(flowed).request.serial_numbers == ["LBNNTMPL22158H"]


PNG = b"\x89PNG\r\n\x1a\n\x00\x00"
SHOW_VERSION = b"Switch          : 800979-00-05 2011G-00289 Rev 05 BootROM: 2.0.0.5    IMG: 30.6.1.11\n"


def test_attachments_are_kept_and_read() -> None:
    raw = f"""From: a@b.pl
Subject: Logi
Content-Type: multipart/mixed; boundary="M"

--M
Content-Type: text/plain; charset=utf-8

W załączniku logi, umowa 40061174.
--M
Content-Type: application/octet-stream; name="show_tech.log"
Content-Disposition: attachment; filename="../../etc/show_tech.log"
Content-Transfer-Encoding: base64

{b64(SHOW_VERSION)}
--M
Content-Type: application/pdf
Content-Disposition: attachment; filename*=utf-8''protok%C3%B3%C5%82_2129G-00558.pdf
Content-Transfer-Encoding: base64

{b64(b"%PDF-1.4 binary")}
--M
Content-Type: image/png
Content-Transfer-Encoding: base64

{b64(PNG)}
--M--
"""
    parsed = parse(raw)
    names = [a.filename for a in parsed.attachments]
    assert names == ["show_tech.log", "protokół_2129G-00558.pdf", "attachment-3.png"]
    log = parsed.attachments[0]
    assert log.content == SHOW_VERSION and log.sha256 == hashlib.sha256(SHOW_VERSION).hexdigest()
    meta = parsed.request.attachments[0]
    assert (meta.filename, meta.content_type, meta.size) == ("show_tech.log", "application/octet-stream", log.size)
    # serial from the log text and from a file name; part number 800979-00-05 is not a serial
    assert parsed.request.serial_numbers == ["2011G-00289", "2129G-00558"]
    assert parsed.request.description == "W załączniku logi, umowa 40061174."


BOUNCE = """Return-Path: <>
From: MAILER-DAEMON@mx1.myhezo.pl (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
Content-Type: multipart/report; report-type=delivery-status; boundary="R"

--R
Content-Type: text/plain; charset=us-ascii

This is the mail system. Your message could not be delivered.
--R
Content-Type: message/delivery-status

Reporting-MTA: dns; mx1.myhezo.pl

Final-Recipient: rfc822; serwis@elektro-mont.pl
Action: failed
--R
Content-Type: message/rfc822

From: myHEZO Pomoc <pomoc@myhezo.pl>
Subject: [HZ-2026-000377] =?utf-8?q?Przyj=C4=99li=C5=9Bmy?=
Content-Type: text/plain; charset=utf-8

Numer seryjny: 2240G-00165
Umowa: 40079914
--R--
"""


def test_bounce_reads_the_returned_message_but_not_its_subject_tag() -> None:
    parsed = parse(BOUNCE)
    request = parsed.request
    assert request.auto_submitted
    assert request.follow_up_of is None
    assert request.serial_numbers == ["2240G-00165"] and request.contract_numbers == ["40079914"]
    assert request.language == "en"
    assert [a.content_type for a in parsed.attachments] == ["message/rfc822"]
    assert parsed.attachments[0].filename.endswith(".eml")
    assert "Final-Recipient" in parsed.body_text


FACILITIES_MAIL = (
    b"From: Facilities <desk@example.eu>\r\nSubject: AP dead again\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + base64.encodebytes(b"Label on the unit: AP410C, SN 02503125110937.\n")
)
ATTACHED_EML = f"""From: a@b.pl
To: pomoc@myhezo.pl
Subject: AP
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="B"

--B
Content-Type: text/plain; charset=utf-8

Przesyłam maila od administracji.
--B
Content-Type: application/octet-stream; name="dead.eml"
Content-Disposition: attachment; filename="dead.eml"
Content-Transfer-Encoding: base64

{b64(FACILITIES_MAIL)}
--B--
"""


def test_an_eml_file_sent_as_octet_stream_is_read_as_the_mail_it_encloses() -> None:
    parsed = parse(ATTACHED_EML)
    assert parsed.request.serial_numbers == ["02503125110937"]  # its own body is base64: read as mail, not as text
    assert parsed.request.description == "Przesyłam maila od administracji."
    assert [a.filename for a in parsed.attachments] == ["dead.eml"]
    assert "Label on the unit" in parsed.body_text


def test_endless_nesting_is_capped() -> None:
    inner = "From: x@y.pl\nSubject: deepest\nContent-Type: text/plain\n\nS/N 2011G-00289\n"
    for level in range(MAX_DEPTH + 10):
        inner = f"From: x@y.pl\nSubject: level {level}\nContent-Type: message/rfc822\n\n{inner}"
    parsed = parse("From: a@b.pl\nSubject: top\nContent-Type: message/rfc822\n\n" + inner)
    assert any("nesting deeper" in note for note in parsed.notes)
    assert parsed.request.subject == "top"


def test_broken_mime_still_gives_a_request() -> None:
    missing_boundary = "From: a@b.pl\nSubject: x\nContent-Type: multipart/mixed\n\nS/N 2011G-00289 umowa 40012345\n"
    request = parse(missing_boundary).request
    assert request.serial_numbers == ["2011G-00289"]
    truncated = BOUNCE[: BOUNCE.index("Numer seryjny")]
    assert parse(truncated).request.auto_submitted
    bad_base64 = "From: a@b.pl\nSubject: x\nContent-Transfer-Encoding: base64\n\n!!!not base64***\n"
    assert parse(bad_base64).request.subject == "x"


def test_headerless_text_is_read_but_empty_and_binary_input_is_refused() -> None:
    assert parse("Send Ppp mailing list submissions to\n\tppp@zzz.org\n").request.description
    with pytest.raises(ParseError, match="empty"):
        parse(b"")
    with pytest.raises(ParseError, match="binary"):
        parse(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")


def test_corpus_window_1250_mislabelled_body_is_noted() -> None:
    raw = (CORPUS / "pomoc" / "028-malformed-charset-cp1250-declared-utf8-po-number.eml").read_bytes()
    parsed = parse_email(raw, mailbox="pomoc", received_at=NOW)
    assert "przełącznik" in parsed.request.description
    assert any("cp1250" in note for note in parsed.notes)


def mail_with_log(name: str, log: bytes) -> str:
    """A short note with `log` attached as application/octet-stream, base64."""
    return f"""From: a@b.pl
Subject: log
Content-Type: multipart/mixed; boundary="M"

--M
Content-Type: text/plain

see log
--M
Content-Type: application/octet-stream; name="{name}"
Content-Transfer-Encoding: base64

{b64(log)}
--M--
"""


def test_utf16_log_attachment_is_read() -> None:
    log = "\ufeffSerial#            : 14JP512E0001\r\n".encode("utf-16-le")
    assert parse(mail_with_log("sys-info.log", log)).request.serial_numbers == ["14JP512E0001"]


def test_a_telnet_session_log_with_cr_nul_and_pager_backspaces_is_read() -> None:
    log = (
        b"\r\x00\nX440G2-48p.1 # show version\r\nPress <SPACE> to continue or <Q> to quit:" + b"\x08" * 41 + b" " * 41
        + b"\x08" * 41 + b"Switch          : 800617-00-04 2204G-01377 Rev 04 BootROM: 2.2.1.6\r\n\r\x00\n"
    )  # fmt: skip
    assert parse(mail_with_log("teraterm.log", log)).request.serial_numbers == ["2204G-01377"]
