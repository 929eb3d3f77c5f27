"""Self-tests of the mail test infrastructure: each fixture runs the real server and does what it promises."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP
from imapclient.exceptions import LoginError

from tests.support.dovecot import DovecotServer
from tests.support.ports import LOOPBACK, free_tcp_port, wait_until
from tests.support.postfix import PostfixRelay, SmtpSink, smtp_source, swaks
from tests.support.system import REQUIRE_SYSTEM_TESTS_VARIABLE, log_tail, require_binary

POMOC = "pomoc@myhezo.pl"
RAW_MESSAGE = (
    b"From: Jan Kowalski <jan@example.com>\r\n"
    b"To: pomoc@myhezo.pl\r\n"
    b"Subject: Awaria drukarki\r\n"
    b"Message-ID: <fixture-self-test@example.com>\r\n"
    b"\r\n"
    b"Drukarka nie drukuje.\r\n"
)


def _require_dovecot() -> None:
    require_binary("dovecot", "the Debian package dovecot-imapd provides the IMAP server")


# -- gating ---------------------------------------------------------------------------------------------------


def test_missing_binary_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_SYSTEM_TESTS_VARIABLE, raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-such-mail-tool"):
        require_binary("no-such-mail-tool", "only a probe")


def test_missing_binary_fails_when_system_tests_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_SYSTEM_TESTS_VARIABLE, "1")
    with pytest.raises(pytest.fail.Exception, match="forbids skipping"):
        require_binary("no-such-mail-tool", "only a probe")


# -- Dovecot ----------------------------------------------------------------------------------------------------


@pytest.mark.system
def test_append_then_peek_leaves_message_unseen(dovecot_mailbox: DovecotServer) -> None:
    _require_dovecot()
    uid = dovecot_mailbox.append(POMOC, RAW_MESSAGE)

    with dovecot_mailbox.connect(POMOC) as imap:
        imap.select_folder("INBOX")
        fetched = imap.fetch([uid], ["BODY.PEEK[]"])
        flags = imap.get_flags([uid])

    assert fetched[uid][b"BODY[]"] == RAW_MESSAGE
    assert b"\\Seen" not in flags[uid]


@pytest.mark.system
def test_move_to_processed(dovecot_mailbox: DovecotServer) -> None:
    _require_dovecot()
    uid = dovecot_mailbox.append(POMOC, RAW_MESSAGE)

    with dovecot_mailbox.connect(POMOC) as imap:
        assert b"MOVE" in imap.capabilities()
        assert b"IDLE" in imap.capabilities()
        imap.select_folder("INBOX")
        imap.move([uid], "Processed")

    assert dovecot_mailbox.list_uids(POMOC, "INBOX") == []
    assert len(dovecot_mailbox.list_uids(POMOC, "Processed")) == 1


@pytest.mark.system
def test_imaps_with_test_certificate_authority(dovecot_mailbox: DovecotServer) -> None:
    _require_dovecot()
    with dovecot_mailbox.connect(POMOC, tls=True) as imap:
        folders = {name for _flags, _delimiter, name in imap.list_folders()}
    assert {"INBOX", "Processed", "Quarantine"} <= folders


@pytest.mark.system
def test_messages_survive_restart(dovecot_mailbox: DovecotServer) -> None:
    _require_dovecot()
    uid = dovecot_mailbox.append(POMOC, RAW_MESSAGE, folder="Quarantine")

    dovecot_mailbox.restart()

    assert dovecot_mailbox.list_uids(POMOC, "Quarantine") == [uid]


@pytest.mark.system
def test_failed_login_does_not_delay_the_next_login(dovecot_mailbox: DovecotServer) -> None:
    _require_dovecot()
    with pytest.raises(LoginError):
        dovecot_mailbox.connect(POMOC, password="wrong-password")

    started = time.monotonic()
    with dovecot_mailbox.connect(POMOC) as imap:
        imap.noop()
    # Dovecot's auth penalty would hold this login back by at least two seconds.
    assert time.monotonic() - started < 1.5


# -- smtp-source, smtp-sink, swaks ------------------------------------------------------------------------------


@pytest.mark.system
def test_smtp_sink_receives_what_smtp_source_sends(tmp_path: Path) -> None:
    require_binary("smtp-source", "the Debian package postfix provides it")
    require_binary("smtp-sink", "the Debian package postfix provides it")
    with SmtpSink(tmp_path / "sink") as sink:
        smtp_source(sink.host, sink.port, messages=3, sessions=2, subject="fixture probe", payload_bytes=200)
        wait_until(lambda: len(sink.messages()) == 3, timeout=10, what="smtp-sink to dump three messages")

    for dump in sink.messages():
        assert b"X-Rcpt-Args: <pomoc@myhezo.pl>" in dump
        assert b"Subject: fixture probe" in dump


class RecordingHandler:
    """An aiosmtpd handler that keeps what it accepts and refuses recipients outside myhezo.pl."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if not address.endswith("@myhezo.pl"):
            return "550 5.1.1 not a myhezo.pl mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((str(envelope.mail_from), list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 2.0.0 stored"


