"""SQLite writes on one dedicated thread with one synchronous connection.

Why: through aiosqlite every statement costs about four hops between the event loop and a driver thread, and an
intake is a dozen statements, so most of an intake's time was spent handing work back and forth. Here a whole
intake transaction runs as one hop (`run`), and an ad-hoc transaction costs one hop per statement (`begin`).

Code written for the async store runs unchanged: it awaits `conn.execute(...)` on an adapter. Inside `run`, that
await completes at once (the statement already ran on this thread), so the coroutine is driven to its end without
an event loop; a step that awaited real I/O there would be a bug, and raises.

Group commit: with synchronous=FULL every COMMIT waits for an fsync, which costs more than the statements of an
intake. Transactions given to `run` while another is on the thread queue up and then share one BEGIN…COMMIT, each
inside its own SAVEPOINT: a member that raises rolls back to its savepoint and gets its own exception, the others
go on. Nobody's result is handed back before the shared COMMIT succeeded (SMTP says 250 on that result). Should
the shared transaction itself fail, its members are run again, each alone, so that no member fails because of
another.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Dialect, Engine

from gateway.store.engine import sqlite_on_begin, sqlite_on_connect
from gateway.store.sqlite_direct import direct_statement
from gateway.store.sqlite_direct import run as run_direct
from gateway.store.write_turns import WriteTurns

T = TypeVar("T")


class _Scalars(list[Any]):
    """First columns of the rows, with `.all()` as SQLAlchemy's ScalarResult has it."""

    def all(self) -> list[Any]:
        return list(self)


class BufferedResult:
    """The rows and row count of one statement, read completely on the writer thread."""

    def __init__(self, rows: Sequence[Any], rowcount: int) -> None:
        # SQLAlchemy rows, or the named tuples of a statement run directly (sqlite_direct.py): both read the same.
        self._rows: list[Any] = list(rows)
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def all(self) -> list[Any]:
        return list(self._rows)

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        if len(self._rows) != 1:
            raise LookupError(f"expected exactly one row, got {len(self._rows)}")
        return self._rows[0]

    def one_or_none(self) -> Any:
        if len(self._rows) > 1:
            raise LookupError(f"expected at most one row, got {len(self._rows)}")
        return self._rows[0] if self._rows else None

    def scalar_one_or_none(self) -> Any:
        row = self.one_or_none()
        return None if row is None else row[0]

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalars(self) -> _Scalars:
        return _Scalars(row[0] for row in self._rows)


def _buffered(conn: Connection, statement: Any, parameters: Any = None) -> BufferedResult:
    direct = direct_statement(statement, parameters, conn.dialect)
    if direct is not None:
        driver = conn.connection.driver_connection
        assert driver is not None
        return BufferedResult(*run_direct(driver, direct, parameters))
    result = conn.execute(statement, parameters) if parameters is not None else conn.execute(statement)
    return BufferedResult(result.all() if result.returns_rows else [], result.rowcount)


class _OnThread:
    """The connection as seen by code already running on the writer thread."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect: Dialect = conn.dialect

    async def execute(self, statement: Any, parameters: Any = None) -> BufferedResult:
        return _buffered(self._conn, statement, parameters)

    async def exec_driver_sql(self, sql: str) -> BufferedResult:
        result = self._conn.exec_driver_sql(sql)
        return BufferedResult(result.all() if result.returns_rows else [], result.rowcount)


class _FromLoop:
    """The connection as seen from the event loop: each statement is one hop to the writer thread."""

    def __init__(self, writer: SqliteWriter, conn: Connection) -> None:
        self._writer = writer
        self._conn = conn
        self.dialect: Dialect = conn.dialect

    async def execute(self, statement: Any, parameters: Any = None) -> BufferedResult:
        return await self._writer.call(_buffered, self._conn, statement, parameters)

    async def exec_driver_sql(self, sql: str) -> BufferedResult:
        def run() -> BufferedResult:
            result = self._conn.exec_driver_sql(sql)
            return BufferedResult(result.all() if result.returns_rows else [], result.rowcount)

        return await self._writer.call(run)


def _drive(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return finished.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("code inside an SQLite write transaction awaited real I/O; it must only await the store")


@dataclass
class _Job(Generic[T]):
    """One transaction given to `run`, waiting for the writer thread."""

    work: Callable[[Any], Awaitable[T]]
    make_tx: Callable[[Any], Any]
    future: asyncio.Future[T]


@dataclass(frozen=True)
class _Outcome:
    """What one job's work returned or raised; resolved on the event loop once the transaction is settled."""

    value: Any = None
    error: BaseException | None = None


