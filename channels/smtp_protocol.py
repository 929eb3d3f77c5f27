"""The SMTP protocol object of the door: aiosmtpd's `SMTP` with the limits a public MX needs.

aiosmtpd gives us the dialogue; this subclass adds what it lacks or gets wrong for a server facing the internet:
- live sessions are counted per peer IP address and a peer above its share is refused with 421 at once;
- the idle timeout also runs while a message is being received (aiosmtpd only resets it between commands, so a
  large message on a slow link would be cut off although bytes keep arriving);
- command size limits are kept per session (aiosmtpd keeps them in a dict shared by the class, which every new
  connection clears and every EHLO grows);
- commands are capped per session (`COMMAND_CALL_LIMITS`);
- message data is read in blocks of lines, not a line at a time (`receive_data`), into one buffer that becomes the
  message bytes without a copy (aiosmtpd keeps a list of every line and then joins it: three times the message
  while it is received, see `DataReceiver`);
- the plain `<local@domain>` of MAIL and RCPT is read without the e-mail package's full header grammar (see
  `GatewaySMTP._getaddr`);
- AUTH credentials are checked in a worker thread (aiosmtpd calls its authenticator synchronously, and a scrypt
  check takes a tenth of a second: every other session would wait for it);
- a multi-line reply (EHLO's) is sent in one write, as Postfix does: aiosmtpd writes each line on its own.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, AnyStr

from aiosmtpd.smtp import MISSING, SMTP, AuthResult

from gateway.logs import get_logger

log = get_logger("channels.smtp")

MAX_LINE_BYTES = 65_536
"""Longest line accepted, in commands (then cut to the command size limit) and in message data.