@asynccontextmanager
async def aiosmtpd_server(handler: RecordingHandler, port: int = 0) -> AsyncIterator[int]:
    """aiosmtpd on loopback inside the test's event loop; yields the bound port."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="downstream.test"), LOOPBACK, port)
    try:
        bound_port: int = server.sockets[0].getsockname()[1]
        yield bound_port
    finally:
        server.close()
        await server.wait_closed()


async def eventually(condition: Callable[[], bool], *, within: float, what: str, blocking: bool = False) -> None:
    """Poll `condition` until it holds; `blocking` runs it in a thread (it runs a command) so the loop keeps serving."""

    async def holds() -> bool:
        return await asyncio.to_thread(condition) if blocking else condition()

    try:
        async with asyncio.timeout(within):
            while True:
                if await holds():
                    return
                await asyncio.sleep(0.05)  # a poll interval: the deadline is what bounds the wait
    except TimeoutError:
        raise AssertionError(f"timed out after {within} s waiting for {what}") from None


@pytest.mark.system
async def test_swaks_reports_acceptance_and_refusal() -> None:
    require_binary("swaks", "the Debian package swaks provides it")
    handler = RecordingHandler()
    async with aiosmtpd_server(handler) as port:
        accepted = await asyncio.to_thread(swaks, LOOPBACK, port, recipient=POMOC, data=RAW_MESSAGE)
        refused = await asyncio.to_thread(swaks, LOOPBACK, port, recipient="someone@example.org")

    assert accepted.accepted, accepted.transcript
    assert "250 2.0.0 stored" in accepted.transcript
    assert not refused.accepted
    assert "550 5.1.1" in refused.transcript
    assert [(rcpts, body) for _sender, rcpts, body in handler.received] == [([POMOC], RAW_MESSAGE)]


# -- Postfix relay ----------------------------------------------------------------------------------------------


def _require_postfix() -> None:
    require_binary("postfix", "the Debian package postfix provides the relay")
    require_binary("swaks", "the Debian package swaks provides it")


async def _send_through(relay: PostfixRelay, subject: str) -> None:
    result = await asyncio.to_thread(
        swaks, relay.host, relay.port, recipient=POMOC, headers={"Subject": subject}, body="Przez przekaźnik."
    )
    assert result.accepted, result.transcript


@pytest.mark.system
async def test_postfix_relay_delivers_downstream(make_postfix_relay: Callable[[int], PostfixRelay]) -> None:
    _require_postfix()
    handler = RecordingHandler()
    async with aiosmtpd_server(handler) as port:
        relay = await asyncio.to_thread(make_postfix_relay, port)
        await _send_through(relay, "relayed once")
        await eventually(lambda: len(handler.received) == 1, within=20, what="the relayed message")

    _sender, recipients, content = handler.received[0]
    assert recipients == [POMOC]
    assert b"Subject: relayed once" in content
    assert b"by relay.postfix.test (Postfix)" in content


@pytest.mark.system
async def test_postfix_relay_keeps_mail_while_downstream_is_down(
    make_postfix_relay: Callable[[int], PostfixRelay],
) -> None:
    _require_postfix()
    downstream_port = free_tcp_port()
    relay = await asyncio.to_thread(make_postfix_relay, downstream_port)

    await _send_through(relay, "queued while down")
    await eventually(
        lambda: any(message.delay_reasons for message in relay.queue()),
        within=20,
        what="a deferred message",
        blocking=True,
    )
    queue = await asyncio.to_thread(relay.queue)
    assert len(queue) == 1, f"{queue}; the log ends with:\n{log_tail(relay.maillog_path)}"
    assert queue[0].recipients == (POMOC,)

    handler = RecordingHandler()
    async with aiosmtpd_server(handler, downstream_port):
        await asyncio.to_thread(relay.flush)
        await eventually(lambda: len(handler.received) == 1, within=20, what="delivery after the downstream came back")
        await eventually(lambda: not relay.queue(), within=20, what="the relay queue to drain", blocking=True)

    assert len(handler.received) == 1
    assert b"Subject: queued while down" in handler.received[0][2]
