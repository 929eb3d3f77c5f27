"""The worker thread of one IMAP account: fetch, hand each message to the event loop's pipeline, and only after its
commit move it out of the folder.

Why nothing is lost and nothing is stored twice:
- The folder is the work queue. A message leaves it (MOVE to Processed or Quarantine) only after `submit`
  returned, i.e. after the pipeline committed it. A crash, a dropped connection or a stop before the MOVE leaves
  it in place: it is fetched again next time and the pipeline's dedupe (Message-ID + body hash) answers Duplicate.
- A store failure (StoreError) leaves the message, and every message not yet handed over after it, in place; the
  thread backs off and tries again on the same connection.
- A UIDVALIDITY change (the folder was recreated or renumbered) resets the cursor; every message still in the
  folder is submitted again and dedupe sorts out the ones already stored.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import hashlib
import ssl
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from imapclient import IMAPClient

from channels.imap_oauth import AccessTokens
from channels.imap_policy import ImapTuning, Sorted, account_key, plan_batches, raw_intake
from channels.imap_session import MailboxSession, StopSignal
from gateway.config import ImapAccount
from gateway.errors import StoreError
from gateway.intake import Outcome, RawIntake
from gateway.logs import get_logger
from gateway.store import Store
from gateway.store.imap_state import (
    ImapCursor,
    load_cursor,
    load_refresh_token,
    save_cursor,
    save_refresh_token,
)

Submit = Callable[[RawIntake], Awaitable[Outcome]]
T = TypeVar("T")

log = get_logger("channels.imap")

# What a dropped, refused, timed-out or misbehaving server looks like from imapclient (socket and TLS errors are
# OSError; protocol errors, aborts and refused logins are IMAPClient.Error).
CONNECTION_ERRORS = (IMAPClient.Error, OSError)


class _IntakeFailed(Exception):
    """The pipeline did not store a message; it stays in the folder and is retried after a backoff."""


@dataclass(frozen=True)
class DrainReport:
    handled: int
    """Messages submitted and moved out of the folder."""
    intake_failed: bool
    """A message could not be stored; it and the messages of its batch not yet handed over stay in place."""


class AccountPoller:
    """Runs in its own thread (`run`); everything database-related is done on the event loop via `_on_loop`."""

    def __init__(
        self,
        account: ImapAccount,
        *,
        submit: Submit,
        store: Store,
        loop: asyncio.AbstractEventLoop,
        poll_interval_s: float,
        tuning: ImapTuning,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.account = account
        self.key = account_key(account)
        self.submit = submit
        self.store = store
        self.loop = loop
        self.poll_interval_s = poll_interval_s
        self.tuning = tuning
        self.ssl_context = ssl_context
        self.clock = clock
        self.stop = StopSignal()
        refreshes = bool(account.oauth2_refresh_token)
        self.tokens = AccessTokens(  # kept across reconnects
            account,
            timeout_s=tuning.timeouts.login_s,
            load_rotated=self._load_rotated_refresh_token if refreshes else None,
            save_rotated=self._save_rotated_refresh_token if refreshes else None,
        )
        self.session: MailboxSession | None = None
        self.cursor: ImapCursor | None = None
        self.drained_since_connect = False
        self.log = log.bind(account=self.key)

    def request_stop(self) -> None:
        """Callable from any thread; interrupts IDLE and backoff waits at once."""
        self.stop.set()

    def is_idling(self) -> bool:
        session = self.session
        return session is not None and session.idling.is_set()

    # -- the thread ------------------------------------------------------------------------------------------------
    def run(self) -> None:
        failures = 0
        try:
            while not self.stop.is_set():
                self.drained_since_connect = False
                try:
                    self._connect_and_serve()
                except (*CONNECTION_ERRORS, StoreError) as exc:
                    self.log.warning("imap session ended", error=f"{type(exc).__name__}: {exc}", attempt=failures)
                if self.drained_since_connect:
                    failures = 0  # the server worked for a while: a new outage starts with a short wait
                if self.stop.is_set():
                    break
                delay = self.tuning.backoff.delay(failures)
                failures += 1
                self.log.info("reconnecting", in_s=round(delay, 2))
                self.stop.wait(delay)
        finally:
            self.stop.close()
            self.log.info("imap poller stopped")

    def _connect_and_serve(self) -> None:
        """One session, from connect to its end (a stop request, or an exception)."""
        session = MailboxSession.open(
            self.account, self.tuning.timeouts, self.ssl_context, use_idle=self.tuning.use_idle, tokens=self.tokens
        )
        self.session = session
        try:
            self.log.info("imap session open", uidvalidity=session.uidvalidity, idle=session.can_idle)
            self._check_uidvalidity(session)
            intake_failures = 0
            max_wait = min(self.poll_interval_s, self.tuning.idle_renew_s)
            while not self.stop.is_set():
                report = self._drain(session)
                self.drained_since_connect = True
                if report.intake_failed:
                    delay = self.tuning.backoff.delay(intake_failures)
                    intake_failures += 1
                    self.log.warning("intake failing, messages left in place", retry_in_s=round(delay, 2))
                    self.stop.wait(delay)
                    continue
                intake_failures = 0
                if report.handled:
                    continue  # more may have arrived while we worked
                # Even with IDLE the folder is re-scanned every poll interval: a message that lands between our
                # last SEARCH and the IDLE command is announced to nobody.
                session.wait_for_mail(self.stop, max_wait)
        finally:
            self.session = None
            session.close()

    def _check_uidvalidity(self, session: MailboxSession) -> None:
        cursor = self._on_loop(load_cursor(self.store, self.key), self.tuning.timeouts.submit_s)
        if cursor is not None and cursor.uidvalidity == session.uidvalidity:
            self.cursor = cursor
            return
        if cursor is not None:
            # UIDs from before mean nothing now; what is still in the folder is submitted again and deduplicated.
            self.log.warning("UIDVALIDITY changed", old=cursor.uidvalidity, new=session.uidvalidity)
        self.cursor = ImapCursor(session.uidvalidity, 0)
        self._on_loop(save_cursor(self.store, self.key, self.cursor, self.clock()), self.tuning.timeouts.submit_s)

    # -- one pass over the folder ----------------------------------------------------------------------------------
    def _drain(self, session: MailboxSession) -> DrainReport:
        sizes = session.pending_sizes()
        batches = plan_batches(sizes, max_count=self.tuning.batch_max_count, max_bytes=self.tuning.batch_max_bytes)
        handled = 0
        for batch in batches:
            if self.stop.is_set():
                break
            contents = session.fetch(batch)
            done, failed = self._submit_batch(session, [uid for uid in batch if uid in contents], contents)
            handled += self._move(session, done)
            if failed:
                return DrainReport(handled, intake_failed=True)
        return DrainReport(handled, intake_failed=False)

    def _submit_batch(
        self, session: MailboxSession, uids: list[int], contents: dict[int, bytes]
    ) -> tuple[Sorted, bool]:
        """Submits the batch with up to `submit_window` messages in flight, so that their commits can be shared.

        After the first failure nothing more is started, but what is already in flight is waited for: a message
        that was committed is moved like any other (left in place it would only come back as a Duplicate).
        """
        done = Sorted()
        failed = False
        in_flight: collections.deque[tuple[int, concurrent.futures.Future[Outcome]]] = collections.deque()

        def collect_oldest() -> None:
            nonlocal failed
            uid, future = in_flight.popleft()
            try:
                done.add(uid, self._result(uid, future))
            except _IntakeFailed:
                failed = True

        for uid in uids:
            if self.stop.is_set() or failed:
                break
            raw = raw_intake(
                self.account, uid=uid, uidvalidity=session.uidvalidity, content=contents[uid], received_at=self.clock()
            )
            in_flight.append((uid, asyncio.run_coroutine_threadsafe(_call(self.submit, raw), self.loop)))
            if len(in_flight) >= self.tuning.submit_window:
                collect_oldest()
        while in_flight:
            collect_oldest()
        return done, failed

    def _result(self, uid: int, future: concurrent.futures.Future[Outcome]) -> Outcome:
        try:
            outcome = self._wait_for(future, self.tuning.timeouts.submit_s)
        except StoreError as exc:
            self.log.warning("message not stored, left in place", uid=uid, error=str(exc))
            raise _IntakeFailed from exc
        except TimeoutError as exc:
            self.log.warning("storing took too long, left in place", uid=uid)
            raise _IntakeFailed from exc
        except Exception as exc:
            # A bug past the parser must not kill the thread; the message stays and is retried after a backoff.
            self.log.exception("submit failed unexpectedly, left in place", uid=uid)
            raise _IntakeFailed from exc
        self.log.debug("message stored", uid=uid, outcome=type(outcome).__name__)
        return outcome

    def _move(self, session: MailboxSession, done: Sorted) -> int:
        moved = 0
        for folder, uids in done.moves(self.account):
            session.move(uids, folder)
            moved += len(uids)
            self.log.info("messages moved", folder=folder, count=len(uids), first_uid=uids[0], last_uid=uids[-1])
        if moved:
            self._advance_cursor(session, max(done.all_uids()))
        return moved

    def _advance_cursor(self, session: MailboxSession, uid: int) -> None:
        previous = self.cursor.last_uid if self.cursor else 0
        self.cursor = ImapCursor(session.uidvalidity, max(previous, uid))
        try:
            self._on_loop(save_cursor(self.store, self.key, self.cursor, self.clock()), self.tuning.timeouts.submit_s)
        except (StoreError, TimeoutError) as exc:
            # The cursor is bookkeeping; the messages themselves are stored and moved.
            self.log.warning("imap cursor not saved", error=str(exc))

    # -- the refresh token an XOAUTH2 provider rotated, kept for a restart or another process's takeover --------
    def _load_rotated_refresh_token(self) -> str | None:
        configured = _sha256_hex(self.account.oauth2_refresh_token)
        return self._on_loop(load_refresh_token(self.store, self.key, configured), self.tuning.timeouts.submit_s)

    def _save_rotated_refresh_token(self, refresh_token: str) -> None:
        configured = _sha256_hex(self.account.oauth2_refresh_token)
        saving = save_refresh_token(self.store, self.key, configured, refresh_token, self.clock())
        self._on_loop(saving, self.tuning.timeouts.submit_s)

    def _on_loop(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run a coroutine on the gateway's event loop and wait for its result (the thread never touches the
        database itself: the store's connections belong to the loop)."""
        return self._wait_for(asyncio.run_coroutine_threadsafe(coroutine, self.loop), timeout)

    @staticmethod
    def _wait_for(future: concurrent.futures.Future[T], timeout: float) -> T:
        try:
            return future.result(timeout)
        except TimeoutError:
            if future.done():
                raise  # the coroutine's own TimeoutError
            future.cancel()  # a rollback at worst; a commit that raced the timeout shows up as a Duplicate later
            raise TimeoutError(f"no answer from the event loop within {timeout} s") from None


def _sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def _call(submit: Submit, raw: RawIntake) -> Outcome:
    # Called on the loop, so `submit` itself (not only the awaiting) runs in the loop's thread.
    return await submit(raw)
