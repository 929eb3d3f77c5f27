"""The IMAP door against a real Dovecot over IMAPS: mail appended by a real client becomes requests, leaves the
inbox only after its commit, and survives restarts, crashes and renumbered folders without loss or duplicates."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from imapclient.exceptions import IMAPClientError
from sqlalchemy import func, select

from channels.imap import ImapDoor
from channels.imap_policy import Backoff, ImapTimeouts, ImapTuning, account_key
from channels.imap_session import MailboxSession
from gateway.config import ImapAccount, ImapSettings
from gateway.errors import StoreError
from gateway.intake import Created, Duplicate, Outcome, RawIntake
from gateway.pipeline import submit as pipeline_submit
from gateway.steps import PipelineDeps
from gateway.store import Store
from gateway.store import tables as t
from gateway.store.blobs import BlobStore
from gateway.store.imap_state import load_cursor
from tests.support.dovecot import DovecotServer

pytestmark = pytest.mark.system

POMOC = "pomoc@myhezo.pl"
# Short waits so reconnects happen quickly in tests; the production defaults are in ImapTuning.
FAST = ImapTuning(
    timeouts=ImapTimeouts(connect_s=5, login_s=10, select_s=10, fetch_s=30, move_s=30, idle_s=10, submit_s=30),
    backoff=Backoff(base_s=0.05, cap_s=0.5, floor_s=0.01),
    election_retry_s=0.2,
)
DEADLINE_S = 60.0


def mail(subject: str, body: str = "S/N: 2214G-00417, umowa 40027719\r\n") -> bytes:
    return (
        "From: Jan Kowalski <jan@example.pl>\r\n"
        "To: pomoc@myhezo.pl\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@example.pl>\r\n"
        "Date: Tue, 24 Nov 2026 10:00:00 +0100\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"{body}"
    ).encode()


# Control bytes without any header field: the e-mail parser refuses it, so the pipeline quarantines it.
NOT_AN_EMAIL = bytes(range(1, 9)) * 64 + b"\r\n"


@dataclass
class Intake:
    """The real pipeline over a SQLite store, recording every outcome it hands back to the door."""

    store: Store
    deps: PipelineDeps
    outcomes: list[Outcome] = field(default_factory=list)

    async def submit(self, raw: RawIntake) -> Outcome:
        outcome = await pipeline_submit(raw, self.deps)
        self.outcomes.append(outcome)
        return outcome

    async def count(self, table: Any) -> int:
        async with self.store.reading() as conn:
            return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


def pipeline_over(store: Store, tmp_path: Path) -> Intake:
    deps = PipelineDeps(
        store=store,
        blobs=BlobStore(tmp_path / "data"),
        own_addresses=frozenset({POMOC, "escalation@myhezo.pl"}),
        ack_domain="myhezo.pl",
    )
    return Intake(store, deps)


@pytest.fixture
async def intake(tmp_path: Path) -> AsyncIterator[Intake]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    yield pipeline_over(store, tmp_path)
    await store.close()


def account(server: DovecotServer, folder: str = "INBOX") -> ImapAccount:
    assert server.imaps_port is not None
    return ImapAccount(
        mailbox="pomoc",
        host=server.host,
        port=server.imaps_port,
        ssl=True,
        username=POMOC,
        password=server.users[POMOC],
        folder=folder,
    )


def make_door(
    server: DovecotServer,
    submit: Callable[[RawIntake], Awaitable[Outcome]],
    store: Store,
    *,
    folder: str = "INBOX",
    poll_interval_s: float = 5.0,
) -> ImapDoor:
    settings = ImapSettings(enabled=True, poll_interval_s=poll_interval_s, accounts=[account(server, folder)])
    return ImapDoor(settings, submit, store, ssl_context=server.ssl_context(), tuning=FAST)


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait for a condition, with a deadline (a failure, never a fixed sleep). Mailbox state lives in another
    process, so there is no event to await: look again every 100 ms."""
    try:
        async with asyncio.timeout(DEADLINE_S):
            while True:
                if await check():
                    return
                await asyncio.sleep(0.1)
    except TimeoutError:
        pytest.fail(f"timed out waiting for {what}")


