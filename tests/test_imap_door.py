"""The IMAP door's pure decisions (backoff, batching, folder by outcome, UID sets, login method) and its named
queries (cursor, election) on each store backend. The network side is tested against Dovecot in tests/system."""

from __future__ import annotations

import select
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from channels.imap_policy import (
    Backoff,
    Sorted,
    account_key,
    destination_of,
    folder_for,
    plan_batches,
    raw_intake,
)
from channels.imap_session import StopSignal, login, uid_set, worth_a_look
from gateway.config import ImapAccount
from gateway.errors import StoreError
from gateway.intake import Created, Duplicate, FollowUp, Outcome, Quarantined
from gateway.store import Store
from gateway.store.imap_state import (
    ImapCursor,
    advisory_lock_key,
    load_cursor,
    load_refresh_token,
    poller_lease,
    save_cursor,
    save_refresh_token,
)

ACCOUNT = ImapAccount(mailbox="pomoc", host="imap.example.pl", username="pomoc@myhezo.pl", password="secret")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


# -- backoff -----------------------------------------------------------------------------------------------------
def test_backoff_ceiling_doubles_up_to_the_cap() -> None:
    backoff = Backoff(base_s=1.0, cap_s=60.0)
    assert [backoff.ceiling(n) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff.ceiling(10_000) == 60  # a long outage neither overflows nor grows past the cap


def test_backoff_draws_within_zero_and_the_ceiling_but_never_below_the_floor() -> None:
    backoff = Backoff(base_s=1.0, cap_s=60.0, floor_s=0.5)
    assert backoff.delay(3, draw=lambda low, high: high) == 8.0
    assert backoff.delay(3, draw=lambda low, high: low) == 0.5
    assert all(0.5 <= backoff.delay(n) <= 60.0 for n in range(20))


# -- batching ----------------------------------------------------------------------------------------------------
def test_batches_are_cut_by_count_in_uid_order() -> None:
    sizes = {uid: 2_000 for uid in (5, 1, 3, 2, 4)}
    assert plan_batches(sizes, max_count=2, max_bytes=10**9) == [[1, 2], [3, 4], [5]]


def test_batches_are_cut_by_bytes_and_an_oversize_mail_travels_alone() -> None:
    sizes = {1: 400, 2: 400, 3: 5_000, 4: 100, 5: 100}
    assert plan_batches(sizes, max_count=500, max_bytes=1_000) == [[1, 2], [3], [4, 5]]


def test_no_mail_no_batches_and_nonsense_limits_are_refused() -> None:
    assert plan_batches({}, max_count=500, max_bytes=1) == []
    with pytest.raises(ValueError):
        plan_batches({1: 1}, max_count=0, max_bytes=1)


def test_uid_sets_are_compact_ranges() -> None:
    assert uid_set([7, 1, 2, 3, 5, 6, 9]) == "1:3,5:7,9"
    assert uid_set([4]) == "4"
    assert uid_set(range(1, 10_001)) == "1:10000"
    assert uid_set([]) == ""


# -- where a message goes ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("outcome", "folder"),
    [
        (Created("HZ-2026-000001", ()), "Processed"),
        (Duplicate("HZ-2026-000001"), "Processed"),
        (FollowUp("HZ-2026-000001"), "Processed"),
        (Quarantined(3, "not an e-mail"), "Quarantine"),
    ],
)
def test_folder_by_outcome(outcome: Outcome, folder: str) -> None:
    assert folder_for(destination_of(outcome), ACCOUNT) == folder


def test_sorted_batch_moves_each_folder_once_and_skips_empty_ones() -> None:
    done = Sorted()
    done.add(1, Created("HZ-2026-000001", ()))
    done.add(2, Duplicate("HZ-2026-000001"))
    assert done.moves(ACCOUNT) == [("Processed", [1, 2])]
    done.add(3, Quarantined(1, "bad"))
    assert done.moves(ACCOUNT) == [("Processed", [1, 2]), ("Quarantine", [3])]
    assert sorted(done.all_uids()) == [1, 2, 3]


# -- what a fetched message becomes ------------------------------------------------------------------------------
def test_raw_intake_keeps_the_bytes_and_says_where_they_came_from() -> None:
    content = b"Subject: x\r\n\r\nbody\r\n"
    raw = raw_intake(ACCOUNT, uid=42, uidvalidity=1700000000, content=content, received_at=NOW)
    assert raw.content is content
    assert (raw.channel, raw.mailbox, raw.received_at) == ("email", "pomoc", NOW)
    assert raw.envelope == {
        "door": "imap",
        "account": "imap.example.pl:993/pomoc@myhezo.pl/INBOX",
        "folder": "INBOX",
        "uid": 42,
        "uidvalidity": 1700000000,
    }
    assert account_key(ACCOUNT) == raw.envelope["account"]


