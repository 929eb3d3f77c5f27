"""IMAP door: polls hosted mailboxes and feeds each message to `submit`, like the SMTP door does.

The asyncio side lives here: one task per configured account wins (or waits for) the account's election, then runs
the account's blocking poller (channels/imap_poller.py) in a thread of its own and watches it. The thread hands
each message back to this event loop, where the pipeline and the store live.

    door = ImapDoor(settings.imap, gateway.submit, store)
    await door.start()
    ...
    await door.stop()   # or: await run_imap_pollers(settings.imap, submit, store, stop_event)
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from typing import Any

from channels.imap_policy import ImapTuning, account_key
from channels.imap_poller import AccountPoller, Submit
from gateway.config import ImapAccount, ImapSettings
from gateway.errors import StoreError
from gateway.logs import get_logger
from gateway.store import Store
from gateway.store.imap_state import PollerLease, poller_lease

__all__ = ["ImapDoor", "ImapTuning", "run_imap_pollers"]

log = get_logger("channels.imap")


class ImapDoor:
    """Every account of `[imap]`, polled by whichever gateway process wins that account's election."""

    def __init__(
        self,
        settings: ImapSettings,
        submit: Submit,
        store: Store,
        *,
        ssl_context: ssl.SSLContext | None = None,
        tuning: ImapTuning | None = None,
    ) -> None:
        self.settings = settings
        self.submit = submit
        self.store = store
        self.ssl_context = ssl_context
        self.tuning = tuning or ImapTuning()
        self.pollers: dict[str, AccountPoller] = {}
        """The accounts this process is polling right now, by account key."""
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        for account in self.settings.accounts:
            self._tasks.append(asyncio.create_task(self._keep_polling(account), name=f"imap {account_key(account)}"))

    async def stop(self) -> None:
        """Ask every poller to stop; each finishes the message in hand and moves what it committed."""
        self._stopping.set()
        for poller in list(self.pollers.values()):
            poller.request_stop()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _keep_polling(self, account: ImapAccount) -> None:
        key = account_key(account)
        while not self._stopping.is_set():
            try:
                async with poller_lease(self.store, key) as lease:
                    if lease.held:
                        await self._poll_while_held(account, lease)
                    else:
                        log.debug("another gateway process polls this account", account=key)
            except StoreError as exc:
                log.warning("imap election not possible", account=key, error=str(exc))
            except Exception:
                # A bug in one account's poller must not end the others; it is retried after the election pause.
                log.exception("imap poller failed", account=key)
            await _wait(self._stopping, seconds=self.tuning.election_retry_s)

    async def _poll_while_held(self, account: ImapAccount, lease: PollerLease) -> None:
        loop = asyncio.get_running_loop()
        poller = AccountPoller(
            account,
            submit=self.submit,
            store=self.store,
            loop=loop,
            poll_interval_s=self.settings.poll_interval_s,
            tuning=self.tuning,
            ssl_context=self.ssl_context,
        )
        finished: asyncio.Future[None] = loop.create_future()
        thread = threading.Thread(
            target=_run_and_report, args=(poller, loop, finished), name=f"imap {poller.key}", daemon=True
        )
        self.pollers[poller.key] = poller
        thread.start()
        stopping: asyncio.Future[bool] = asyncio.ensure_future(self._stopping.wait())
        watched: set[asyncio.Future[Any]] = {finished, stopping}
        try:
            while not finished.done() and not self._stopping.is_set():
                await asyncio.wait(watched, timeout=self.tuning.lease_check_s, return_when=asyncio.FIRST_COMPLETED)
                if not finished.done() and not self._stopping.is_set() and not await lease.alive():
                    # Another process may take over now; stop before two pollers race over one folder.
                    log.warning("imap election lost (database session gone), stopping poller", account=poller.key)
                    break
        finally:
            stopping.cancel()
            poller.request_stop()
            # The thread may be waiting for a submit running on this loop: wait for it without blocking the loop.
            await asyncio.shield(finished)
            del self.pollers[poller.key]


def _run_and_report(poller: AccountPoller, loop: asyncio.AbstractEventLoop, finished: asyncio.Future[None]) -> None:
    error: BaseException | None = None
    try:
        poller.run()
    except BaseException as exc:
        error = exc
    with contextlib.suppress(RuntimeError):  # the loop is already closed: nobody is waiting
        loop.call_soon_threadsafe(_settle, finished, error)


def _settle(finished: asyncio.Future[None], error: BaseException | None) -> None:
    if finished.done():
        return
    if error is None:
        finished.set_result(None)
    else:
        finished.set_exception(error)


async def _wait(event: asyncio.Event, *, seconds: float) -> None:
    """Until `event` is set, at most `seconds`."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


async def run_imap_pollers(
    settings: ImapSettings,
    submit: Submit,
    store: Store,
    stop: asyncio.Event,
    *,
    ssl_context: ssl.SSLContext | None = None,
    tuning: ImapTuning | None = None,
) -> None:
    """Poll every configured account until `stop` is set (or this task is cancelled), then stop cleanly."""
    door = ImapDoor(settings, submit, store, ssl_context=ssl_context, tuning=tuning)
    await door.start()
    try:
        await stop.wait()
    finally:
        await door.stop()