async def uids(server: DovecotServer, folder: str) -> list[int]:
    return await asyncio.to_thread(server.list_uids, POMOC, folder)


async def folder_holds(server: DovecotServer, folder: str, count: int) -> bool:
    try:
        return len(await uids(server, folder)) == count
    except (OSError, IMAPClientError):
        return False  # the server is restarting under the test: look again


async def append(server: DovecotServer, raw: bytes, folder: str = "INBOX") -> int:
    return await asyncio.to_thread(server.append, POMOC, raw, folder)


def flags_in(server: DovecotServer, folder: str) -> list[tuple[bytes, ...]]:
    with server.connect(POMOC) as client:
        client.select_folder(folder, readonly=True)
        return [tuple(data[b"FLAGS"]) for data in client.fetch(client.search("ALL"), ["FLAGS"]).values()]


async def test_mail_becomes_requests_and_moves_to_processed_unseen(
    dovecot_mailbox: DovecotServer, intake: Intake
) -> None:
    appended = [await append(dovecot_mailbox, mail(f"Awaria switcha {n}")) for n in range(3)]
    door = make_door(dovecot_mailbox, intake.submit, intake.store)
    await door.start()
    try:
        await eventually(lambda: folder_holds(dovecot_mailbox, "Processed", 3), "3 messages in Processed")
    finally:
        await door.stop()

    assert await uids(dovecot_mailbox, "INBOX") == []
    assert await intake.count(t.requests) == 3
    assert all(isinstance(outcome, Created) for outcome in intake.outcomes)
    # BODY.PEEK[] leaves \Seen alone, and MOVE keeps the flags a message had.
    processed_flags = await asyncio.to_thread(flags_in, dovecot_mailbox, "Processed")
    assert len(processed_flags) == 3
    assert all(b"\\Seen" not in flags for flags in processed_flags)
    cursor = await load_cursor(intake.store, account_key(account(dovecot_mailbox)))
    assert cursor is not None and cursor.last_uid == max(appended)
    async with intake.store.reading() as conn:
        envelopes = [row.envelope for row in await conn.execute(select(t.raw_inputs.c.envelope))]
    assert sorted(e["uid"] for e in envelopes) == appended
    assert {e["door"] for e in envelopes} == {"imap"}


async def test_unparseable_mail_goes_to_quarantine_and_does_not_block_the_rest(
    dovecot_mailbox: DovecotServer, intake: Intake
) -> None:
    await append(dovecot_mailbox, NOT_AN_EMAIL)
    await append(dovecot_mailbox, mail("Awaria zasilacza"))
    door = make_door(dovecot_mailbox, intake.submit, intake.store)
    await door.start()
    try:
        await eventually(lambda: folder_holds(dovecot_mailbox, "Quarantine", 1), "the bad mail in Quarantine")
        await eventually(lambda: folder_holds(dovecot_mailbox, "Processed", 1), "the good mail in Processed")
    finally:
        await door.stop()

    assert await uids(dovecot_mailbox, "INBOX") == []
    assert await intake.count(t.quarantine) == 1
    assert await intake.count(t.requests) == 1
    assert sorted(type(outcome).__name__ for outcome in intake.outcomes) == ["Created", "Quarantined"]


async def test_store_failure_leaves_mail_in_place_and_retries(dovecot_mailbox: DovecotServer, intake: Intake) -> None:
    await append(dovecot_mailbox, mail("Awaria po awarii bazy"))
    attempts: list[list[int]] = []

    async def store_down_once(raw: RawIntake) -> Outcome:
        # Where the message is at the moment of the failure: still in the inbox.
        attempts.append(await uids(dovecot_mailbox, "Processed"))
        if len(attempts) == 1:
            raise StoreError("database restarting")
        return await intake.submit(raw)

    door = make_door(dovecot_mailbox, store_down_once, intake.store)
    await door.start()
    try:
        await eventually(lambda: folder_holds(dovecot_mailbox, "Processed", 1), "the retried mail in Processed")
    finally:
        await door.stop()

    assert attempts[0] == []
    assert len(attempts) == 2
    assert await intake.count(t.requests) == 1


