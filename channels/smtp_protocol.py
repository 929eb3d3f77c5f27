"""The SMTP protocol object of the door: aiosmtpd's `SMTP` with the limits a public MX needs.

aiosmtpd gives us the dialogue; this subclass adds what it lacks or gets wrong for a server facing the internet:
- live sessions are counted per peer IP address and a peer above its share is refused with 421 at once;
- the idle timeout also runs while a message is being received (aiosmtpd only resets it between commands, so a
  large message on a slow link would be cut off although bytes keep arriving);
- command size limits are kept per session (aiosmtpd keeps them in a dict shared by the class, which every new
  connection clears and every EHLO grows);
- commands are capped per session (`COMMAND_CALL_LIMITS`).
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.smtp import SMTP

from gateway.logs import get_logger

log = get_logger("channels.smtp")

MAX_LINE_BYTES = 65_536
"""Longest line accepted, in commands (then cut to the command size limit) and in message data.

RFC 5321 allows 1000 octets, and aiosmtpd refuses longer data lines with a permanent 500. Real mail software
(HTML generators, some webmail) writes longer lines, and a permanent refusal bounces a customer's failure report;
Postfix accepts such lines too. 64 KiB still bounds what one line can make us buffer (at most twice this).
"""

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


class GatewaySMTP(SMTP):
    """One SMTP session; see the module docstring for what it adds to aiosmtpd's `SMTP`."""

    line_length_limit = MAX_LINE_BYTES

    def __init__(self, handler: Any, *, peers: PeerSessions, **options: Any) -> None:
        super().__init__(handler, command_call_limit=COMMAND_CALL_LIMITS, **options)
        # Shadow aiosmtpd's class-level dict: each session grows its own MAIL limit on EHLO (SIZE, SMTPUTF8).
        self.command_size_limits = collections.defaultdict(lambda: SMTP.command_size_limit)
        self._peers = peers
        self._peer_ip: str | None = None
        self._refused = False
        self._receiving_data = False

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
            await super().smtp_DATA(arg)
        finally:
            self._receiving_data = False
