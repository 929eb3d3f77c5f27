"""One blocking IMAP session (imapclient), owned by one worker thread and never shared: imapclient is synchronous
and its connection object is not thread-safe.

Choices made here:
- FETCH asks for BODY.PEEK[]: RFC822 and BODY[] silently set \\Seen, and the door must not change what a person
  sees in the mailbox for a message it has not finished with.
- Each network step runs under its own named timeout (set on the socket just before the step), so a stuck server
  is noticed at the step that stuck and turns into a reconnect.
- Mail flagged \\Deleted is left alone: someone (maybe our own COPY fallback, interrupted) already decided its fate.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
from collections.abc import Iterable, Sequence
from time import monotonic
from typing import Any, Literal

from imapclient import IMAPClient, SocketTimeout

from channels.imap_oauth import AccessTokens
from channels.imap_policy import ImapTimeouts
from gateway.config import ImapAccount

Wake = Literal["mail", "renew", "stop", "check"]
"""Why a wait for new mail ended: new mail or other news, time to re-issue IDLE or re-scan, a stop request, or an
unreadable wake-up (a closed connection looks like this; the next command tells)."""


class StopSignal:
    """A stop request a blocked thread notices at once: an event for plain waits plus a socket pair whose read end
    sits in the same poll() as the IMAP socket, so a stop interrupts IDLE without waiting for a timeout."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)

    def set(self) -> None:
        if not self._event.is_set():
            self._event.set()
            # Closed means the thread has already finished: nobody is left to wake.
            with contextlib.suppress(OSError):
                self._writer.send(b"x")

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds; True when stop was requested."""
        return self._event.wait(timeout)

    def fileno(self) -> int:
        return self._reader.fileno()

    def close(self) -> None:
        self._reader.close()
        self._writer.close()


_SIZE_QUERY_CHUNK = 1000


def uid_set(uids: Iterable[int]) -> str:
    """A compact IMAP UID set ("1:500,502") for MOVE, COPY, STORE and EXPUNGE: short commands even for big
    batches (servers limit the command line; Dovecot to 64 kB)."""
    ordered = sorted(set(uids))
    parts: list[str] = []
    start = previous = None
    for uid in ordered:
        if previous is not None and uid == previous + 1:
            previous = uid
            continue
        if start is not None:
            parts.append(f"{start}:{previous}" if start != previous else f"{start}")
        start = previous = uid
    if start is not None:
        parts.append(f"{start}:{previous}" if start != previous else f"{start}")
    return ",".join(parts)


def worth_a_look(responses: Sequence[Any]) -> bool:
    """IDLE news that may mean new mail: anything but the server's periodic `* OK Still here`."""
    return any(not (isinstance(item, tuple) and item[:1] == (b"OK",)) for item in responses)