async def test_a_batch_is_handed_to_the_pipeline_several_messages_at_a_time(
    dovecot_mailbox: DovecotServer, intake: Intake
) -> None:
    count = 5  # fewer than the submit window: all of them are in flight together
    for n in range(count):
        await append(dovecot_mailbox, mail(f"Zgłoszenie równoległe {n}"))
    all_started = asyncio.Event()
    started = 0

    async def wait_for_the_others(raw: RawIntake) -> Outcome:
        nonlocal started
        started += 1
        if started == count:
            all_started.set()
        # One message at a time would never get past this: the first waits for messages not yet handed over.
        await asyncio.wait_for(all_started.wait(), DEADLINE_S)
        return await intake.submit(raw)

    door = make_door(dovecot_mailbox, wait_for_the_others, intake.store)
    await door.start()
    try:
        await eventually(lambda: folder_holds(dovecot_mailbox, "Processed", count), "the whole batch in Processed")
    finally:
        await door.stop()
    assert started == count
    assert await intake.count(t.requests) == count


async def test_dovecot_crash_mid_run_loses_nothing(dovecot_mailbox: DovecotServer, intake: Intake) -> None:
    count = 6
    for n in range(count):
        await append(dovecot_mailbox, mail(f"Zgłoszenie {n}"))
    crashed = asyncio.Event()
    calls = 0

    async def crash_server_on_third(raw: RawIntake) -> Outcome:
        nonlocal calls
        calls += 1
        if calls == 3:
            crashed.set()
            # The batch was fetched; the server dies before the MOVE and comes back: the poller must reconnect.
            await asyncio.to_thread(dovecot_mailbox.restart, graceful=False)
        return await intake.submit(raw)

    door = make_door(dovecot_mailbox, crash_server_on_third, intake.store)
    await door.start()
    try:
        await eventually(lambda: folder_holds(dovecot_mailbox, "Processed", count), "all mail in Processed")
    finally:
        await door.stop()

    assert crashed.is_set()
    assert await uids(dovecot_mailbox, "INBOX") == []
    assert await intake.count(t.requests) == count
    assert sum(isinstance(outcome, Created) for outcome in intake.outcomes) == count
    # The first pass committed all of them but could not move them: the second pass found them again.
    assert any(isinstance(outcome, Duplicate) for outcome in intake.outcomes)


async def test_crash_between_commit_and_move_duplicates_nothing(dovecot_mailbox: DovecotServer, intake: Intake) -> None:
    await append(dovecot_mailbox, mail("Awaria przed przeniesieniem"))

    async def commit_then_crash(raw: RawIntake) -> Outcome:
        await intake.submit(raw)
        raise RuntimeError("process killed after the commit, before the MOVE")

    first = make_door(dovecot_mailbox, commit_then_crash, intake.store)
    await first.start()
    try:
        await eventually(lambda: _has_outcome(intake), "the first commit")
    finally:
        await first.stop()
    assert await folder_holds(dovecot_mailbox, "INBOX", 1)

    intake.outcomes.clear()
    second = make_door(dovecot_mailbox, intake.submit, intake.store)
    await second.start()
    try:
        await eventually(lambda: folder_holds(dovecot_mailbox, "Processed", 1), "the mail in Processed")
    finally:
        await second.stop()

    assert [type(outcome) for outcome in intake.outcomes] == [Duplicate]
    assert await intake.count(t.requests) == 1
    assert await uids(dovecot_mailbox, "INBOX") == []


async def _has_outcome(intake: Intake) -> bool:
    return bool(intake.outcomes)