# A bound on what one COMMIT carries, so the first member of a group does not wait for arbitrarily many others.
MAX_GROUP = 32


def _run_work(work: Callable[[Any], Awaitable[Any]], make_tx: Callable[[Any], Any], conn: Connection) -> Any:
    return _drive(work(make_tx(_OnThread(conn))))  # type: ignore[arg-type]


def _end_failed_transaction(conn: Connection) -> None:
    """A COMMIT that failed (a deferred constraint) leaves SQLite's transaction open, and SQLAlchemy either still
    holds its transaction object or considers it over; either way the connection's next BEGIN would fail, and every
    transaction after it."""
    transaction = conn.get_transaction()
    if transaction is not None:
        transaction.rollback()
    driver = conn.connection.driver_connection
    if driver is not None and driver.in_transaction:
        driver.rollback()


def _resolve(job: _Job[Any], outcome: _Outcome) -> None:
    if job.future.done():  # its caller was cancelled while the transaction ran
        return
    if isinstance(outcome.error, asyncio.CancelledError):
        job.future.cancel()
    elif outcome.error is not None:
        job.future.set_exception(outcome.error)
    else:
        job.future.set_result(outcome.value)


class SqliteWriter:
    def __init__(self, url: str) -> None:
        self._engine: Engine = create_engine(url.replace("sqlite+aiosqlite", "sqlite+pysqlite"), poolclass=None)
        event.listen(self._engine, "connect", sqlite_on_connect)
        event.listen(self._engine, "begin", sqlite_on_begin)
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._conn: Connection | None = None
        self._turns = WriteTurns(url)  # other processes on the same file (see write_turns.py)
        # One transaction at a time on the one connection: coroutines of this process queue here.
        self.lock = asyncio.Lock()
        self._waiting: list[_Job[Any]] = []
        self._drainer: asyncio.Task[None] | None = None
        self.groups_committed = 0  # commits shared by more than one job; written on the writer thread only

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self._engine.connect().execution_options(sqlite_immediate=True)
        return self._conn

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def run(self, work: Callable[[Any], Awaitable[T]], make_tx: Callable[[Any], Any]) -> T:
        """`work(tx)` inside one transaction, all on the writer thread; possibly sharing its COMMIT with others."""
        if not self.lock.locked() and not self._waiting and (self._drainer is None or self._drainer.done()):
            # Nobody to share a commit with: straight to the thread, without the queue's extra hops. Whoever
            # comes meanwhile queues up and shares the next commit.
            async with self.lock:
                outcome = await self.call(self._run_alone, work, make_tx)
            if outcome.error is not None:
                raise outcome.error
            return outcome.value  # type: ignore[no-any-return]
        loop = asyncio.get_running_loop()
        job: _Job[T] = _Job(work, make_tx, loop.create_future())
        self._waiting.append(job)
        if self._drainer is None or self._drainer.done():
            self._drainer = loop.create_task(self._drain())
        return await job.future

    async def _drain(self) -> None:
        """Hands the waiting jobs to the writer thread, as many as are waiting at a time, until none are left."""
        group: list[_Job[Any]] = []
        try:
            while self._waiting:
                async with self.lock:
                    group = [job for job in self._waiting[:MAX_GROUP] if not job.future.cancelled()]
                    del self._waiting[:MAX_GROUP]
                    if not group:
                        continue
                    try:
                        outcomes = await self.call(self._run_group, group)
                    except Exception as exc:  # the connection itself failed, so every member did
                        outcomes = [_Outcome(error=exc)] * len(group)
                for job, outcome in zip(group, outcomes, strict=True):
                    _resolve(job, outcome)
                group = []
        except BaseException as exc:
            # Whatever stopped the drain (the task cancelled at shutdown): nobody may wait forever, and nobody
            # who did not get a result was told anything was stored.
            for job in [*group, *self._waiting]:
                _resolve(job, _Outcome(error=exc))
            self._waiting.clear()
            raise

    def _run_group(self, group: list[_Job[Any]]) -> list[_Outcome]:
        if len(group) == 1:
            return [self._run_alone(group[0].work, group[0].make_tx)]
        conn = self._connection()
        outcomes: list[_Outcome] = []
        self._turns.take()
        try:
            with conn.begin():
                # Savepoints are said to the driver directly: through SQLAlchemy each one is a statement compiled
                # anew, which cost more than the member's own statements.
                driver = conn.connection.driver_connection
                assert driver is not None
                for job in group:
                    driver.execute("SAVEPOINT intake")
                    try:
                        value = _run_work(job.work, job.make_tx, conn)
                    except Exception as exc:
                        # Fails when SQLite has already rolled back the whole transaction (disk full, I/O
                        # error): then the next member must not run, its writes would be committed at once.
                        driver.execute("ROLLBACK TO SAVEPOINT intake")
                        driver.execute("RELEASE SAVEPOINT intake")
                        outcomes.append(_Outcome(error=exc))
                    else:
                        driver.execute("RELEASE SAVEPOINT intake")
                        outcomes.append(_Outcome(value=value))
        except Exception:
            _end_failed_transaction(conn)
            self._turns.give_back()
            # Nothing of the shared transaction is stored. A member that had failed keeps its own exception
            # (it would have failed alone as well); every other member gets the outcome it gets alone.
            failed = [outcome if outcome.error is not None else None for outcome in outcomes]
            failed += [None] * (len(group) - len(failed))
            return [
                outcome or self._run_alone(job.work, job.make_tx) for job, outcome in zip(group, failed, strict=True)
            ]
        finally:
            self._turns.give_back()
        self.groups_committed += 1
        return outcomes

    def _run_alone(self, work: Callable[[Any], Awaitable[Any]], make_tx: Callable[[Any], Any]) -> _Outcome:
        conn = self._connection()
        self._turns.take()
        try:
            with conn.begin():
                value = _run_work(work, make_tx, conn)
        except Exception as exc:
            _end_failed_transaction(conn)
            return _Outcome(error=exc)
        finally:
            self._turns.give_back()
        return _Outcome(value=value)

    async def begin(self) -> _FromLoop:
        """Starts a transaction for code on the event loop; the caller holds `lock` until commit or rollback."""
        conn = await self.call(self._connection)
        await self.call(self._begin_in_turn, conn)
        return _FromLoop(self, conn)

    def _begin_in_turn(self, conn: Connection) -> None:
        self._turns.take()
        try:
            conn.begin()
        except Exception:
            self._turns.give_back()
            raise

    async def end(self, *, commit: bool) -> None:
        def finish() -> None:
            conn = self._connection()
            transaction = conn.get_transaction()
            try:
                if transaction is not None:
                    transaction.commit() if commit else transaction.rollback()
            except Exception:
                _end_failed_transaction(conn)
                raise
            finally:
                self._turns.give_back()

        await self.call(finish)

    async def close(self) -> None:
        if self._drainer is not None and not self._drainer.done():
            await asyncio.wait([self._drainer])  # the transactions already handed over finish first

        def dispose() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._engine.dispose()
            self._turns.close()

        await self.call(dispose)
        self._executor.shutdown(wait=True)
