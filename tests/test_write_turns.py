"""Turns at writing one SQLite file: held for exactly as long as a write transaction, by one process at a time."""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.store import Store, WriteTx, write_turns
from gateway.store.write_turns import WriteTurns

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@contextmanager
def another_process_view(lock_path: Path) -> Iterator[int]:
    """An open file description of the lock file of its own: as another process sees the lock."""
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        yield descriptor
    finally:
        os.close(descriptor)


def turn_is_free(lock_path: Path) -> bool:
    with another_process_view(lock_path) as descriptor:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        return True


def test_a_turn_excludes_everyone_else_until_it_is_given_back(tmp_path: Path) -> None:
    lock_path = tmp_path / "gateway.db.lock"
    turns = WriteTurns(f"sqlite:///{tmp_path / 'gateway.db'}")
    turns.take()
    assert not turn_is_free(lock_path)
    turns.give_back()
    assert turn_is_free(lock_path)
    turns.give_back()  # twice is harmless
    turns.close()


def test_an_in_memory_database_takes_no_lock_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    turns = WriteTurns("sqlite://")
    turns.take()
    turns.give_back()
    turns.close()
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    yield store
    await store.close()


async def insert_raw(tx: WriteTx) -> int:
    return await tx.insert_raw(
        channel="email", mailbox="pomoc", received_at=NOW, content=b"x", sha256="0" * 64, envelope={}
    )


async def test_the_writer_holds_the_turn_for_its_transactions_and_gives_it_back_after_them(
    sqlite_store: Store, tmp_path: Path
) -> None:
    lock_path = tmp_path / "gateway.db.lock"
    seen_inside: list[bool] = []

    async def work(tx: WriteTx) -> int:
        seen_inside.append(turn_is_free(lock_path))  # runs on the writer thread, inside the transaction
        return await insert_raw(tx)

    await sqlite_store.run_in_transaction(work)
    assert seen_inside == [False] and turn_is_free(lock_path)

    async def failing(tx: WriteTx) -> int:
        await insert_raw(tx)
        raise RuntimeError("the intake fails")

    with pytest.raises(RuntimeError):
        await sqlite_store.run_in_transaction(failing)
    assert turn_is_free(lock_path)

    async with sqlite_store.transaction() as tx:  # a transaction driven from the event loop
        await insert_raw(tx)
        assert not turn_is_free(lock_path)
    assert turn_is_free(lock_path)
    with pytest.raises(RuntimeError):
        async with sqlite_store.transaction() as tx:
            await insert_raw(tx)
            raise RuntimeError("the caller fails")
    assert turn_is_free(lock_path)


def test_the_lock_file_has_the_database_files_permissions(tmp_path: Path) -> None:
    database = tmp_path / "gateway.db"
    database.touch()
    database.chmod(0o640)
    turns = WriteTurns(f"sqlite:///{database}")
    turns.take()
    turns.give_back()
    turns.close()
    assert stat.S_IMODE((tmp_path / "gateway.db.lock").stat().st_mode) == 0o640


def test_a_lock_file_that_cannot_be_opened_leaves_writing_to_sqlite_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[object] = []

    def refused(*args: object) -> int:
        attempts.append(args)
        raise PermissionError(13, "Permission denied")

    turns = WriteTurns(f"sqlite:///{tmp_path / 'gateway.db'}")
    monkeypatch.setattr("gateway.store.write_turns.os.open", refused)
    turns.take()  # no turn, no exception: SQLite's own locking still holds
    turns.give_back()
    turns.take()  # and it does not try again on every write
    turns.close()
    assert len(attempts) == 1
    assert not (tmp_path / "gateway.db.lock").exists()


class _NonBlockingFlock:
    """fcntl as write_turns uses it, with LOCK_EX failing at once instead of waiting."""

    LOCK_EX = fcntl.LOCK_EX | fcntl.LOCK_NB
    LOCK_UN = fcntl.LOCK_UN
    flock = staticmethod(fcntl.flock)


def test_a_turn_object_inherited_through_fork_waits_for_the_parents_turn(tmp_path: Path) -> None:
    turns = WriteTurns(f"sqlite:///{tmp_path / 'gateway.db'}")
    turns.take()  # the parent holds its turn while it forks
    child = os.fork()
    if child == 0:  # the child: a turn taken now must be its own, not the parent's lock seen through a shared file
        outcome = 2
        try:
            write_turns.fcntl = _NonBlockingFlock  # type: ignore[attr-defined, assignment]
            turns.take()  # its own description cannot get the lock at once, so it goes without
            outcome = 1 if turns.held else 0
        finally:
            os._exit(outcome)
    _, status = os.waitpid(child, 0)
    turns.close()
    assert os.waitstatus_to_exitcode(status) == 0, "the child took the turn its parent held"


def test_a_file_system_without_flock_leaves_writing_to_sqlite_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[int] = []

    def unsupported(descriptor: int, operation: int) -> None:
        attempts.append(operation)
        raise OSError(errno.ENOLCK, "No locks available")

    turns = WriteTurns(f"sqlite:///{tmp_path / 'gateway.db'}")
    monkeypatch.setattr("gateway.store.write_turns.fcntl.flock", unsupported)
    turns.take()
    assert not turns.held
    turns.give_back()
    turns.take()  # not asked again
    turns.close()
    assert attempts == [fcntl.LOCK_EX]
