"""Group commit on SQLite: transactions that waited for the writer share one COMMIT, each in its own savepoint."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from gateway.intake import Created, Duplicate
from gateway.pipeline import submit
from gateway.steps import PipelineDeps
from gateway.store import Store, WriteTx
from gateway.store import tables as t
from gateway.store.blobs import BlobStore
from tests.test_pipeline import email, simple_mail

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    yield store
    await store.close()


async def insert_raw(tx: WriteTx, content: bytes) -> int:
    return await tx.insert_raw(
        channel="email", mailbox="pomoc", received_at=NOW, content=content, sha256="0" * 64, envelope={}
    )


async def stored_contents(store: Store) -> list[bytes]:
    async with store.reading() as conn:
        return list((await conn.execute(select(t.raw_inputs.c.content).order_by(t.raw_inputs.c.id))).scalars())


Work = Callable[[], Coroutine[Any, Any, object]]


async def while_writer_is_busy(store: Store, *works: Work) -> list[object]:
    """Starts `works` while another transaction holds the writer, so that all of them are waiting when it ends."""
    async with store.transaction() as tx:
        tasks = [asyncio.create_task(work()) for work in works]
        # A statement of this transaction is a hop to the writer thread: the tasks run meanwhile and queue up.
        await insert_raw(tx, b"holder")
        assert not any(task.done() for task in tasks)
    return list(await asyncio.gather(*tasks, return_exceptions=True))


async def test_waiting_transactions_share_one_commit_and_a_failing_one_loses_only_its_own_writes(
    sqlite_store: Store,
) -> None:
    async def good(content: bytes) -> int:
        return await sqlite_store.run_in_transaction(lambda tx: insert_raw(tx, content))

    async def failing() -> int:
        async def work(tx: WriteTx) -> int:
            await insert_raw(tx, b"failing")
            raise ValueError("this member fails")

        return await sqlite_store.run_in_transaction(work)

    first, failed, last = await while_writer_is_busy(
        sqlite_store, lambda: good(b"first"), failing, lambda: good(b"last")
    )
    assert sqlite_store.shared_commits == 1
    assert isinstance(failed, ValueError)
    assert isinstance(first, int) and isinstance(last, int)
    assert await stored_contents(sqlite_store) == [b"holder", b"first", b"last"]


async def test_nobody_is_told_stored_by_a_shared_commit_that_failed(sqlite_store: Store) -> None:
    """A member whose foreign key is checked only at COMMIT makes the shared COMMIT fail. The others must not have
    been answered from that transaction: they are run again alone, and what they return is what got stored."""
    runs: dict[str, int] = {"first": 0, "broken": 0, "last": 0}

    def member(name: str) -> Work:
        async def work(tx: WriteTx) -> int:
            runs[name] += 1
            if name == "broken":
                await tx.conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
                await tx.insert_event(request_id=999_999, at=NOW, actor="test", kind="dangling", detail={})
            await insert_raw(tx, f"{name} run {runs[name]}".encode())
            return runs[name]

        return lambda: sqlite_store.run_in_transaction(work)

    first, broken, last = await while_writer_is_busy(sqlite_store, member("first"), member("broken"), member("last"))
    assert isinstance(broken, IntegrityError)
    assert (first, last) == (2, 2)  # the answers come from the runs that were committed
    assert await stored_contents(sqlite_store) == [b"holder", b"first run 2", b"last run 2"]
    assert sqlite_store.shared_commits == 0
    async with sqlite_store.reading() as conn:
        assert (await conn.execute(select(func.count()).select_from(t.events))).scalar_one() == 0


async def test_a_caller_cancelled_while_waiting_has_nothing_stored(sqlite_store: Store) -> None:
    ran: list[str] = []

    async def work(tx: WriteTx) -> int:
        ran.append("cancelled")
        return await insert_raw(tx, b"cancelled")

    async with sqlite_store.transaction() as tx:
        waiting = asyncio.create_task(sqlite_store.run_in_transaction(work))
        await insert_raw(tx, b"holder")
        waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await sqlite_store.run_in_transaction(lambda tx: insert_raw(tx, b"after"))
    assert ran == []
    assert await stored_contents(sqlite_store) == [b"holder", b"after"]


async def test_the_same_mail_twice_in_one_group_is_one_request(sqlite_store: Store, tmp_path: Path) -> None:
    """The second member reads what the first wrote before their shared commit."""
    deps = PipelineDeps(
        store=sqlite_store,
        blobs=BlobStore(tmp_path / "data"),
        own_addresses=frozenset({"pomoc@myhezo.pl"}),
        ack_domain="myhezo.pl",
        clock=lambda: NOW,
    )
    mail, other = simple_mail(), simple_mail(abc123="other1")
    outcomes = await while_writer_is_busy(
        sqlite_store,
        lambda: submit(email(mail), deps),
        lambda: submit(email(mail), deps),
        lambda: submit(email(other), deps),
    )
    assert sqlite_store.shared_commits == 1
    assert outcomes == [Created("HZ-2026-000001", ()), Duplicate("HZ-2026-000001"), Created("HZ-2026-000002", ())]


async def test_a_commit_that_failed_does_not_leave_the_writer_stuck(sqlite_store: Store) -> None:
    """SQLite keeps a transaction open when its COMMIT fails on a deferred constraint; the next BEGIN must work."""

    async def dangling(tx: WriteTx) -> None:
        await tx.conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        await tx.insert_event(request_id=999_999, at=NOW, actor="test", kind="dangling", detail={})

    with pytest.raises(IntegrityError):
        async with sqlite_store.transaction() as tx:
            await dangling(tx)
    with pytest.raises(IntegrityError):
        await sqlite_store.run_in_transaction(dangling)
    async with sqlite_store.transaction() as tx:
        await insert_raw(tx, b"after the ad-hoc one")
    await sqlite_store.run_in_transaction(lambda tx: insert_raw(tx, b"after the queued one"))
    assert await stored_contents(sqlite_store) == [b"after the ad-hoc one", b"after the queued one"]
