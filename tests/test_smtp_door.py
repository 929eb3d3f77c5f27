"""The SMTP door on a real loopback socket with the standard smtplib client and the real pipeline, on each backend.

smtplib blocks, and the server runs in the test's event loop: every client conversation runs in a thread.
"""

from __future__ import annotations

import asyncio
import re
import smtplib
import ssl
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import trustme
from sqlalchemy import Table, select

from channels import smtp_security
from channels.smtp import IntakeHandler, start_smtp_server
from gateway import passwords
from gateway.config import SmtpSettings
from gateway.intake import Outcome, RawIntake
from gateway.pipeline import submit
from gateway.schema import Mailbox
from gateway.steps import PipelineDeps
from gateway.store import tables as t
from tests.test_pipeline import simple_mail

T = TypeVar("T")
LOOPBACK = "127.0.0.1"
MAILBOXES: dict[str, Mailbox] = {"pomoc@myhezo.pl": "pomoc", "escalation@myhezo.pl": "escalation"}
SENDER = "jan.kowalski@example.pl"
STORED = re.compile(rb"^2\.0\.0 Stored as HZ-\d{4}-\d{6}$")
CLIENT_TIMEOUT = 15.0
DEADLINE_S = 10.0


@dataclass
class Door:
    handler: IntakeHandler
    server: asyncio.Server
    settings: SmtpSettings

    @property
    def port(self) -> int:
        return int(self.server.sockets[0].getsockname()[1])

    def client(self) -> smtplib.SMTP:
        client = smtplib.SMTP(LOOPBACK, self.port, local_hostname="client.example.pl", timeout=CLIENT_TIMEOUT)
        client.ehlo()
        return client


DoorFactory = Callable[..., Awaitable[Door]]


@pytest.fixture
async def make_door(deps: PipelineDeps) -> AsyncIterator[DoorFactory]:
    """Start doors over the real pipeline of `deps`; `submit=` replaces the pipeline, other keywords are settings."""
    servers: list[asyncio.Server] = []

    async def start(submit_: Callable[[RawIntake], Awaitable[Outcome]] | None = None, **settings: Any) -> Door:
        smtp_settings = SmtpSettings(host=LOOPBACK, port=0, **settings)

        async def through_pipeline(raw: RawIntake) -> Outcome:
            return await submit(raw, deps)

        handler = IntakeHandler(submit_ or through_pipeline, MAILBOXES, smtp_settings)
        server = await start_smtp_server(handler, smtp_settings)
        servers.append(server)
        return Door(handler, server, smtp_settings)

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def door(make_door: DoorFactory) -> Door:
    return await make_door()


async def in_thread(function: Callable[[], T]) -> T:
    return await asyncio.to_thread(function)


async def rows(deps: PipelineDeps, table: Table) -> list[dict[str, Any]]:
    async with deps.store.reading() as conn:
        return [dict(r._mapping) for r in await conn.execute(select(table).order_by(*table.primary_key))]


def send(door: Door, raw: bytes, recipients: list[str], mail_options: tuple[str, ...] = ()) -> tuple[int, bytes]:
    """One transaction; returns the final reply to DATA (or the first refusal)."""
    with door.client() as client:
        code, reply = client.mail(SENDER, list(mail_options))
        if code != 250:
            return code, reply
        for recipient in recipients:
            client.rcpt(recipient)
        return client.data(raw)