RFC 5321 allows 1000 octets, and aiosmtpd refuses longer data lines with a permanent 500. Real mail software
(HTML generators, some webmail) writes longer lines, and a permanent refusal bounces a customer's failure report;
Postfix accepts such lines too. 64 KiB still bounds what one line can make us buffer (at most twice this).
"""

# `<dot-atom@dot-atom>` in ASCII, then what follows the `>`; the addresses nearly every MTA sends.
_PLAIN_ANGLE_ADDRESS = re.compile(
    r"[ \t]*<([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>[ \t]*"
)

# What `_authenticate` answers aiosmtpd's auth_PLAIN/auth_LOGIN: "checked afterwards, off the event loop".
_CHECK_IN_THREAD = AuthResult(success=False, handled=True)

COMMAND_CALL_LIMITS: dict[str, int] = {
    # Per session. A trusted relay reusing its connection sends MAIL/RCPT/DATA/RSET per message, so those share
    # the generous default; commands a sender needs once or twice are capped tight. Above a cap aiosmtpd answers
    # 421 and closes the connection. Unknown commands are capped separately by aiosmtpd (5, then 502 and close).
    "*": 10_000,
    "HELO": 10,
    "EHLO": 10,
    "STARTTLS": 2,
    "AUTH": 5,  # bounds password guessing per connection; per-peer session limit bounds it per address
    "VRFY": 5,
    "EXPN": 5,
    "HELP": 10,
    "NOOP": 100,
}


@dataclass
class PeerSessions:
    """Live SMTP sessions per peer IP address, shared by every protocol object of one server."""

    limit: int
    live: collections.Counter[str] = field(default_factory=collections.Counter)

    def admit(self, peer_ip: str) -> bool:
        if self.live[peer_ip] >= self.limit:
            return False
        self.live[peer_ip] += 1
        return True

    def release(self, peer_ip: str) -> None:
        self.live[peer_ip] -= 1
        if self.live[peer_ip] <= 0:
            del self.live[peer_ip]

    @property
    def total(self) -> int:
        return sum(self.live.values())


class DataState(enum.Enum):
    NOMINAL = enum.auto()
    TOO_LONG = enum.auto()
    TOO_MUCH = enum.auto()
    NO_ROOM = enum.auto()


@dataclass
class ReceiveBudget:
    """Bytes of message data all sessions of this process may hold at once, received or waiting to be stored.

    Sessions are many and each may send up to the size limit, so without a shared budget enough of them at once
    could exhaust memory; past the budget a message is read to its end and refused with a temporary 452 (the
    sending MTA retries later). The budget is per process because it bounds this process's memory.
    """

    limit: int
    in_use: int = 0

    def take(self, size: int) -> bool:
        if self.in_use + size > self.limit:
            return False
        self.in_use += size
        return True

    def give_back(self, size: int) -> None:
        self.in_use -= size


class DataReceiver:
    """The message data of one DATA command, by lines or blocks of lines, with aiosmtpd's rules and replies.

    The lines go into one growing buffer, unstuffed as they come; `content()` hands that buffer over as `bytes`
    without copying it. Once the data is refused (too large, a line too long) nothing more is kept, but reading
    goes on to the final dot, as RFC 5321 4.2.5 implies: the refusal is the reply to the whole DATA.
    """

    def __init__(self, *, size_limit: int | None, line_limit: int, budget: ReceiveBudget | None = None) -> None:
        self.size_limit = size_limit
        self.line_limit = line_limit
        self.budget = budget
        self.held = 0
        """Bytes taken from the budget: given back by `release` once the message is stored or refused."""
        self.state = DataState.NOMINAL
        self.received = 0
        """Bytes as they came over the wire (dots still stuffed), as aiosmtpd counts them against the limit."""
        self._buffer: io.BytesIO | None = io.BytesIO()
        self._mid_line = False

    @property
    def mid_line(self) -> bool:
        """The bytes added so far end inside a line (a piece of an overlong line)."""
        return self._mid_line

    def overlong(self) -> None:
        """The stream reader found a line longer than it buffers; the rest of it arrives in pieces."""
        if self.state is DataState.NOMINAL:
            self.state = DataState.TOO_LONG
        self._discard()

    def add(self, line: bytes) -> None:
        """One line ending in CRLF, or a piece of an overlong line."""
        self.received += len(line)
        if self.state is DataState.NOMINAL and self.size_limit and self.received > self.size_limit:
            self.state = DataState.TOO_MUCH
            self._discard()
        self._mid_line = not line.endswith(b"\r\n")
        if self._mid_line or self.state is not DataState.NOMINAL:
            return
        if len(line) > self.line_limit:
            # The stream reader returns a line of up to its limit plus the CRLF; aiosmtpd refuses those too.
            self.state = DataState.TOO_LONG
            self._discard()
            return
        if self.budget is not None:
            if not self.budget.take(len(line)):
                self.state = DataState.NO_ROOM
                self._discard()
                return
            self.held += len(line)
        assert self._buffer is not None
        # RFC 5321 4.5.2: the sender doubled every leading dot.
        self._buffer.write(memoryview(line)[1:] if line.startswith(b".") else line)

    def add_lines(self, block: bytes) -> None:
        """Whole lines ending in CRLF, continuing where the last call ended: what `add` of each line as the stream
        reader returns it would do. In one step when no limit can be reached inside the block, which is nearly
        always; line by line otherwise, so a refusal comes where it would have come."""
        if self._takes_whole(block):
            self.received += len(block)
            if self.budget is not None:
                self.held += len(block)
            assert self._buffer is not None
            # RFC 5321 4.5.2: each line's leading dot was doubled; the block starts a line.
            unstuffed = block.replace(b"\r\n.", b"\r\n")
            self._buffer.write(memoryview(unstuffed)[1:] if unstuffed.startswith(b".") else unstuffed)
            return
        lines = block.split(b"\r\n")
        if lines.pop():
            raise ValueError("a block of lines must end in CRLF")
        for line in lines:
            if len(line) > self.line_limit:
                self.overlong()  # the stream reader (its limit is the line limit) would have overrun here
            self.add(line + b"\r\n")

    def _takes_whole(self, block: bytes) -> bool:
        """No limit is reached inside `block`: size, line length and the shared budget (taken here, last)."""
        if self.state is not DataState.NOMINAL or self._mid_line:
            return False
        if self.size_limit and self.received + len(block) > self.size_limit:
            return False
        if len(block) > self.line_limit and max(map(len, block.split(b"\r\n"))) + 2 > self.line_limit:
            return False
        return self.budget is None or self.budget.take(len(block))

    def refusal(self) -> str | None:
        """aiosmtpd's reply for refused data, or None when the data was kept."""
        if self.state is DataState.TOO_LONG:
            return "500 Line too long (see RFC5321 4.5.3.1.6)"
        if self.state is DataState.TOO_MUCH:
            return "552 Error: Too much mail data"
        if self.state is DataState.NO_ROOM:
            return "452 4.3.1 Insufficient system storage, please try again later"
        return None

    def release(self) -> None:
        """Gives the bytes held back to the budget (idempotent)."""
        if self.budget is not None and self.held:
            self.budget.give_back(self.held)
        self.held = 0

    def content(self) -> bytes:
        """The message bytes. BytesIO hands its own buffer over (shrunk to size), where bytes(bytearray) would
        copy it: at 30 MB that copy alone is a message more at the peak."""
        assert self._buffer is not None and self.state is DataState.NOMINAL
        content = self._buffer.getvalue()
        self._discard()
        return content

    def _discard(self) -> None:
        if self._buffer is not None:
            self._buffer.close()
            self._buffer = None
        if self.state is not DataState.NOMINAL:
            self.release()