async def test_uidvalidity_change_resets_cursor_and_deduplicates(
    dovecot_mailbox: DovecotServer, intake: Intake
) -> None:
    folder = f"Intake-{uuid.uuid4().hex[:8]}"
    key = account_key(account(dovecot_mailbox, folder))
    first_mail = mail("Awaria przed przebudową folderu")
    await asyncio.to_thread(_recreate_folder, dovecot_mailbox, folder)
    try:
        await append(dovecot_mailbox, first_mail, folder)
        door = make_door(dovecot_mailbox, intake.submit, intake.store, folder=folder)
        await door.start()
        try:
            await eventually(lambda: folder_holds(dovecot_mailbox, folder, 0), "the first pass")
        finally:
            await door.stop()
        before = await load_cursor(intake.store, key)

        # The folder is recreated (new UIDVALIDITY) and the same mail shows up again, next to a new one.
        await asyncio.to_thread(_recreate_folder, dovecot_mailbox, folder)
        await append(dovecot_mailbox, first_mail, folder)
        await append(dovecot_mailbox, mail("Nowa awaria"), folder)
        door = make_door(dovecot_mailbox, intake.submit, intake.store, folder=folder)
        await door.start()
        try:
            await eventually(lambda: folder_holds(dovecot_mailbox, folder, 0), "the second pass")
        finally:
            await door.stop()
        after = await load_cursor(intake.store, key)
    finally:
        await asyncio.to_thread(_recreate_folder, dovecot_mailbox, folder, create=False)

    assert before is not None and after is not None
    assert after.uidvalidity != before.uidvalidity
    assert after.last_uid == 2  # counted again from the new numbering
    assert [type(outcome) for outcome in intake.outcomes] == [Created, Duplicate, Created]
    assert await intake.count(t.requests) == 2


def _recreate_folder(server: DovecotServer, folder: str, *, create: bool = True) -> None:
    with server.connect(POMOC) as client:
        if client.folder_exists(folder):
            client.delete_folder(folder)
        if create:
            client.create_folder(folder)


async def test_idle_wakes_the_poller_and_stop_interrupts_idle(dovecot_mailbox: DovecotServer, intake: Intake) -> None:
    # An hour between re-scans: only IDLE can bring the new message in within the deadline.
    door = make_door(dovecot_mailbox, intake.submit, intake.store, poll_interval_s=3600)
    key = account_key(account(dovecot_mailbox))
    await door.start()
    try:
        await eventually(lambda: _idling(door, key), "the poller to enter IDLE")
        await append(dovecot_mailbox, mail("Awaria w trakcie IDLE"))
        await eventually(lambda: folder_holds(dovecot_mailbox, "Processed", 1), "the new mail in Processed")
        await eventually(lambda: _idling(door, key), "the poller to idle again")
    finally:
        # A stop must not wait for the hour-long IDLE to run out.
        async with asyncio.timeout(DEADLINE_S):
            await door.stop()
    assert [type(outcome) for outcome in intake.outcomes] == [Created]


@pytest.mark.parametrize("graceful", [True, False], ids=["restart", "crash"])
async def test_server_restart_while_idling_reconnects(
    dovecot_mailbox: DovecotServer, intake: Intake, graceful: bool
) -> None:
    door = make_door(dovecot_mailbox, intake.submit, intake.store, poll_interval_s=3600)
    key = account_key(account(dovecot_mailbox))
    await door.start()
    try:
        await eventually(lambda: _idling(door, key), "the poller to enter IDLE")
        first_session = door.pollers[key].session
        # The IDLE connection dies with the server: only a new session can bring the next mail in.
        await asyncio.to_thread(dovecot_mailbox.restart, graceful=graceful)
        await eventually(lambda: _idling_in_new_session(door, key, first_session), "a new session in IDLE")
        await append(dovecot_mailbox, mail("Awaria po restarcie serwera"))
        await eventually(lambda: folder_holds(dovecot_mailbox, "Processed", 1), "the mail in Processed")
    finally:
        await door.stop()
    assert await intake.count(t.requests) == 1


