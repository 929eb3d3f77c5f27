"""Named queries of the web doors: agent accounts, login attempts, first contact and its audit event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store import tables as t
from gateway.store.reads import utc


@dataclass(frozen=True)
class Agent:
    id: int
    name: str
    display_name: str
    password_hash: str
    active: bool


async def agent_by_name(conn: AsyncConnection, name: str) -> Agent | None:
    query = select(
        t.agents.c.id, t.agents.c.name, t.agents.c.display_name, t.agents.c.password_hash, t.agents.c.active
    ).where(t.agents.c.name == name)
    row = (await conn.execute(query)).first()
    return Agent(row.id, row.name, row.display_name, row.password_hash, row.active) if row else None


async def add_agent(conn: AsyncConnection, name: str, display_name: str, password_hash: str, at: datetime) -> bool:
    """False when the name is taken (the caller's transaction is then unusable and must be rolled back)."""
    try:
        await conn.execute(
            insert(t.agents).values(
                name=name, display_name=display_name, password_hash=password_hash, active=True, created_at=at
            )
        )
    except IntegrityError:
        return False
    return True


async def set_agent_password(conn: AsyncConnection, name: str, password_hash: str) -> bool:
    result = await conn.execute(update(t.agents).where(t.agents.c.name == name).values(password_hash=password_hash))
    return result.rowcount == 1


async def record_login_attempt(
    conn: AsyncConnection, keys: tuple[str, ...], at: datetime, succeeded: bool, *, forget_before: datetime
) -> None:
    """Records one attempt under each key and forgets attempts older than `forget_before`: only the rate-limit
    window is ever asked about, and without forgetting the table would grow with every login for ever."""
    await conn.execute(delete(t.login_attempts).where(t.login_attempts.c.at < forget_before))
    await conn.execute(insert(t.login_attempts), [{"key": key, "at": at, "succeeded": succeeded} for key in keys])


async def revoke_session(conn: AsyncConnection, sid: str, expires_at: datetime, *, now: datetime) -> None:
    """Ends a session for every copy of its cookie (logout). Revocations of sessions that have expired by now are
    forgotten: their cookies are refused anyway, and the table would otherwise grow with every logout."""
    await conn.execute(delete(t.revoked_sessions).where(t.revoked_sessions.c.expires_at < now))
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = dialect_insert(t.revoked_sessions).on_conflict_do_nothing()  # a second logout of the same session
    await conn.execute(statement, {"sid": sid, "expires_at": expires_at})


async def session_revoked(conn: AsyncConnection, sid: str) -> bool:
    query = select(t.revoked_sessions.c.sid).where(t.revoked_sessions.c.sid == sid)
    return (await conn.execute(query)).first() is not None


async def failed_logins_since(conn: AsyncConnection, key: str, since: datetime) -> int:
    """Failures for one key ("agent:<name>" or "addr:<ip>") inside the window, counted across every process."""
    query = (
        select(func.count())
        .select_from(t.login_attempts)
        .where(t.login_attempts.c.key == key, t.login_attempts.c.at >= since, t.login_attempts.c.succeeded.is_(False))
    )
    return int((await conn.execute(query)).scalar_one())


@dataclass(frozen=True)
class FirstContact:
    reference: str
    first_contact_at: datetime
    recorded_now: bool
    """False when an earlier first contact was kept (the action is idempotent)."""


async def record_first_contact(
    conn: AsyncConnection, reference: str, at: datetime, actor: str, note: str = ""
) -> FirstContact | None:
    """Sets first_contact_at once and adds a `contact` event; None for an unknown reference."""
    row = (
        await conn.execute(
            select(t.requests.c.id, t.requests.c.first_contact_at).where(t.requests.c.reference == reference)
        )
    ).first()
    if row is None:
        return None
    # The IS NULL guard makes two simultaneous clicks (or an API retry) keep the first time, whichever process wins.
    changed = await conn.execute(
        update(t.requests)
        .where(t.requests.c.id == row.id, t.requests.c.first_contact_at.is_(None))
        .values(first_contact_at=at, updated_at=at)
    )
    if changed.rowcount == 1:
        await conn.execute(
            insert(t.events).values(request_id=row.id, at=at, actor=actor, kind="contact", detail={"note": note})
        )
        return FirstContact(reference, at, True)
    kept = (await conn.execute(select(t.requests.c.first_contact_at).where(t.requests.c.id == row.id))).scalar_one()
    return FirstContact(reference, utc(kept) or at, False)


async def events_of(conn: AsyncConnection, reference: str) -> list[dict[str, object]]:
    query = (
        select(t.events.c.at, t.events.c.actor, t.events.c.kind, t.events.c.detail)
        .join(t.requests, t.requests.c.id == t.events.c.request_id)
        .where(t.requests.c.reference == reference)
        .order_by(t.events.c.id)
    )
    return [{"at": utc(r.at), "actor": r.actor, "kind": r.kind, "detail": r.detail} for r in await conn.execute(query)]
