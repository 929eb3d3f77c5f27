"""SQLite writes on one dedicated thread with one synchronous connection.

Why: through aiosqlite every statement costs about four hops between the event loop and a driver thread, and an
intake is a dozen statements, so most of an intake's time was spent handing work back and forth. Here a whole
intake transaction runs as one hop (`run`), and an ad-hoc transaction costs one hop per statement (`begin`).

Code written for the async store runs unchanged: it awaits `conn.execute(...)` on an adapter. Inside `run`, that
await completes at once (the statement already ran on this thread), so the coroutine is driven to its end without
an event loop; a step that awaited real I/O there would be a bug, and raises.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Dialect, Engine, Row

from gateway.store.engine import sqlite_on_begin, sqlite_on_connect

T = TypeVar("T")


class _Scalars(list[Any]):
    """First columns of the rows, with `.all()` as SQLAlchemy's ScalarResult has it."""

    def all(self) -> list[Any]:
        return list(self)


class BufferedResult:
    """The rows and row count of one statement, read completely on the writer thread."""

    def __init__(self, rows: Sequence[Row[Any]], rowcount: int) -> None:
        self._rows = list(rows)
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Row[Any]]:
        return iter(self._rows)

    def all(self) -> list[Row[Any]]:
        return list(self._rows)

    def first(self) -> Row[Any] | None:
        return self._rows[0] if self._rows else None

    def one(self) -> Row[Any]:
        if len(self._rows) != 1:
            raise LookupError(f"expected exactly one row, got {len(self._rows)}")
        return self._rows[0]

    def one_or_none(self) -> Row[Any] | None:
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
    result = conn.execute(statement, parameters) if parameters is not None else conn.execute(statement)
    rows = result.all() if result.returns_rows else []
    return BufferedResult(rows, result.rowcount)


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


class SqliteWriter:
    def __init__(self, url: str) -> None:
        self._engine: Engine = create_engine(url.replace("sqlite+aiosqlite", "sqlite+pysqlite"), poolclass=None)
        event.listen(self._engine, "connect", sqlite_on_connect)
        event.listen(self._engine, "begin", sqlite_on_begin)
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._conn: Connection | None = None
        # One transaction at a time on the one connection: coroutines of this process queue here.
        self.lock = asyncio.Lock()

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self._engine.connect().execution_options(sqlite_immediate=True)
        return self._conn

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def run(self, work: Callable[[Any], Awaitable[T]], make_tx: Callable[[Any], Any]) -> T:
        """`work(tx)` inside one transaction, all on the writer thread."""

        def on_thread() -> T:
            conn = self._connection()
            with conn.begin():
                return _drive(work(make_tx(_OnThread(conn))))  # type: ignore[arg-type]

        async with self.lock:
            return await self.call(on_thread)

    async def begin(self) -> _FromLoop:
        """Starts a transaction for code on the event loop; the caller holds `lock` until commit or rollback."""
        conn = await self.call(self._connection)
        await self.call(conn.begin)
        return _FromLoop(self, conn)

    async def end(self, *, commit: bool) -> None:
        def finish() -> None:
            conn = self._connection()
            transaction = conn.get_transaction()
            if transaction is not None:
                transaction.commit() if commit else transaction.rollback()

        await self.call(finish)

    async def close(self) -> None:
        def dispose() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._engine.dispose()

        await self.call(dispose)
        self._executor.shutdown(wait=True)
