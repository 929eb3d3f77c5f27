"""Named queries of the IMAP door: the per-account cursor in `imap_state`, the refresh token an XOAUTH2 provider
rotated (`oauth_refresh_tokens`), and the election of one poller per account.

Election: on PostgreSQL several gateway processes share one database, and two pollers on one mailbox would fetch
every message twice (harmless thanks to dedupe, but wasted work and a race on the MOVE). Each account is guarded
by a session-level advisory lock taken with `pg_try_advisory_lock` on a connection of its own, held for as long as
the poller runs: the lock ends with the session, so a process that dies releases it without anyone's help. SQLite
is one node, so there is nobody to elect against.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.errors import StoreError
from gateway.store import Store
from gateway.store import tables as t

# Keeps our advisory-lock keys apart from any other user of advisory locks in the same database.
_LOCK_NAMESPACE = b"hezo-gateway/imap-poller/"


@dataclass(frozen=True)
class ImapCursor:
    """Where a poller stands in one folder: UIDs mean something only together with their UIDVALIDITY."""

    uidvalidity: int
    last_uid: int
    """Highest UID committed and moved out of the folder (0 after a UIDVALIDITY change)."""


async def load_cursor(store: Store, account: str) -> ImapCursor | None:
    query = select(t.imap_state.c.uidvalidity, t.imap_state.c.last_uid).where(t.imap_state.c.account == account)
    try:
        async with store.reading() as conn:
            row = (await conn.execute(query)).first()
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"imap state not read: {exc}") from exc
    if row is None or row.uidvalidity is None:
        return None
    return ImapCursor(int(row.uidvalidity), int(row.last_uid or 0))


async def _save_account_row(store: Store, table: Table, account: str, changes: dict[str, Any]) -> None:
    """Insert the account's row of `table`, or update it with `changes` when there is one already."""
    values = {"account": account, **changes}
    async with store.transaction() as tx:
        dialect_insert = postgresql.insert if tx.dialect == "postgresql" else sqlite.insert
        upsert = dialect_insert(table).values(values).on_conflict_do_update(index_elements=["account"], set_=changes)
        await tx.conn.execute(upsert)


async def save_cursor(store: Store, account: str, cursor: ImapCursor, at: datetime) -> None:
    changes = {"uidvalidity": cursor.uidvalidity, "last_uid": cursor.last_uid, "updated_at": at}
    try:
        await _save_account_row(store, t.imap_state, account, changes)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"imap state not saved: {exc}") from exc


async def load_refresh_token(store: Store, account: str, configured_sha256: str) -> str | None:
    """The rotated refresh token of `account`, if it descends from the refresh token configured now.

    A row saved under another configured token is ignored: the operator put a new refresh token in the
    configuration since (after a revoked grant, say), and theirs wins over one derived from the old grant.
    """
    columns = t.oauth_refresh_tokens.c
    query = select(columns.refresh_token).where(
        columns.account == account, columns.configured_sha256 == configured_sha256
    )
    try:
        async with store.reading() as conn:
            token = (await conn.execute(query)).scalar_one_or_none()
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"oauth refresh token not read: {exc}") from exc
    return str(token) if token else None


async def save_refresh_token(
    store: Store, account: str, configured_sha256: str, refresh_token: str, at: datetime
) -> None:
    changes = {"configured_sha256": configured_sha256, "refresh_token": refresh_token, "updated_at": at}
    try:
        await _save_account_row(store, t.oauth_refresh_tokens, account, changes)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"oauth refresh token not saved: {_without_parameters(exc)}") from exc


def _without_parameters(error: Exception) -> str:
    """The driver's message alone: SQLAlchemy's own text quotes the statement's parameters, which here include a
    refresh token, and the message ends up in the logs."""
    if isinstance(error, StatementError) and error.orig is not None:
        return f"{type(error.orig).__name__}: {error.orig}"
    return str(error)


def advisory_lock_key(account: str) -> int:
    """A stable signed 64-bit key per account (Python's hash() changes between processes)."""
    digest = hashlib.sha256(_LOCK_NAMESPACE + account.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PollerLease:
    """The right to poll one account. `held` is false when another process polls it."""

    def __init__(self, held: bool, conn: AsyncConnection | None = None) -> None:
        self.held = held
        self._conn = conn

    async def alive(self) -> bool:
        """Still ours: the session that holds the lock answers (a session-level lock lives as long as it does)."""
        if self._conn is None:
            return self.held
        try:
            await self._conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError):
            return False
        return True


@asynccontextmanager
async def poller_lease(store: Store, account: str) -> AsyncIterator[PollerLease]:
    """Try once to become the poller of `account`; released when the block ends. Raises StoreError when the
    database cannot be asked (the caller retries later)."""
    if store.backend != "postgresql":
        yield PollerLease(held=True)
        return
    key = advisory_lock_key(account)
    try:
        conn = await store.engine.connect()
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"no connection for the imap election: {exc}") from exc
    try:
        # Autocommit: the lock belongs to the session, and an idle open transaction held for hours would keep
        # PostgreSQL from cleaning up old row versions.
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        held = bool((await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})).scalar_one())
    except (SQLAlchemyError, OSError) as exc:
        await conn.invalidate()
        await conn.close()
        raise StoreError(f"imap election failed: {exc}") from exc
    try:
        yield PollerLease(held, conn if held else None)
    finally:
        await _release(conn, key, held)


async def _release(conn: AsyncConnection, key: int, held: bool) -> None:
    try:
        if held:
            await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    except (SQLAlchemyError, OSError):
        # The session must not go back to the pool still holding the lock: end it, which releases the lock.
        await conn.invalidate()
    finally:
        await conn.close()