class MailboxSession:
    """A logged-in connection with the account's folder selected."""

    def __init__(self, client: IMAPClient, account: ImapAccount, timeouts: ImapTimeouts) -> None:
        self.client = client
        self.account = account
        self.timeouts = timeouts
        self.uidvalidity = 0
        self.can_idle = False
        self.can_move = False
        self.can_uidplus = False
        self.idling = threading.Event()
        """Set while the server has confirmed IDLE (tests wait on it before adding mail)."""

    @classmethod
    def open(
        cls,
        account: ImapAccount,
        timeouts: ImapTimeouts,
        ssl_context: ssl.SSLContext | None,
        *,
        use_idle: bool = True,
        tokens: AccessTokens | None = None,
    ) -> MailboxSession:
        client = IMAPClient(
            account.host,
            account.port,
            ssl=account.ssl,
            ssl_context=ssl_context,
            timeout=SocketTimeout(connect=timeouts.connect_s, read=timeouts.login_s),
        )
        session = cls(client, account, timeouts)
        try:
            session._login(tokens or AccessTokens(account))
            session.can_idle = session.can_idle and use_idle
            session._ensure_folders()
            session._select()
        except BaseException:
            session.close()
            raise
        return session

    def _step(self, seconds: float) -> None:
        self.client.socket().settimeout(seconds)

    def _login(self, tokens: AccessTokens) -> None:
        self._step(self.timeouts.login_s)
        try:
            login(self.client, self.account, tokens.current())
        except IMAPClient.Error:
            tokens.forget()  # refused: perhaps revoked or expired early, so the next attempt asks for a new one
            raise
        self.can_idle = bool(self.client.has_capability("IDLE"))
        self.can_move = bool(self.client.has_capability("MOVE"))
        self.can_uidplus = bool(self.client.has_capability("UIDPLUS"))

    def _ensure_folders(self) -> None:
        self._step(self.timeouts.select_s)
        for folder in (self.account.processed_folder, self.account.quarantine_folder):
            if not self.client.folder_exists(folder):
                try:
                    self.client.create_folder(folder)
                except IMAPClient.Error:
                    # Another gateway process (or a person) may have created it a moment ago.
                    if not self.client.folder_exists(folder):
                        raise

    def _select(self) -> None:
        self._step(self.timeouts.select_s)
        answer = self.client.select_folder(self.account.folder)
        self.uidvalidity = int(answer[b"UIDVALIDITY"])

    def pending_sizes(self) -> dict[int, int]:
        """UID -> size of every message waiting in the folder."""
        self._step(self.timeouts.fetch_s)
        uids = sorted(int(uid) for uid in self.client.search(["UNDELETED"]))
        sizes: dict[int, int] = {}
        # imapclient's FETCH takes explicit UIDs only (no ranges): ask in chunks, or a long backlog would overrun
        # the server's command-line limit.
        for start in range(0, len(uids), _SIZE_QUERY_CHUNK):
            answer = self.client.fetch(uids[start : start + _SIZE_QUERY_CHUNK], ["RFC822.SIZE"])
            sizes.update({int(uid): int(data.get(b"RFC822.SIZE", 0)) for uid, data in answer.items()})
        return sizes

    def fetch(self, uids: Sequence[int]) -> dict[int, bytes]:
        """The exact bytes of each message; a UID expunged meanwhile (by someone else) is simply absent."""
        self._step(self.timeouts.fetch_s)
        answer = self.client.fetch(list(uids), ["BODY.PEEK[]"])
        return {int(uid): bytes(data[b"BODY[]"]) for uid, data in answer.items() if b"BODY[]" in data}

    def move(self, uids: Sequence[int], folder: str) -> None:
        """Move one batch in one command (a MOVE per message is ~75x slower)."""
        self._step(self.timeouts.move_s)
        messages = uid_set(uids)
        if self.can_move:
            self.client.move(messages, folder)
            return
        self.client.copy(messages, folder)
        self.client.add_flags(messages, [b"\\Deleted"], silent=True)
        if self.can_uidplus:
            self.client.uid_expunge(messages)
        else:
            # Without UIDPLUS, EXPUNGE also removes what others flagged \Deleted in this folder; that is what
            # \Deleted asks for, and the copies in the target folder are already safe.
            self.client.expunge()

    def wait_for_mail(self, stop: StopSignal, max_wait_s: float) -> Wake:
        """Block until the folder may have changed, `max_wait_s` passed, or stop is requested."""
        if not self.can_idle:
            return "stop" if stop.wait(max_wait_s) else "renew"
        self._step(self.timeouts.idle_s)
        self.client.idle()
        self.idling.set()
        try:
            return self._idle_until_news(stop, monotonic() + max_wait_s)
        finally:
            self.idling.clear()
            self._step(self.timeouts.idle_s)
            self.client.idle_done()

    def _idle_until_news(self, stop: StopSignal, deadline: float) -> Wake:
        imap_fd = self.client.socket().fileno()
        poller = select.poll()
        poller.register(imap_fd, select.POLLIN)
        poller.register(stop.fileno(), select.POLLIN)
        while True:
            remaining = deadline - monotonic()
            if remaining <= 0:
                return "renew"
            ready = {fd for fd, _events in poller.poll(remaining * 1000)}
            if stop.is_set():
                return "stop"
            if imap_fd in ready:
                responses = self.client.idle_check(timeout=0)
                if not responses:
                    return "check"
                if worth_a_look(responses):
                    return "mail"

    def close(self) -> None:
        """Log out politely when the connection still works; otherwise just drop it."""
        self.idling.clear()
        try:
            self.client.socket().settimeout(self.timeouts.idle_s)
            self.client.logout()
        except (IMAPClient.Error, OSError):
            with contextlib.suppress(IMAPClient.Error, OSError):
                self.client.shutdown()


def login(client: Any, account: ImapAccount, access_token: str) -> None:
    """XOAUTH2 with an access token (hosted mailboxes that turned passwords off), else LOGIN with the password."""
    if access_token:
        client.oauth2_login(account.username, access_token)
    else:
        client.login(account.username, account.password)
