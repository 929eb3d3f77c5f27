"""SMTP door: aiosmtpd in the service's own event loop, one thin handler that stores and answers.

Security decisions made here (limits of the session itself: smtp_protocol; TLS and AUTH: smtp_security):
- Only recipients listed in [mailboxes] are accepted (550 otherwise): the gateway is never an open relay, whoever
  asks and however the address is dressed up (source route, percent hack, quoted local part, trailing dot).
- 250 is answered only after the pipeline committed the raw message and the request; a store failure (or any
  other unexpected error) answers 451, so the sending MTA keeps the message and retries (nothing lost). A 5xx is
  never the answer to our own failure: it would make the sender bounce a customer's failure report.
- SIZE is advertised (data_size_limit): a MAIL FROM declaring more is refused at once with 552, and a message that
  turns out larger is read, discarded and refused with 552.
- The message is kept exactly as received (envelope.original_content); the envelope is stored next to it.
- Memory is bounded: at most max_concurrent_messages messages are in the pipeline at once, and a large message
  counts for several of them (`MessageSlots`), so two messages near the size limit are parsed and stored one
  after the other instead of side by side (each holds a few times its size while it is parsed and stored).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import math
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from channels.smtp_protocol import GatewaySMTP, PeerSessions, ReceiveBudget, class_members_starting
from channels.smtp_security import (
    AUTH_MECHANISMS,
    RelayAuthenticator,
    auth_require_tls,
    require_starttls,
    server_tls_context,
)
from gateway.config import SmtpSettings
from gateway.errors import StoreError
from gateway.intake import Created, Duplicate, FollowUp, Outcome, Quarantined, RawIntake
from gateway.logs import get_logger
from gateway.schema import Mailbox

Submit = Callable[[RawIntake], Awaitable[Outcome]]

log = get_logger("channels.smtp")

TEMPORARY_FAILURE = "451 4.3.0 Temporary storage failure, please try again later"


def _reply_for(outcome: Outcome) -> str:
    match outcome:
        case Created(reference=reference) | Duplicate(reference=reference) | FollowUp(reference=reference):
            return f"250 2.0.0 Stored as {reference}"
        case Quarantined(quarantine_id=quarantine_id):
            # Kept for a person to look at: the sender must not retry, the message is safe with us.
            return f"250 2.0.0 Stored for review (Q{quarantine_id})"


class MessageSlots:
    """Pipeline slots, `count` of them, with a message taking one slot per `slot_bytes` of its size (at least
    one, at most all): `count` small messages run side by side, a message as large as the limit runs alone.

    Waiters are served in arrival order, so a large message waiting for every slot is not overtaken for ever by
    small ones that would each fit.
    """

    def __init__(self, count: int, slot_bytes: int) -> None:
        self.count = count
        self.slot_bytes = max(1, slot_bytes)
        self.free = count
        self._waiting: collections.deque[tuple[int, asyncio.Future[None]]] = collections.deque()

    def needed(self, size: int) -> int:
        return min(self.count, max(1, math.ceil(size / self.slot_bytes)))

    @asynccontextmanager
    async def hold(self, size: int) -> AsyncIterator[None]:
        slots = self.needed(size)
        await self._acquire(slots)
        try:
            yield
        finally:
            self.free += slots
            self._grant()

    async def _acquire(self, slots: int) -> None:
        if not self._waiting and slots <= self.free:
            self.free -= slots
            return
        granted = asyncio.get_running_loop().create_future()
        self._waiting.append((slots, granted))
        try:
            await granted
        except asyncio.CancelledError:
            if granted.cancelled():
                with contextlib.suppress(ValueError):  # `_grant` may have dropped it already
                    self._waiting.remove((slots, granted))
            else:
                self.free += slots  # granted, but cancelled before it could run: hand the slots back
            self._grant()
            raise

    def _grant(self) -> None:
        while self._waiting:
            slots, granted = self._waiting[0]
            if granted.cancelled():
                self._waiting.popleft()
                continue
            if slots > self.free:
                return
            self._waiting.popleft()
            self.free -= slots
            granted.set_result(None)


class IntakeHandler:
    """aiosmtpd handler: RCPT checks the recipient, DATA submits and returns the SMTP reply."""

    def __init__(self, submit: Submit, mailboxes: Mapping[str, Mailbox], settings: SmtpSettings) -> None:
        self.submit = submit
        self.mailboxes = {address.lower(): name for address, name in mailboxes.items()}
        self.settings = settings
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()
        # Bounds memory: a message is held several times over while it is parsed and stored.
        self.slots = MessageSlots(
            settings.max_concurrent_messages,
            slot_bytes=math.ceil(settings.max_message_bytes / settings.max_concurrent_messages),
        )
        self._storing: set[asyncio.Task[Outcome]] = set()

    def __dir__(self) -> list[str]:
        # aiosmtpd lists the handler's members on every connection (inspect.getmembers for `auth_*`, dir() for
        # `handle_*`), getting each attribute: a few percent of every message. Its hooks are all it looks for, and
        # they are the class's: listed once.
        return class_members_starting(type(self), ("handle_", "auth_"))

    def mailbox_of(self, address: str) -> Mailbox | None:
        """Our mailbox for an envelope recipient, or None: exact match of a configured address, ASCII case-folded.

        aiosmtpd has already reduced the argument to an addr-spec (a source route "@a,@b:user@dom" keeps only
        "user@dom", '"pomoc"@myhezo.pl' becomes pomoc@myhezo.pl, a trailing dot is a syntax error). Everything else
        — "user%other@myhezo.pl", '"x@other"@myhezo.pl', bang paths, address literals, non-ASCII look-alikes —
        is simply not in the list. Only ASCII is case-folded: Unicode lower() maps some characters onto ASCII
        letters (the Kelvin sign onto "k"), which must not smuggle a foreign spelling onto our address.
        """
        if not address.isascii():
            return None
        return self.mailboxes.get(address.lower())

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if not self.settings.auth_users:
            # No relay accounts: do not advertise AUTH at all (nobody could pass it).
            return [line for line in responses if not line[4:].upper().startswith("AUTH")]
        return responses

    # aiosmtpd reads this hook's signature on every connection (a 4-argument form is deprecated); inspect.signature
    # takes a function's own __signature__ (PEP 362) instead of working it out each time.
    handle_EHLO.__signature__ = inspect.signature(handle_EHLO)  # type: ignore[attr-defined]

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        # Security: this check holds for authenticated sessions too; AUTH never opens relaying.
        if self.mailbox_of(address) is None:
            return "550 5.7.1 Relaying denied: this server accepts mail only for its own mailboxes"
        if len(envelope.rcpt_tos) >= self.settings.max_recipients:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        mailboxes = {self.mailbox_of(address) for address in envelope.rcpt_tos}
        # One message to both mailboxes is one request, and it is an escalation.
        mailbox: Mailbox = "escalation" if "escalation" in mailboxes else "pomoc"
        raw = RawIntake(
            channel="email",
            content=envelope.original_content or b"",
            received_at=datetime.now(UTC),
            mailbox=mailbox,
            envelope=envelope_record(session, envelope),
        )
        # The store runs as its own task: a client that hangs up (or times out) mid-commit cancels the session,
        # not the transaction. Its outcome is then lost to the client, which retries; dedupe makes that harmless.
        storing = asyncio.ensure_future(self._store(raw))
        self._storing.add(storing)
        storing.add_done_callback(self._storing.discard)
        try:
            outcome = await asyncio.shield(storing)
        except StoreError as exc:
            log.warning("store failed, asking sender to retry", error=str(exc), peer=str(session.peer))
            return TEMPORARY_FAILURE
        except Exception:
            log.exception("intake failed unexpectedly, asking sender to retry", peer=str(session.peer))
            return TEMPORARY_FAILURE
        return _reply_for(outcome)

    async def handle_exception(self, error: Exception) -> str:
        # aiosmtpd's default answers "500 Error: (ExcType) text": permanent (the sender bounces the report) and it
        # leaks internals to the client. Log it here, answer a bland temporary failure.
        log.error("SMTP session error", error=repr(error))
        return "451 4.3.0 Local error in processing, please try again later"

    async def _store(self, raw: RawIntake) -> Outcome:
        self.in_flight += 1
        self.idle.clear()
        try:
            async with self.slots.hold(len(raw.content)):
                return await self.submit(raw)
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self.idle.set()


def _text(value: str | None) -> str | None:
    """Envelope text as storable Unicode: undecodable bytes (kept by aiosmtpd as surrogates) and NUL replaced."""
    if value is None:
        return None
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace").replace("\0", "\ufffd")


def _tls_record(session: Session) -> dict[str, str] | None:
    if session.ssl is None:
        return None
    ssl_object = session.ssl.get("ssl_object")
    cipher = session.ssl.get("cipher")
    return {
        "version": str(ssl_object.version()) if ssl_object is not None else "",
        "cipher": str(cipher[0]) if cipher else "",
    }


def envelope_record(session: Session, envelope: Envelope) -> dict[str, Any]:
    """How the message arrived, stored with its bytes: JSON-ready on both backends."""
    peer = session.peer
    return {
        "door": "smtp",
        "mail_from": _text(envelope.mail_from),
        "mail_options": [_text(option) for option in envelope.mail_options],
        "smtputf8": bool(envelope.smtp_utf8),
        "rcpt_tos": [_text(address) for address in envelope.rcpt_tos],
        "peer": [str(peer[0]), int(peer[1])] if isinstance(peer, tuple) else str(peer),
        "helo": _text(session.host_name),
        "tls": _tls_record(session),
        "auth_user": _text(session.auth_data) if session.authenticated and isinstance(session.auth_data, str) else None,
    }


async def start_smtp_server(
    handler: IntakeHandler, settings: SmtpSettings, *, sock: socket.socket | None = None
) -> asyncio.Server:
    """Binds the door in the running loop (aiosmtpd's Controller cannot bind port 0 nor run inside asyncio.run);
    with `sock`, serves on that listening socket instead (shared by several worker processes)."""
    tls_context = server_tls_context(settings)  # built once, shared by every session
    authenticator = RelayAuthenticator(settings.auth_users) if settings.auth_users else None
    if authenticator is not None and authenticator.plain_text_logins:
        log.warning(
            "smtp.auth_users holds plain-text passwords; store scrypt hashes (hezo-gateway smtp-password)",
            logins=authenticator.plain_text_logins,
        )
    peers = PeerSessions(limit=settings.max_connections_per_peer)
    budget = ReceiveBudget(limit=settings.max_receiving_bytes)

    loop = asyncio.get_running_loop()

    def factory() -> SMTP:
        return GatewaySMTP(
            handler,
            loop=loop,  # aiosmtpd would look the loop up again for every connection
            peers=peers,
            budget=budget,
            hostname=settings.hostname,
            data_size_limit=settings.max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,  # keeps the bytes verbatim and advertises 8BITMIME
            timeout=settings.idle_timeout_s,
            tls_context=tls_context,
            require_starttls=require_starttls(settings),
            authenticator=authenticator,
            auth_require_tls=auth_require_tls(settings),
            auth_exclude_mechanism=() if authenticator is not None else AUTH_MECHANISMS,
        )

    if sock is not None:
        return await loop.create_server(factory, sock=sock)
    return await loop.create_server(factory, host=settings.host, port=settings.port)