def test_idle_keepalives_are_not_news_but_exists_and_bye_are() -> None:
    assert not worth_a_look([(b"OK", b"Still here")])
    assert worth_a_look([(3, b"EXISTS")])
    assert worth_a_look([(b"BYE", b"Server shutting down.")])


# -- login method ---------------------------------------------------------------------------------------------
class RecordingClient:
    """Stands in for IMAPClient where only the choice of login command is under test."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def login(self, username: str, password: str) -> None:
        self.calls.append(("login", (username, password)))

    def oauth2_login(self, username: str, token: str) -> None:
        self.calls.append(("oauth2_login", (username, token)))


def test_password_login_without_a_token_and_xoauth2_with_one() -> None:
    with_password = RecordingClient()
    login(with_password, ACCOUNT, "")
    assert with_password.calls == [("login", ("pomoc@myhezo.pl", "secret"))]
    with_token = RecordingClient()
    login(with_token, ACCOUNT.model_copy(update={"password": ""}), "ya29.token")
    assert with_token.calls == [("oauth2_login", ("pomoc@myhezo.pl", "ya29.token"))]


def test_stop_signal_wakes_a_poll_at_once() -> None:
    stop = StopSignal()
    try:
        poller = select.poll()
        poller.register(stop.fileno(), select.POLLIN)
        assert poller.poll(0) == []
        stop.set()
        stop.set()  # idempotent
        assert [fd for fd, _ in poller.poll(0)] == [stop.fileno()]
        assert stop.is_set() and stop.wait(0)
    finally:
        stop.close()


# -- imap_state and the election -----------------------------------------------------------------------------
async def test_cursor_is_saved_and_replaced(store: Store) -> None:
    key = account_key(ACCOUNT)
    assert await load_cursor(store, key) is None
    await save_cursor(store, key, ImapCursor(uidvalidity=1700000000, last_uid=10), NOW)
    await save_cursor(store, key, ImapCursor(uidvalidity=1800000000, last_uid=0), NOW)
    assert await load_cursor(store, key) == ImapCursor(uidvalidity=1800000000, last_uid=0)
    assert await load_cursor(store, "other:993/x/INBOX") is None


async def test_a_rotated_refresh_token_is_kept_replaced_and_only_returned_for_its_configured_token(
    store: Store,
) -> None:
    key = account_key(ACCOUNT)
    configured, reconfigured = "a" * 64, "b" * 64
    assert await load_refresh_token(store, key, configured) is None
    await save_refresh_token(store, key, configured, "refresh-2", NOW)
    assert await load_refresh_token(store, key, configured) == "refresh-2"
    await save_refresh_token(store, key, configured, "refresh-3", NOW)
    assert await load_refresh_token(store, key, configured) == "refresh-3"
    # A new token in the configuration: the one kept from the old grant is not offered.
    assert await load_refresh_token(store, key, reconfigured) is None
    assert await load_refresh_token(store, "other:993/x/INBOX", configured) is None
    # The first rotation of the new grant replaces the old row.
    await save_refresh_token(store, key, reconfigured, "refresh-new-2", NOW)
    assert await load_refresh_token(store, key, reconfigured) == "refresh-new-2"
    assert await load_refresh_token(store, key, configured) is None


async def test_a_failed_save_of_a_refresh_token_does_not_quote_it(store: Store) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(text("DROP TABLE oauth_refresh_tokens"))
    with pytest.raises(StoreError, match="oauth refresh token not saved") as failed:
        await save_refresh_token(store, account_key(ACCOUNT), "a" * 64, "refresh-secret", NOW)
    assert "oauth_refresh_tokens" in str(failed.value)  # the driver's message says what went wrong
    assert "refresh-secret" not in str(failed.value)  # but the statement's parameters stay out of the logs


async def test_one_poller_per_account_is_elected(store: Store) -> None:
    key = account_key(ACCOUNT)
    async with poller_lease(store, key) as first:
        assert first.held and await first.alive()
        async with poller_lease(store, key) as second:
            # SQLite is one node: nobody to compete with. PostgreSQL: the advisory lock is taken.
            assert second.held == (store.backend != "postgresql")
        async with poller_lease(store, "other:993/x/INBOX") as other_account:
            assert other_account.held
    async with poller_lease(store, key) as after_release:
        assert after_release.held


def test_advisory_lock_keys_are_stable_signed_64_bit_and_distinct() -> None:
    key = advisory_lock_key("imap.example.pl:993/pomoc@myhezo.pl/INBOX")
    assert key == advisory_lock_key("imap.example.pl:993/pomoc@myhezo.pl/INBOX")
    assert -(2**63) <= key < 2**63
    assert key != advisory_lock_key("imap.example.pl:993/escalation@myhezo.pl/INBOX")
