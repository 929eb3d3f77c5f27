"""The SMTP door against real mail software: swaks, Postfix's smtp-source, and a Postfix relay in front of it.

The tools block, and the door runs in the test's event loop: every tool runs in a thread. Waits poll the database
(or the relay's queue) until a deadline, never for a fixed time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from channels.smtp import IntakeHandler, start_smtp_server
from gateway.config import SmtpSettings
from gateway.intake import Outcome, RawIntake
from gateway.pipeline import submit
from gateway.schema import Mailbox
from gateway.steps import PipelineDeps
from gateway.store import tables as t
from tests.support.postfix import PostfixRelay, smtp_source, swaks
from tests.support.system import log_tail

pytestmark = pytest.mark.system

LOOPBACK = "127.0.0.1"
MAILBOXES: dict[str, Mailbox] = {"pomoc@myhezo.pl": "pomoc", "escalation@myhezo.pl": "escalation"}
DEADLINE_S = 60.0
POLL_S = 0.1

EIGHT_BIT_MAIL = (
    b"From: Jan <jan@example.pl>\r\nTo: pomoc@myhezo.pl\r\nSubject: Awaria\r\nMessage-ID: <8bit-swaks@example.pl>\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    b"Prze\xc5\x82\xc4\x85cznik nie wstaje, S/N 2214G-00417.\r\n.kropka na pocz\xc4\x85tku\r\n"
)


@dataclass
class Doors:
    """SMTP doors over the real pipeline; `start(port=…)` can bring one back on the same port."""

    deps: PipelineDeps
    servers: list[asyncio.Server] = field(default_factory=list)

    async def start(self, **settings: Any) -> int:
        smtp_settings = SmtpSettings(**{"host": LOOPBACK, "port": 0, **settings})

        async def through_pipeline(raw: RawIntake) -> Outcome:
            return await submit(raw, self.deps)

        server = await start_smtp_server(IntakeHandler(through_pipeline, MAILBOXES, smtp_settings), smtp_settings)
        self.servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    async def stop_all(self) -> None:
        for server in self.servers:
            server.close()
            await server.wait_closed()
        self.servers.clear()


@pytest.fixture
async def doors(deps: PipelineDeps) -> AsyncIterator[Doors]:
    started = Doors(deps)
    yield started
    await started.stop_all()


@pytest.fixture
async def relay_for(doors: Doors) -> AsyncIterator[Callable[[int], Awaitable[PostfixRelay]]]:
    relays: list[PostfixRelay] = []

    async def start(downstream_port: int) -> PostfixRelay:
        relay = PostfixRelay(downstream_port)
        relays.append(relay)
        await asyncio.to_thread(relay.start)
        return relay

    yield start
    for relay in relays:
        await asyncio.to_thread(relay.close)


async def count(deps: PipelineDeps, table: Any) -> int:
    async with deps.store.reading() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def envelopes(deps: PipelineDeps) -> list[dict[str, Any]]:
    async with deps.store.reading() as conn:
        result = await conn.execute(select(t.raw_inputs.c.envelope).order_by(t.raw_inputs.c.id))
        return [dict(row[0]) for row in result]


async def wait_for(condition: Callable[[], Awaitable[bool]], what: str, within: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(POLL_S)


async def rows_reach(deps: PipelineDeps, expected: int, relay: PostfixRelay | None = None) -> None:
    """Waits for `expected` stored inputs; with `relay`, a timeout says what Postfix held and logged meanwhile."""

    async def reached() -> bool:
        return await count(deps, t.raw_inputs) >= expected

    try:
        await wait_for(reached, f"{expected} stored messages")
    except AssertionError as exc:
        if relay is None:
            raise
        queue = await asyncio.to_thread(relay.queue)
        raise AssertionError(
            f"{exc}; Postfix holds {queue}; its log ends with:\n{log_tail(relay.maillog_path)}"
        ) from None


async def maillog_shows(relay: PostfixRelay, text: str) -> None:
    async def shown() -> bool:
        return relay.maillog_path.exists() and text in relay.maillog_path.read_text(errors="replace")

    try:
        await wait_for(shown, f"{text!r} in the relay's mail log")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the log ends with:\n{log_tail(relay.maillog_path)}") from None


# -- swaks ---------------------------------------------------------------------------------------------------------


async def test_swaks_pipelined_8bit_message_is_stored_byte_for_byte(doors: Doors, deps: PipelineDeps) -> None:
    port = await doors.start()
    result = await asyncio.to_thread(swaks, LOOPBACK, port, data=EIGHT_BIT_MAIL, extra_args=["--pipeline"])
    assert result.accepted, result.transcript
    assert "250 2.0.0 Stored as HZ-" in result.transcript
    async with deps.store.reading() as conn:
        [content] = (await conn.execute(select(t.raw_inputs.c.content))).scalars().all()
    assert content == EIGHT_BIT_MAIL


async def test_swaks_utf8_sender_is_accepted_and_kept(doors: Doors, deps: PipelineDeps) -> None:
    port = await doors.start()
    result = await asyncio.to_thread(swaks, LOOPBACK, port, sender="jań.wójcik@przykład.pl", data=EIGHT_BIT_MAIL)
    assert result.accepted, result.transcript
    [envelope] = await envelopes(deps)
    assert envelope["mail_from"] == "jań.wójcik@przykład.pl"


async def test_swaks_oversize_message_is_refused_with_552(doors: Doors, deps: PipelineDeps) -> None:
    port = await doors.start(max_message_bytes=20_000)
    big = EIGHT_BIT_MAIL + (b"x" * 98 + b"\r\n") * 400
    result = await asyncio.to_thread(swaks, LOOPBACK, port, data=big)
    assert not result.accepted
    assert "552" in result.transcript
    assert await count(deps, t.raw_inputs) == 0


@pytest.mark.parametrize(
    "recipient", ["victim@example.com", "victim%example.com@myhezo.pl", "@myhezo.pl:victim@example.com"]
)
async def test_swaks_foreign_recipient_is_refused(doors: Doors, deps: PipelineDeps, recipient: str) -> None:
    port = await doors.start()
    result = await asyncio.to_thread(swaks, LOOPBACK, port, recipient=recipient)
    assert not result.accepted
    assert "<** 550" in result.transcript or "<** 553" in result.transcript, result.transcript
    assert await count(deps, t.raw_inputs) == 0


# -- smtp-source ---------------------------------------------------------------------------------------------------


async def test_smtp_source_load_is_stored_exactly_once(doors: Doors, deps: PipelineDeps) -> None:
    port = await doors.start(max_connections_per_peer=50)
    await asyncio.to_thread(smtp_source, LOOPBACK, port, messages=200, sessions=10, payload_bytes=2048)
    # smtp-source has seen 250 for every message, and 250 comes after the commit: all are there already.
    assert await count(deps, t.raw_inputs) == 200
    assert await count(deps, t.requests) == 200


# -- a Postfix relay in front of the gateway ------------------------------------------------------------------------


async def test_mail_queued_in_postfix_while_the_door_is_down_is_delivered_once_when_it_is_back(
    doors: Doors, deps: PipelineDeps, relay_for: Callable[[int], Awaitable[PostfixRelay]]
) -> None:
    port = await doors.start()
    await doors.stop_all()  # the gateway is down; its port stays ours to restart on
    relay = await relay_for(port)
    result = await asyncio.to_thread(swaks, relay.host, relay.port, data=EIGHT_BIT_MAIL)
    assert result.accepted, result.transcript

    async def deferred() -> bool:
        queue = await asyncio.to_thread(relay.queue)
        return any(message.delay_reasons for message in queue)

    await wait_for(deferred, "Postfix to defer the message")
    assert await count(deps, t.raw_inputs) == 0

    await doors.start(port=port)
    await asyncio.to_thread(relay.flush)
    await rows_reach(deps, 1, relay)
    await asyncio.to_thread(relay.wait_for_empty_queue, DEADLINE_S)
    assert await count(deps, t.raw_inputs) == 1
    assert await count(deps, t.requests) == 1


async def test_postfix_relays_with_size_and_8bitmime(
    doors: Doors, deps: PipelineDeps, relay_for: Callable[[int], Awaitable[PostfixRelay]]
) -> None:
    relay = await relay_for(await doors.start())
    result = await asyncio.to_thread(swaks, relay.host, relay.port, data=EIGHT_BIT_MAIL)
    assert result.accepted, result.transcript
    await rows_reach(deps, 1)
    [envelope] = await envelopes(deps)
    options = envelope["mail_options"]
    assert any(option.startswith("SIZE=") for option in options), options
    assert "BODY=8BITMIME" in options
    async with deps.store.reading() as conn:
        [content] = (await conn.execute(select(t.raw_inputs.c.content))).scalars().all()
    # Postfix adds its Received: header (and any missing Date:); the body arrives byte for byte.
    assert content.split(b"\r\n\r\n", 1)[1] == EIGHT_BIT_MAIL.split(b"\r\n\r\n", 1)[1]
    assert b"Message-ID: <8bit-swaks@example.pl>\r\n" in content


async def test_postfix_stops_at_our_size_and_unknown_local_parts_are_refused(
    doors: Doors, deps: PipelineDeps, relay_for: Callable[[int], Awaitable[PostfixRelay]]
) -> None:
    relay = await relay_for(await doors.start(max_message_bytes=20_000))
    big = EIGHT_BIT_MAIL + (b"x" * 98 + b"\r\n") * 400
    assert (await asyncio.to_thread(swaks, relay.host, relay.port, data=big)).accepted  # Postfix takes it…
    # …reads our SIZE from EHLO and gives up without sending a byte of it (a MAIL FROM SIZE= would get 552).
    await maillog_shows(relay, "exceeds size limit 20000 of server")
    # Postfix relays the whole domain; the gateway still refuses every address that is not one of its mailboxes.
    accepted = await asyncio.to_thread(swaks, relay.host, relay.port, recipient="victim%example.com@myhezo.pl")
    assert accepted.accepted
    await maillog_shows(relay, "in reply to RCPT TO command")
    # And Postfix itself refuses other domains at RCPT: the chain is no open relay either.
    refused = await asyncio.to_thread(swaks, relay.host, relay.port, recipient="victim@example.com")
    assert not refused.accepted and "<** 5" in refused.transcript
    assert await count(deps, t.raw_inputs) == 0