_DOT_LINE_END = b".\r\n"
_END_OF_DATA = b"\r\n.\r\n"


async def receive_data(reader: asyncio.StreamReader, data: DataReceiver, connected: Callable[[], bool]) -> bool:
    """Reads message data up to the lone dot into `data`; False when the connection went away first.

    Read in blocks, not line by line: a line at a time cost a stream-reader call and a receiver call per line, a
    tenth of what the door spends on a 4 KB message. Each read stops at the next line ending in a dot, which may
    be the end; the stream reader also stops at its limit (the line limit), and what follows the last line break
    of such a piece waits for the next. The result is what reading line by line gives (a test compares them):
    the same bytes, the same refusals, and nothing read past the final dot, where pipelined commands may follow.
    """
    pending = b""  # the beginning of a line whose end has not arrived yet, at most the line limit
    while connected():
        try:
            # eof_received cancels this coroutine, so readuntil never raises IncompleteReadError here.
            chunk = await reader.readuntil(_DOT_LINE_END)
        except asyncio.LimitOverrunError as overrun:
            chunk = await reader.read(overrun.consumed)  # holds no end: the reader keeps a partial separator
        block = pending + chunk if pending else chunk
        if block.endswith(_END_OF_DATA) or (block == _DOT_LINE_END and not data.mid_line):
            if len(block) > len(_DOT_LINE_END):
                data.add_lines(block[: -len(_DOT_LINE_END)])
            return True
        last_break = block.rfind(b"\r\n")
        cut = last_break + 2 if last_break >= 0 else 0
        if cut:
            data.add_lines(block[:cut])
        pending = block[cut:]
        if len(pending) > data.line_limit:  # where the reader would have overrun reading line by line
            data.overlong()
            # A CR at its end may be the start of the line break before the final dot: it waits for what follows.
            held_back = 1 if pending.endswith(b"\r") else 0
            data.add(pending[: len(pending) - held_back])
            pending = pending[len(pending) - held_back :]
    return False


_MEMBERS_BY_CLASS: dict[tuple[type, tuple[str, ...]], list[str]] = {}


def class_members_starting(cls: type, prefixes: tuple[str, ...]) -> list[str]:
    """The names defined by `cls` or its bases that start with one of `prefixes`, sorted (as dir() would list
    them); worked out once per class, for aiosmtpd's look-ups on every connection."""
    members = _MEMBERS_BY_CLASS.get((cls, prefixes))
    if members is None:
        members = sorted({name for base in cls.__mro__ for name in vars(base) if name.startswith(prefixes)})
        _MEMBERS_BY_CLASS[(cls, prefixes)] = members
    return members


