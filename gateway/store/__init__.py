"""The store: one interface over SQLite and PostgreSQL (SQLAlchemy Core, async)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.errors import StoreUnavailable
from gateway.store import migrate
from gateway.store.engine import create_engine
from gateway.store.sqlite_writer import SqliteWriter
from gateway.store.writes import RequestRef, WriteTx

T = TypeVar("T")

__all__ = ["RequestRef", "Store", "WriteTx"]


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.backend = engine.dialect.name  # "sqlite" or "postgresql"
        # SQLite has one writer at a time. Writers of one process queue on the writer's lock instead of inside
        # SQLite's busy handler, which sleeps in steps of up to 100 ms and turns contention into seconds of
        # latency; other processes are still kept apart by SQLite's own file lock.
        self._writer = (
            SqliteWriter(engine.url.render_as_string(hide_password=False)) if self.backend == "sqlite" else None
        )

    @classmethod
    async def open(cls, url: str, *, upgrade: bool = True, pg_schema: str | None = None) -> Store:
        store = cls(create_engine(url, pg_schema=pg_schema))
        if upgrade:
            await store.upgrade()
        return store

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer.close()
        await self.engine.dispose()

    async def upgrade(self) -> None:
        try:
            async with self.engine.begin() as conn:
                await conn.run_sync(migrate.upgrade)
        except (OperationalError, OSError) as exc:
            raise StoreUnavailable(f"cannot migrate the database: {exc}") from exc

    async def ready(self) -> bool:
        """Reachable and at the newest migration."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
                return await conn.run_sync(migrate.is_current)
        except (DBAPIError, OSError):
            return False

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[WriteTx]:
        """One write transaction; committed when the block ends, rolled back on any exception."""
        if self._writer is None:
            async with self.engine.connect() as conn, conn.begin():
                yield WriteTx(conn)
            return
        async with self._writer.lock:
            on_writer = await self._writer.begin()
            try:
                yield WriteTx(on_writer)
            except BaseException:
                await asyncio.shield(self._writer.end(commit=False))
                raise
            await self._writer.end(commit=True)

    async def run_in_transaction(self, work: Callable[[WriteTx], Awaitable[T]]) -> T:
        """`work(tx)` in one write transaction. On SQLite the whole of it runs as one hop on the writer thread, so
        `work` may await only the store (which it does: the pipeline's steps), and it may share its COMMIT with
        other such transactions that waited meanwhile (it returns only after that COMMIT). Because `work` can
        be run again (when a shared transaction fails, each member is retried alone), it must act only on the
        store."""
        if self._writer is None:
            async with self.transaction() as tx:
                return await work(tx)
        return await self._writer.run(work, WriteTx)

    @property
    def shared_commits(self) -> int:
        """How many SQLite commits carried more than one transaction (group commit at work); 0 on PostgreSQL."""
        return 0 if self._writer is None else self._writer.groups_committed

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn
