"""The door's own DATA reading and its pipeline slots.

DATA is compared on the wire with aiosmtpd's own implementation (same line limit): for every input both must give
the same reply and hand on the same bytes. The slots are driven with events, step by step.
"""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.smtp import IntakeHandler, MessageSlots
from channels.smtp_protocol import (
    MAX_LINE_BYTES,
    DataReceiver,
    DataState,
    GatewaySMTP,
    PeerSessions,
    ReceiveBudget,
    receive_data,
)
from gateway.config import SmtpSettings

LOOPBACK = "127.0.0.1"
SIZE_LIMIT = 200_000
WAIT_S = 10.0


class Recorder:
    """Handler keeping what DATA handed on."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes | None, Any]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append((envelope.original_content, envelope.content))
        return "250 2.0.0 OK"


class AiosmtpdWithOurLineLimit(SMTP):
    line_length_limit = MAX_LINE_BYTES


Exchange = Callable[[bytes], Awaitable[tuple[bytes, list[tuple[bytes | None, Any]]]]]


async def _server(factory: Callable[[], SMTP]) -> asyncio.Server:
    return await asyncio.get_running_loop().create_server(factory, host=LOOPBACK, port=0)


@pytest.fixture
async def exchanges() -> AsyncIterator[tuple[Exchange, Exchange]]:
    """(ours, aiosmtpd's): each sends `data` after DATA and returns the final reply and what the handler got."""
    servers: list[asyncio.Server] = []

    def exchange_with(make: Callable[[Recorder], SMTP]) -> Exchange:
        async def exchange(data: bytes) -> tuple[bytes, list[tuple[bytes | None, Any]]]:
            recorder = Recorder()
            server = await _server(lambda: make(recorder))
            servers.append(server)
            port = server.sockets[0].getsockname()[1]
            reader, writer = await asyncio.open_connection(LOOPBACK, port)
            try:
                await reader.readline()  # greeting
                for command in (b"HELO client.example.pl", b"MAIL FROM:<a@example.pl>", b"RCPT TO:<b@example.pl>"):
                    writer.write(command + b"\r\n")
                    assert (await reader.readline()).startswith(b"250")
                writer.write(b"DATA\r\n")
                assert (await reader.readline()).startswith(b"354")
                writer.write(data)
                await writer.drain()
                reply = await asyncio.wait_for(reader.readline(), WAIT_S)
            finally:
                writer.close()
            return reply.rstrip(), recorder.received

        return exchange

    ours = exchange_with(lambda handler: GatewaySMTP(handler, peers=PeerSessions(limit=10), data_size_limit=SIZE_LIMIT))
    theirs = exchange_with(lambda handler: AiosmtpdWithOurLineLimit(handler, data_size_limit=SIZE_LIMIT))
    yield ours, theirs
    for server in servers:
        server.close()
        await server.wait_closed()


def _line(length: int, first: bytes = b"x") -> bytes:
    """A data line of `length` bytes, CRLF included."""
    return first + b"y" * (length - 3) + b"\r\n"


WIRE_CASES: dict[str, bytes] = {
    "plain": b"Subject: hi\r\n\r\nbody\r\n.\r\n",
    "empty message": b".\r\n",
    "stuffed dots": b"Subject: dots\r\n\r\n..one dot\r\n...two dots\r\n..\r\n.x\r\nend\r\n.\r\n",
    "8bit and bare LF": b"Subject: 8bit\r\n\r\nZg\xb3oszenie\nline\rmore \xc5\xbc\r\n.\r\n",
    "line at the limit": _line(MAX_LINE_BYTES) + b".\r\n",
    "stuffed line at the limit": _line(MAX_LINE_BYTES, first=b".") + b".\r\n",
    "line one over the limit": _line(MAX_LINE_BYTES + 1) + b"after\r\n.\r\n",
    "line two over the limit": _line(MAX_LINE_BYTES + 2) + b".\r\n",
    "line the reader cannot hold": b"a\r\n" + b"z" * (3 * MAX_LINE_BYTES) + b"\r\n.\r\n",
    "dot line continuing a long line": b"z" * (2 * MAX_LINE_BYTES) + b".\r\nstill data\r\n.\r\n",
    "size exactly at the limit": _line(80) * (SIZE_LIMIT // 80) + b".\r\n",
    "size one over the limit": _line(80) * (SIZE_LIMIT // 80 - 1) + _line(81) + b".\r\n",
    "too large, in many lines": (b"L" * 76 + b"\r\n") * (SIZE_LIMIT // 78 + 5) + b".\r\n",
    "too large and a long line": (b"L" * 76 + b"\r\n") * (SIZE_LIMIT // 78 + 5) + _line(MAX_LINE_BYTES + 5) + b".\r\n",
}


@pytest.mark.parametrize("data", WIRE_CASES.values(), ids=WIRE_CASES.keys())
async def test_data_is_read_exactly_as_aiosmtpd_reads_it(exchanges: tuple[Exchange, Exchange], data: bytes) -> None:
    ours, theirs = exchanges
    our_reply, our_messages = await ours(data)
    their_reply, their_messages = await theirs(data)
    assert our_reply[:3] == their_reply[:3]
    if not their_reply.startswith(b"250"):
        assert our_reply == their_reply  # 500 and 552 keep aiosmtpd's wording
    assert our_messages == their_messages


async def test_the_bytes_handed_on_are_unstuffed_and_otherwise_untouched(exchanges: tuple[Exchange, Exchange]) -> None:
    ours, _ = exchanges
    reply, [(original, content)] = await ours(WIRE_CASES["stuffed dots"])
    assert reply.startswith(b"250")
    assert original == b"Subject: dots\r\n\r\n.one dot\r\n..two dots\r\n.\r\nx\r\nend\r\n"
    assert content is original  # one object: no second copy of the message


async def test_data_over_the_size_limit_is_refused_with_552_and_nothing_handed_on(
    exchanges: tuple[Exchange, Exchange],
) -> None:
    ours, _ = exchanges
    reply, messages = await ours(WIRE_CASES["size one over the limit"])
    assert reply == b"552 Error: Too much mail data"
    assert messages == []


async def _read_line_by_line(reader: asyncio.StreamReader, data: DataReceiver) -> None:
    """How the door read message data before it read blocks: the reference receive_data is held to."""
    while True:
        try:
            line = await reader.readuntil(b"\r\n")
        except asyncio.LimitOverrunError as overrun:
            data.overlong()
            line = await reader.read(overrun.consumed)
        if not data.mid_line and line == b".\r\n":
            return
        data.add(line)


_WIRE_PIECES = [b"a", b"bbbbb", b"z" * 30, b".", b"..", b"\r", b"\n", b"\r\n", b".\r\n", b"\r\n.\r\n", b"\xc5\xbc"]


@settings(max_examples=400, deadline=None)
@given(
    body=st.lists(st.sampled_from(_WIRE_PIECES), max_size=40).map(b"".join),
    arrivals=st.lists(st.integers(1, 40), min_size=1, max_size=8),
    line_limit=st.integers(4, 24),
    size_limit=st.none() | st.integers(1, 300),
    budget=st.none() | st.integers(0, 300),
)
def test_data_read_in_blocks_is_what_reading_line_by_line_gives(
    body: bytes, arrivals: list[int], line_limit: int, size_limit: int | None, budget: int | None
) -> None:
    """Same bytes, same refusal, same counts and the same bytes left for the commands after the final dot, however
    the data arrives (in pieces of the given sizes, so the reader overruns its limit mid-line too)."""
    wire = body + b"\r\n.\r\nQUIT\r\n"

    async def outcome(read: Callable[[asyncio.StreamReader, DataReceiver], Awaitable[object]]) -> tuple[object, ...]:
        reader = asyncio.StreamReader(limit=line_limit)  # the door's reader has the line limit as its limit

        async def arrive() -> None:
            position, sizes = 0, iter(arrivals * len(wire))
            while position < len(wire):
                size = next(sizes)
                reader.feed_data(wire[position : position + size])
                position += size
                await asyncio.sleep(0)
            reader.feed_eof()

        data = DataReceiver(
            size_limit=size_limit,
            line_limit=line_limit,
            budget=None if budget is None else ReceiveBudget(limit=budget),
        )
        arriving = asyncio.ensure_future(arrive())
        await read(reader, data)
        await arriving
        content = data.content() if data.state is DataState.NOMINAL else None
        return data.state, data.received, data.held, content, await reader.read()

    blocks = asyncio.run(outcome(lambda reader, data: receive_data(reader, data, lambda: True)))
    lines = asyncio.run(outcome(_read_line_by_line))
    assert blocks == lines


def test_the_receiver_holds_one_buffer_that_becomes_the_message_without_a_copy() -> None:
    line = b"A" * 76 + b"\r\n"
    lines = 20_000
    receiver = DataReceiver(size_limit=None, line_limit=MAX_LINE_BYTES)
    tracemalloc.start()
    try:
        for _ in range(lines):
            receiver.add(line)
        content = receiver.content()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert content == line * lines
    # aiosmtpd's list of lines plus the joined copy came to about three times the message.
    assert peak < 1.3 * len(content)


def test_the_receiver_keeps_nothing_once_the_data_is_refused() -> None:
    receiver = DataReceiver(size_limit=10, line_limit=MAX_LINE_BYTES)
    receiver.add(b"12345678\r\n")
    receiver.add(b"9\r\n")
    assert receiver.state is DataState.TOO_MUCH
    assert receiver.refusal() == "552 Error: Too much mail data"
    with pytest.raises(AssertionError):
        receiver.content()


# -- pipeline slots -------------------------------------------------------------------------------------------------


class Job:
    """One holder of slots, entering and leaving when the test says so."""

    def __init__(self, slots: MessageSlots, size: int) -> None:
        self.entered = asyncio.Event()
        self.leave = asyncio.Event()
        self.task = asyncio.ensure_future(self._run(slots, size))

    async def _run(self, slots: MessageSlots, size: int) -> None:
        async with slots.hold(size):
            self.entered.set()
            await self.leave.wait()

    async def wait_entered(self) -> None:
        await asyncio.wait_for(self.entered.wait(), WAIT_S)

    async def finish(self) -> None:
        self.leave.set()
        await asyncio.wait_for(self.task, WAIT_S)


def test_a_message_takes_one_slot_per_share_of_the_limit() -> None:
    slots = MessageSlots(4, slot_bytes=8)
    assert [slots.needed(size) for size in (0, 1, 8, 9, 16, 17, 32, 10**9)] == [1, 1, 1, 2, 2, 3, 4, 4]


def test_a_message_at_the_size_limit_takes_every_slot_of_the_door() -> None:
    settings = SmtpSettings(max_message_bytes=33_554_432, max_concurrent_messages=4)

    async def submit(raw: Any) -> Any:
        raise AssertionError("not called")

    handler = IntakeHandler(submit, {}, settings)
    assert handler.slots.needed(settings.max_message_bytes) == 4
    assert handler.slots.needed(settings.max_message_bytes // 4) == 1


async def test_small_messages_share_the_slots() -> None:
    slots = MessageSlots(4, slot_bytes=1000)
    jobs = [Job(slots, 10) for _ in range(4)]
    for job in jobs:
        await job.wait_entered()
    fifth = Job(slots, 10)
    await jobs[0].finish()
    await fifth.wait_entered()
    for job in [*jobs[1:], fifth]:
        await job.finish()
    assert slots.free == 4


async def test_a_large_message_runs_alone_and_is_not_overtaken() -> None:
    slots = MessageSlots(4, slot_bytes=1000)
    small = Job(slots, 10)
    await small.wait_entered()
    large = Job(slots, 4000)
    behind = Job(slots, 10)  # would fit beside `small`, but it came after `large`
    await small.finish()
    await large.wait_entered()
    assert not behind.entered.is_set()
    await large.finish()
    await behind.wait_entered()
    await behind.finish()
    assert slots.free == 4


async def test_a_cancelled_waiter_lets_those_behind_it_go() -> None:
    slots = MessageSlots(4, slot_bytes=1000)
    small = Job(slots, 10)
    await small.wait_entered()
    large = Job(slots, 4000)
    behind = Job(slots, 10)
    large.task.cancel()
    await behind.wait_entered()
    with pytest.raises(asyncio.CancelledError):
        await large.task
    await small.finish()
    await behind.finish()
    assert slots.free == 4


# -- the shared receive budget --------------------------------------------------------------------------------------


def test_receivers_share_one_budget_and_give_it_back() -> None:
    budget = ReceiveBudget(limit=1_000)
    first = DataReceiver(size_limit=None, line_limit=MAX_LINE_BYTES, budget=budget)
    second = DataReceiver(size_limit=None, line_limit=MAX_LINE_BYTES, budget=budget)
    first.add(b"a" * 598 + b"\r\n")
    second.add(b"b" * 398 + b"\r\n")
    second.add(b"c\r\n")  # one byte past what is left
    assert second.state is DataState.NO_ROOM
    assert second.refusal() == "452 4.3.1 Insufficient system storage, please try again later"
    assert budget.in_use == 600  # the refused receiver gave back what it held at once
    assert first.content() == b"a" * 598 + b"\r\n"
    assert budget.in_use == 600  # handed on, not yet stored: still held
    first.release()
    first.release()
    assert budget.in_use == 0


def test_the_receive_budget_must_fit_the_largest_message() -> None:
    with pytest.raises(ValueError, match="max_receiving_bytes"):
        SmtpSettings(max_message_bytes=1_000, max_receiving_bytes=999)


async def _send(port: int, body: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    try:
        await reader.readline()
        for command in (b"HELO client.example.pl", b"MAIL FROM:<a@example.pl>", b"RCPT TO:<b@example.pl>", b"DATA"):
            writer.write(command + b"\r\n")
            await reader.readline()
        writer.write(body + b".\r\n")
        return (await asyncio.wait_for(reader.readline(), WAIT_S)).rstrip()
    finally:
        writer.close()


async def test_past_the_budget_a_message_is_refused_for_now_and_accepted_once_there_is_room() -> None:
    release_first = asyncio.Event()
    first_arrived = asyncio.Event()

    class HoldsTheFirst:
        async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
            if not first_arrived.is_set():
                first_arrived.set()
                await release_first.wait()  # the first message is "being stored" and keeps its bytes
            return "250 2.0.0 OK"

    budget = ReceiveBudget(limit=5_000)
    handler = HoldsTheFirst()
    server = await _server(lambda: GatewaySMTP(handler, peers=PeerSessions(limit=10), budget=budget))
    port = server.sockets[0].getsockname()[1]
    try:
        first = asyncio.ensure_future(_send(port, _line(80) * 50))  # 4,000 bytes
        await asyncio.wait_for(first_arrived.wait(), WAIT_S)
        assert await _send(port, _line(80) * 20) == b"452 4.3.1 Insufficient system storage, please try again later"
        release_first.set()
        assert await first == b"250 2.0.0 OK"
        assert await _send(port, _line(80) * 20) == b"250 2.0.0 OK"
        assert budget.in_use == 0
    finally:
        server.close()


async def test_a_session_knows_the_same_commands_and_auth_mechanisms_as_aiosmtpd_would_find() -> None:
    # Inside the running loop: aiosmtpd would otherwise make (and leave open) an event loop of its own.
    class Plain(GatewaySMTP):
        def __dir__(self) -> list[str]:
            return list(object.__dir__(self))  # what Python lists by default: every member

    ours = GatewaySMTP(Recorder(), peers=PeerSessions(limit=1))
    plain = Plain(Recorder(), peers=PeerSessions(limit=1))
    assert ours._smtp_methods.keys() == plain._smtp_methods.keys()
    assert ours._smtp_methods["DATA"] == ours.smtp_DATA  # our own DATA, not aiosmtpd's
    assert ours._auth_methods.keys() == plain._auth_methods.keys() == {"LOGIN", "PLAIN"}


async def test_the_intake_handler_shows_aiosmtpd_the_same_hooks_as_with_every_member_listed() -> None:
    class Plain(IntakeHandler):
        def __dir__(self) -> list[str]:
            return list(object.__dir__(self))

    settings = SmtpSettings()
    handlers = [kind(lambda raw: None, {"pomoc@myhezo.pl": "pomoc"}, settings) for kind in (IntakeHandler, Plain)]  # type: ignore[arg-type, return-value]
    ours, plain = (GatewaySMTP(handler, peers=PeerSessions(limit=1)) for handler in handlers)
    assert ours._handle_hooks.keys() == plain._handle_hooks.keys() == {"DATA", "EHLO", "RCPT", "exception"}
    assert ours._auth_methods.keys() == plain._auth_methods.keys()
    assert ours._ehlo_hook_ver == plain._ehlo_hook_ver == "new"  # the 5-argument hook, read off its __signature__


class CountsWrites(GatewaySMTP):
    """Our session, keeping each piece it hands to the transport."""

    def __init__(self, writes: list[bytes], **options: Any) -> None:
        super().__init__(Recorder(), peers=PeerSessions(limit=10), **options)
        self._writes = writes

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        write = transport.write

        def kept(data: bytes | bytearray | memoryview) -> None:
            self._writes.append(bytes(data))
            write(data)

        transport.write = kept  # type: ignore[method-assign]
        super().connection_made(transport)


async def _dialogue(port: int, commands: list[bytes]) -> list[bytes]:
    """Each command's whole reply (every line up to the final `NNN ` one)."""
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    replies: list[bytes] = []
    try:
        await reader.readline()  # greeting
        for command in commands:
            writer.write(command + b"\r\n")
            reply = b""
            while True:
                line = await asyncio.wait_for(reader.readline(), WAIT_S)
                assert line, "connection closed in the middle of a reply"
                reply += line
                if line[3:4] != b"-":
                    break
            replies.append(reply)
    finally:
        writer.close()
    return replies


async def test_a_multi_line_reply_is_aiosmtpds_reply_in_one_write() -> None:
    writes: list[bytes] = []
    options: dict[str, Any] = {"data_size_limit": SIZE_LIMIT, "enable_SMTPUTF8": True}
    ours = await _server(lambda: CountsWrites(writes, **options))
    theirs = await _server(lambda: AiosmtpdWithOurLineLimit(Recorder(), **options))
    commands = [b"EHLO client.example.pl", b"NOOP", b"EHLO again.example.pl", b"MAIL FROM:<a@example.pl>"]
    try:
        our_replies = await _dialogue(ours.sockets[0].getsockname()[1], commands)
        their_replies = await _dialogue(theirs.sockets[0].getsockname()[1], commands)
    finally:
        for server in (ours, theirs):
            server.close()
    assert our_replies == their_replies
    assert our_replies[0].count(b"\r\n") > 3  # a multi-line reply: SIZE, 8BITMIME, SMTPUTF8, AUTH, HELP
    assert writes[1:] == our_replies  # after the greeting, one write per reply