class GatewaySMTP(SMTP):
    """One SMTP session; see the module docstring for what it adds to aiosmtpd's `SMTP`."""

    line_length_limit = MAX_LINE_BYTES

    def __dir__(self) -> list[str]:
        # aiosmtpd's __init__ lists every member of the session (`inspect.getmembers`, `dir`) on each connection to
        # find its `auth_*` and `smtp_*` methods: about 0.2 ms of every message when each arrives on its own
        # connection. Those methods are all it looks for, so they are all a session lists.
        return class_members_starting(type(self), ("smtp_", "auth_"))

    def __init__(
        self, handler: Any, *, peers: PeerSessions, budget: ReceiveBudget | None = None, **options: Any
    ) -> None:
        super().__init__(handler, command_call_limit=COMMAND_CALL_LIMITS, **options)
        self._budget = budget
        # Shadow aiosmtpd's class-level dict: each session grows its own MAIL limit on EHLO (SIZE, SMTPUTF8).
        self.command_size_limits = collections.defaultdict(lambda: SMTP.command_size_limit)
        self._peers = peers
        self._peer_ip: str | None = None
        self._refused = False
        self._receiving_data = False
        self._credentials: tuple[str, Any] | None = None
        self._reply_lines: list[bytes] = []

    async def push(self, status: AnyStr) -> None:
        # aiosmtpd pushes each line of a multi-line reply on its own: one send, and on loopback one wake-up of the
        # client, per EHLO keyword. A `250-` line always has its final `250 ` line right behind it (the whole reply
        # is one list in smtp_EHLO), so the lines wait for it and leave together.
        line = status.encode("utf-8" if self.enable_SMTPUTF8 else "ascii") if isinstance(status, str) else status
        if line[3:4] == b"-":
            self._reply_lines.append(line)
            return
        if self._reply_lines:
            self._reply_lines.append(line)
            line, self._reply_lines = b"\r\n".join(self._reply_lines), []
        await super().push(line)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        # aiosmtpd parses every MAIL and RCPT argument with the e-mail package's full RFC 5322 grammar (and
        # defines a typing.Protocol class on each call): a tenth of the event loop's time per message. A plain
        # dot-atom address in angle brackets gives the same address and rest by a regex; anything else (quoted
        # local parts, address literals, comments, UTF-8) still goes the long way.
        plain = _PLAIN_ANGLE_ADDRESS.match(arg)
        if plain is None or arg.startswith("(", plain.end()):
            try:
                return super()._getaddr(arg)
            except (IndexError, AttributeError):
                # The e-mail package's parser fails so on `x@` or `x@[` (it expects header text, not arguments):
                # an unreadable address (501), not an exception in the session.
                return None, None
        address = plain.group(1)
        if self.local_part_limit and address.rindex("@") > self.local_part_limit:
            return None, None
        return address, arg[plain.end() :]

    def _authenticate(self, mechanism: str, auth_data: Any) -> AuthResult:
        # Called synchronously by aiosmtpd's auth_PLAIN/auth_LOGIN once they have the credentials: kept for the
        # overrides below, which check them in a thread.
        self._credentials = (mechanism, auth_data)
        return _CHECK_IN_THREAD

    async def _checked_off_loop(self, answer: AuthResult) -> AuthResult:
        credentials, self._credentials = self._credentials, None
        if answer is not _CHECK_IN_THREAD or credentials is None:
            return answer  # no credentials came (a cancelled or malformed exchange), aiosmtpd has answered
        mechanism, auth_data = credentials
        return await asyncio.to_thread(super()._authenticate, mechanism, auth_data)

    async def auth_PLAIN(self, _: Any, args: list[str]) -> AuthResult:
        return await self._checked_off_loop(await super().auth_PLAIN(_, args))

    async def auth_LOGIN(self, _: Any, args: list[str]) -> AuthResult:
        return await self._checked_off_loop(await super().auth_LOGIN(_, args))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # aiosmtpd calls this a second time after a STARTTLS handshake; count the TCP connection only once.
        if self._peer_ip is None and not self._refused:
            peer = transport.get_extra_info("peername")
            peer_ip = str(peer[0]) if isinstance(peer, tuple) else str(peer)
            # Security: one address cannot take every session (a flood, or a broken MTA looping on us). The
            # refusal is a 421, so a legitimate MTA just retries later; nothing of the session is started.
            if not self._peers.admit(peer_ip):
                self._refused = True
                log.warning("too many connections from peer, refused", peer=peer_ip, limit=self._peers.limit)
                assert isinstance(transport, asyncio.WriteTransport)
                transport.write(b"421 4.7.0 Too many connections from your address, try again later\r\n")
                transport.close()
                return
            self._peer_ip = peer_ip
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused:
            return
        if self._peer_ip is not None:
            self._peers.release(self._peer_ip)
            self._peer_ip = None
        super().connection_lost(error)

    def eof_received(self) -> bool | None:
        if self._refused:
            return False
        return super().eof_received()

    def data_received(self, data: bytes) -> None:
        if self._receiving_data:
            # Bytes of the message keep the session alive: the timeout is for silence, not for slow links.
            self._reset_timeout()
        super().data_received(data)

    async def smtp_DATA(self, arg: str) -> None:
        self._receiving_data = True
        try:
            if self._decode_data or "DATA" not in self._handle_hooks:
                await super().smtp_DATA(arg)  # configurations the door does not use keep aiosmtpd's own code
            else:
                await self._data(arg)
        finally:
            self._receiving_data = False

    async def _data(self, arg: str) -> None:
        """aiosmtpd's DATA (same checks, replies and handler call) with the data gathered by `DataReceiver`."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        data = DataReceiver(size_limit=self.data_size_limit, line_limit=self.line_length_limit, budget=self._budget)
        try:
            await self._receive_and_hand_on(data)
        finally:
            data.release()  # stored, refused, or the connection went away: the bytes are no longer held

    async def _receive_and_hand_on(self, data: DataReceiver) -> None:
        assert self.envelope is not None
        try:
            ended = await receive_data(self._reader, data, lambda: self.transport is not None)
        except asyncio.CancelledError:
            self._writer.close()  # the connection went away in the middle of the data
            raise
        if not ended:
            return  # the connection is gone: a truncated message is never handed on
        refusal = data.refusal()
        if refusal is not None:
            data.release()
            await self.push(refusal)
            self._set_post_data_state()  # type: ignore[no-untyped-call]
            return
        content = data.content()
        self.envelope.content = content
        self.envelope.original_content = content
        del content  # the envelope holds the one reference: it goes with the envelope after the handler
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        data.release()  # before the reply: a sender told 250 (or 451) finds the room free for its next message
        await self.push("250 OK" if status is MISSING else status)