async def test_polling_without_idle_picks_up_new_mail(dovecot_mailbox: DovecotServer, intake: Intake) -> None:
    settings = ImapSettings(enabled=True, poll_interval_s=0.2, accounts=[account(dovecot_mailbox)])
    tuning = dataclasses.replace(FAST, use_idle=False)
    door = ImapDoor(settings, intake.submit, intake.store, ssl_context=dovecot_mailbox.ssl_context(), tuning=tuning)
    key = account_key(account(dovecot_mailbox))
    await door.start()
    try:
        await eventually(lambda: _drained_once(door, key), "the first (empty) pass")
        assert not door.pollers[key].is_idling()
        await append(dovecot_mailbox, mail("Awaria zauważona przy odpytywaniu"))
        await eventually(lambda: folder_holds(dovecot_mailbox, "Processed", 1), "the new mail in Processed")
    finally:
        await door.stop()
    assert [type(outcome) for outcome in intake.outcomes] == [Created]


async def _drained_once(door: ImapDoor, key: str) -> bool:
    poller = door.pollers.get(key)
    return poller is not None and poller.drained_since_connect


async def _idling_in_new_session(door: ImapDoor, key: str, old: MailboxSession | None) -> bool:
    poller = door.pollers.get(key)
    session = poller.session if poller else None
    return session is not None and session is not old and session.idling.is_set()


async def _idling(door: ImapDoor, key: str) -> bool:
    poller = door.pollers.get(key)
    return poller is not None and poller.is_idling()


async def test_copy_fallback_moves_a_batch_without_the_move_capability(dovecot_mailbox: DovecotServer) -> None:
    appended = [await append(dovecot_mailbox, mail(f"Kopia {n}")) for n in range(3)]

    def move_by_copy() -> None:
        session = MailboxSession.open(account(dovecot_mailbox), FAST.timeouts, dovecot_mailbox.ssl_context())
        try:
            session.can_move = False  # as on a server without RFC 6851
            session.move(appended, "Quarantine")
        finally:
            session.close()

    await asyncio.to_thread(move_by_copy)
    assert await uids(dovecot_mailbox, "INBOX") == []
    assert await folder_holds(dovecot_mailbox, "Quarantine", 3)


@pytest.mark.parametrize("store", ["postgresql"], indirect=True)
async def test_one_process_polls_an_account_and_another_takes_over(
    dovecot_mailbox: DovecotServer, store: Store, tmp_path: Path
) -> None:
    """Two gateway processes on one PostgreSQL (two doors here): the advisory lock elects one poller."""
    shared = pipeline_over(store, tmp_path)
    submitted_by: list[str] = []

    def submit_as(name: str) -> Callable[[RawIntake], Awaitable[Outcome]]:
        async def submit(raw: RawIntake) -> Outcome:
            submitted_by.append(name)
            return await shared.submit(raw)

        return submit

    key = account_key(account(dovecot_mailbox))
    doors = {name: make_door(dovecot_mailbox, submit_as(name), store) for name in ("a", "b")}
    for door in doors.values():
        await door.start()
    try:
        await eventually(lambda: _elected(doors, key), "one door to win the election")
        winner = next(name for name, door in doors.items() if key in door.pollers)
        loser = "b" if winner == "a" else "a"
        await append(dovecot_mailbox, mail("Pierwsza awaria"))
        await eventually(lambda: folder_holds(dovecot_mailbox, "Processed", 1), "the first mail in Processed")
        assert key not in doors[loser].pollers

        await doors[winner].stop()  # the winner's process ends: its lock goes with it
        await eventually(lambda: _elected({loser: doors[loser]}, key), "the other door to take over")
        await append(dovecot_mailbox, mail("Druga awaria"))
        await eventually(lambda: folder_holds(dovecot_mailbox, "Processed", 2), "the second mail in Processed")
    finally:
        for door in doors.values():
            await door.stop()
    assert submitted_by == [winner, loser]
    assert await shared.count(t.requests) == 2


async def _elected(doors: dict[str, ImapDoor], key: str) -> bool:
    return sum(key in door.pollers for door in doors.values()) == 1