def crlf(raw: bytes) -> bytes:
    """smtplib turns bare LF into CRLF on the wire; build what it will send, so it can be compared byte for byte."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


# -- accepting and storing ----------------------------------------------------------------------------------------


async def test_accepted_mail_is_stored_once_and_answered_with_its_reference(door: Door, deps: PipelineDeps) -> None:
    raw = crlf(simple_mail())
    code, reply = await in_thread(lambda: send(door, raw, ["pomoc@myhezo.pl"]))
    assert code == 250 and STORED.match(reply), reply
    [stored] = await rows(deps, t.raw_inputs)
    assert stored["content"] == raw
    envelope = stored["envelope"]
    assert envelope["door"] == "smtp"
    assert envelope["mail_from"] == SENDER
    assert envelope["rcpt_tos"] == ["pomoc@myhezo.pl"]
    assert envelope["helo"] == "client.example.pl"
    assert envelope["peer"][0] == LOOPBACK
    assert envelope["tls"] is None and envelope["auth_user"] is None
    [request] = await rows(deps, t.requests)
    assert reply.decode().endswith(request["reference"])
    assert (request["mailbox"], request["escalation"]) == ("pomoc", False)
    assert door.handler.idle.is_set()


async def test_the_same_message_twice_is_one_request_with_the_same_reference(door: Door, deps: PipelineDeps) -> None:
    raw = crlf(simple_mail())
    first = await in_thread(lambda: send(door, raw, ["pomoc@myhezo.pl"]))
    second = await in_thread(lambda: send(door, raw, ["pomoc@myhezo.pl"]))
    assert first == second and first[0] == 250
    assert len(await rows(deps, t.requests)) == 1


async def test_one_message_to_both_mailboxes_is_one_escalation(door: Door, deps: PipelineDeps) -> None:
    code, _ = await in_thread(lambda: send(door, simple_mail(), ["pomoc@myhezo.pl", "escalation@myhezo.pl"]))
    assert code == 250
    [request] = await rows(deps, t.requests)
    assert (request["mailbox"], request["escalation"]) == ("escalation", True)


async def test_recipient_case_and_harmless_forms_reach_our_mailbox(door: Door, deps: PipelineDeps) -> None:
    forms = ["<POMOC@MyHezo.PL>", '<"pomoc"@myhezo.pl>', "<@relay.example.com,@mx.example.net:pomoc@myhezo.pl>"]

    def conversation() -> list[int]:
        with door.client() as client:
            client.mail(SENDER)
            return [client.docmd("RCPT", f"TO:{form}")[0] for form in forms]

    assert await in_thread(conversation) == [250, 250, 250]


# -- never an open relay -------------------------------------------------------------------------------------------

FOREIGN_RECIPIENTS = [
    "<victim@example.com>",
    "<pomoc@example.com>",
    "<pomoc@sub.myhezo.pl>",
    "<pomoc@myhezo.pl.example.com>",
    "<victim%example.com@myhezo.pl>",  # percent hack
    "<pomoc%myhezo.pl@example.com>",
    "<@myhezo.pl:victim@example.com>",  # source route through us to somebody else
    "<@myhezo.pl,@mx.myhezo.pl:victim@example.com>",
    '<"victim@example.com"@myhezo.pl>',  # quoted local part hiding an address
    "<example.com!victim@myhezo.pl>",  # bang path
    "<pomoc@[127.0.0.1]>",  # address literal
    "<pomoc@myhezo.pl.>",  # trailing dot
    "<pomoc@myhezo.pl@example.com>",
    "<p\u043emoc@myhezo.pl>",  # Cyrillic o: a look-alike of our address
    "<pomoc@myhezo\u2024pl>",  # one dot leader instead of a dot
    "<>",
]


@pytest.mark.parametrize("recipient", FOREIGN_RECIPIENTS)
async def test_foreign_recipients_are_refused_permanently(door: Door, deps: PipelineDeps, recipient: str) -> None:
    def conversation() -> tuple[int, int]:
        with door.client() as client:
            client.mail(SENDER, ["SMTPUTF8"])  # lets the non-ASCII forms reach the server as UTF-8
            rcpt_code = client.docmd("RCPT", f"TO:{recipient}")[0]
            return rcpt_code, client.docmd("DATA")[0]

    rcpt_code, data_code = await in_thread(conversation)
    assert 500 <= rcpt_code < 600
    assert data_code == 503  # no recipient was taken, so there is no message to send
    assert await rows(deps, t.raw_inputs) == []


async def test_mixed_recipients_deliver_only_to_ours(door: Door, deps: PipelineDeps) -> None:
    def conversation() -> tuple[int, int, tuple[int, bytes]]:
        with door.client() as client:
            client.mail(SENDER)
            foreign = client.rcpt("victim@example.com")[0]
            ours = client.rcpt("pomoc@myhezo.pl")[0]
            return foreign, ours, client.data(simple_mail())

    foreign, ours, (data_code, _) = await in_thread(conversation)
    assert (foreign, ours, data_code) == (550, 250, 250)
    [stored] = await rows(deps, t.raw_inputs)
    assert stored["envelope"]["rcpt_tos"] == ["pomoc@myhezo.pl"]


# -- failures and limits --------------------------------------------------------------------------------------------


async def test_store_failure_answers_451_and_stores_nothing(door: Door, deps: PipelineDeps) -> None:
    async with deps.store.transaction() as tx:
        await tx.conn.exec_driver_sql("DROP TABLE outbox")
    code, reply = await in_thread(lambda: send(door, simple_mail(), ["pomoc@myhezo.pl"]))
    assert code == 451, reply
    assert await rows(deps, t.raw_inputs) == []
    assert await rows(deps, t.requests) == []
    assert door.handler.idle.is_set()


async def test_an_unexpected_error_is_a_temporary_failure_not_a_bounce(make_door: DoorFactory) -> None:
    async def broken(raw: RawIntake) -> Outcome:
        raise RuntimeError("secret internal detail")

    door = await make_door(broken)
    code, reply = await in_thread(lambda: send(door, simple_mail(), ["pomoc@myhezo.pl"]))
    assert code == 451
    assert b"secret" not in reply


async def test_size_above_the_limit_declared_in_mail_from_is_refused_at_once(
    make_door: DoorFactory, deps: PipelineDeps
) -> None:
    door = await make_door(max_message_bytes=10_000)

    def conversation() -> tuple[bool, int, int]:
        with door.client() as client:
            advertised = client.has_extn("size") and client.esmtp_features["size"] == "10000"
            return advertised, client.mail(SENDER, ["SIZE=10001"])[0], client.mail(SENDER, ["SIZE=9000"])[0]

    assert await in_thread(conversation) == (True, 552, 250)


async def test_oversize_data_without_size_is_refused_with_552(make_door: DoorFactory, deps: PipelineDeps) -> None:
    door = await make_door(max_message_bytes=10_000)
    raw = simple_mail() + (b"X" * 76 + b"\r\n") * 200
    code, _ = await in_thread(lambda: send(door, raw, ["pomoc@myhezo.pl"]))
    assert code == 552
    assert await rows(deps, t.raw_inputs) == []


async def test_too_many_recipients_are_deferred_with_452(make_door: DoorFactory) -> None:
    door = await make_door(max_recipients=2)

    def conversation() -> list[int]:
        with door.client() as client:
            client.mail(SENDER)
            return [client.rcpt(r)[0] for r in ("pomoc@myhezo.pl", "escalation@myhezo.pl", "pomoc@myhezo.pl")]

    assert await in_thread(conversation) == [250, 250, 452]


async def test_connections_above_the_per_peer_limit_are_refused_with_421(make_door: DoorFactory) -> None:
    door = await make_door(max_connections_per_peer=2)

    def conversation() -> tuple[int, str]:
        first, second = door.client(), door.client()
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            door.client()
        first.quit()
        # The server releases the slot when it sees the connection go; poll for it with a deadline.
        deadline = time.monotonic() + DEADLINE_S
        while True:
            try:
                third = door.client()
                break
            except smtplib.SMTPConnectError:
                if time.monotonic() > deadline:
                    raise
        third.quit()
        second.quit()
        error = refused.value.smtp_error
        return refused.value.smtp_code, error.decode() if isinstance(error, bytes) else error

    code, message = await in_thread(conversation)
    assert code == 421 and "Too many connections" in message


async def test_long_lines_are_accepted_and_kept(door: Door, deps: PipelineDeps) -> None:
    raw = crlf(simple_mail()) + b"<p>" + b"x" * 5000 + b"</p>\r\n"
    code, _ = await in_thread(lambda: send(door, raw, ["pomoc@myhezo.pl"]))
    assert code == 250
    [stored] = await rows(deps, t.raw_inputs)
    assert stored["content"] == raw


# -- bytes and addresses kept exactly ------------------------------------------------------------------------------


async def test_smtputf8_sender_is_accepted_and_kept(door: Door, deps: PipelineDeps) -> None:
    sender = "jań.wójcik@przykład.pl"

    def conversation() -> tuple[bool, dict[str, tuple[int, bytes]]]:
        with door.client() as client:
            return client.has_extn("smtputf8"), client.sendmail(
                sender, ["pomoc@myhezo.pl"], simple_mail(), ["SMTPUTF8"]
            )

    assert await in_thread(conversation) == (True, {})
    [stored] = await rows(deps, t.raw_inputs)
    assert stored["envelope"]["mail_from"] == sender
    assert stored["envelope"]["smtputf8"] is True


async def test_8bit_body_is_kept_byte_for_byte(door: Door, deps: PipelineDeps) -> None:
    raw = (
        b"From: Jan <jan@example.pl>\r\nTo: pomoc@myhezo.pl\r\nSubject: 8bit\r\nMessage-ID: <8bit@example.pl>\r\n"
        b"Content-Type: text/plain; charset=iso-8859-2\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"Zg\xb3oszenie: prze\xb3\xb1cznik S/N 2214G-00417\r\n"
        b".a line starting with a dot\r\n"
        b"..two dots\r\n"
        b"UTF-8 too: \xc5\xbc\xc3\xb3\xc5\x82w\r\n"
        b"trailing spaces   \r\n"
    )

    def conversation() -> tuple[bool, tuple[int, bytes]]:
        with door.client() as client:
            advertised = client.has_extn("8bitmime")
            client.mail(SENDER, ["BODY=8BITMIME"])
            client.rcpt("pomoc@myhezo.pl")
            return advertised, client.data(raw)

    advertised, (code, _) = await in_thread(conversation)
    assert advertised and code == 250
    [stored] = await rows(deps, t.raw_inputs)
    assert stored["content"] == raw
    assert stored["envelope"]["mail_options"] == ["BODY=8BITMIME"]


# -- STARTTLS and AUTH ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


def tls_settings(ca: trustme.CA, directory: Path) -> dict[str, str]:
    certificate = ca.issue_cert(LOOPBACK, "localhost")
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    certificate.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    certificate.private_key_pem.write_to_path(str(key_path))
    return {"tls_cert": str(cert_path), "tls_key": str(key_path)}


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def test_starttls_then_auth_identifies_a_trusted_relay(
    make_door: DoorFactory, deps: PipelineDeps, certificate_authority: trustme.CA, tmp_path: Path
) -> None:
    door = await make_door(auth_users={"relay": "s3cret-pass"}, **tls_settings(certificate_authority, tmp_path))

    def conversation() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with door.client() as client:
            seen["plain"] = (client.has_extn("starttls"), client.has_extn("auth"))
            seen["auth_in_clear"] = client.docmd("AUTH", "PLAIN AHJlbGF5AHMzY3JldC1wYXNz")[0]
            client.starttls(context=client_context(certificate_authority))
            client.ehlo()
            seen["tls_auth"] = client.esmtp_features.get("auth", "")
            try:
                client.login("relay", "wrong")
            except smtplib.SMTPAuthenticationError as exc:
                seen["wrong_password"] = exc.smtp_code
            seen["login"] = client.login("relay", "s3cret-pass")[0]
            client.mail(SENDER)
            seen["relay_attempt"] = client.rcpt("victim@example.com")[0]  # AUTH does not open relaying
            client.rcpt("pomoc@myhezo.pl")
            seen["data"] = client.data(simple_mail())[0]
        return seen

    seen = await in_thread(conversation)
    assert seen["plain"] == (True, False)  # AUTH only inside TLS
    assert seen["auth_in_clear"] == 538
    assert set(seen["tls_auth"].split()) == {"LOGIN", "PLAIN"}
    assert seen["wrong_password"] == 535
    assert seen["login"] == 235
    assert seen["relay_attempt"] == 550
    assert seen["data"] == 250
    [stored] = await rows(deps, t.raw_inputs)
    assert stored["envelope"]["auth_user"] == "relay"
    assert stored["envelope"]["tls"]["version"].startswith("TLSv1.")


async def test_relay_passwords_stored_as_scrypt_hashes_work_with_plain_and_login(
    make_door: DoorFactory, certificate_authority: trustme.CA, tmp_path: Path
) -> None:
    hashed = passwords.hash_password("s3cret-pass", n=2**10)
    door = await make_door(auth_users={"relay": hashed}, **tls_settings(certificate_authority, tmp_path))

    def attempt(mechanism: str, password: str) -> int:
        with door.client() as client:
            client.starttls(context=client_context(certificate_authority))
            client.ehlo()
            client.user, client.password = "relay", password
            authenticate = client.auth_plain if mechanism == "PLAIN" else client.auth_login
            try:
                return client.auth(mechanism, authenticate, initial_response_ok=mechanism == "PLAIN")[0]
            except smtplib.SMTPAuthenticationError as exc:
                return exc.smtp_code

    def every_attempt() -> dict[tuple[str, str], int]:
        return {
            (mechanism, password): attempt(mechanism, password)
            for mechanism in ("PLAIN", "LOGIN")
            for password in ("s3cret-pass", "wrong", hashed)  # the hash itself is no password
        }

    answers = await in_thread(every_attempt)
    assert answers == {
        ("PLAIN", "s3cret-pass"): 235, ("PLAIN", "wrong"): 535, ("PLAIN", hashed): 535,
        ("LOGIN", "s3cret-pass"): 235, ("LOGIN", "wrong"): 535, ("LOGIN", hashed): 535,
    }  # fmt: skip


async def test_other_sessions_are_served_while_a_password_is_being_checked(
    make_door: DoorFactory, certificate_authority: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """scrypt takes a tenth of a second; were it run on the event loop, every other session would wait."""
    door = await make_door(auth_users={"relay": passwords.DUMMY_HASH}, **tls_settings(certificate_authority, tmp_path))
    other_session_served = threading.Event()

    def slow_check(password: bytes, stored: str) -> bool:
        # Holds the check until another session has had an answer: only possible if the loop is free meanwhile.
        return other_session_served.wait(timeout=20) and password == b"s3cret-pass"

    monkeypatch.setattr(smtp_security, "verify_password", slow_check)

    def log_in() -> int:
        with door.client() as client:
            client.starttls(context=client_context(certificate_authority))
            client.ehlo()
            return client.login("relay", "s3cret-pass")[0]

    def another_session() -> int:
        with door.client() as client:
            code = client.noop()[0]
        other_session_served.set()
        return code

    login = asyncio.ensure_future(in_thread(log_in))
    assert await in_thread(another_session) == 250
    assert await login == 235


async def test_tls_without_relay_accounts_offers_no_auth_and_still_takes_mail(
    make_door: DoorFactory, deps: PipelineDeps, certificate_authority: trustme.CA, tmp_path: Path
) -> None:
    door = await make_door(**tls_settings(certificate_authority, tmp_path))

    def conversation() -> tuple[bool, dict[str, tuple[int, bytes]]]:
        with door.client() as client:
            client.starttls(context=client_context(certificate_authority))
            client.ehlo()
            return client.has_extn("auth"), client.sendmail(SENDER, ["pomoc@myhezo.pl"], simple_mail())

    assert await in_thread(conversation) == (False, {})
    [stored] = await rows(deps, t.raw_inputs)
    assert stored["envelope"]["tls"] is not None and stored["envelope"]["auth_user"] is None
