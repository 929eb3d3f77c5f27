"""Shared fixtures: a store on each backend, pipeline dependencies, system-component gating."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from gateway.steps import PipelineDeps
from gateway.store import Store
from gateway.store.blobs import BlobStore
from tests.support.dovecot import dovecot, dovecot_mailbox
from tests.support.postfix import make_postfix_relay
from tests.support.system import skip_or_fail

__all__ = ["dovecot", "dovecot_mailbox", "make_postfix_relay"]

DEFAULT_TEST_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"


def postgres_url() -> str:
    return os.environ.get("HEZO_TEST_DATABASE_URL", DEFAULT_TEST_POSTGRES)


async def postgres_admin(url: str) -> asyncpg.Connection:
    """A plain asyncpg connection to the test server; skips (or fails under CI) when it cannot be reached."""
    try:
        return await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        skip_or_fail(f"PostgreSQL not reachable at {url}: {exc}")


async def _postgres_schema(url: str) -> str:
    """A fresh schema for one test."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    conn = await postgres_admin(url)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()
    return schema


async def _drop_schema(url: str, schema: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
    try:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.system)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A migrated, empty store on each backend."""
    if request.param == "sqlite":
        opened = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
        yield opened
        await opened.close()
        return
    url = postgres_url()
    schema = await _postgres_schema(url)
    opened = await Store.open(url, pg_schema=schema)
    try:
        yield opened
    finally:
        await opened.close()
        await _drop_schema(url, schema)


class FixedClock:
    """An injected clock: tests move time by hand instead of sleeping."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def deps(store: Store, tmp_path: Path, clock: FixedClock) -> PipelineDeps:
    return PipelineDeps(
        store=store,
        blobs=BlobStore(tmp_path / "data"),
        own_addresses=frozenset({"pomoc@myhezo.pl", "escalation@myhezo.pl"}),
        ack_domain="myhezo.pl",
        escalation_notify=("eskalacje@myhezo.pl",),
        clock=clock,
    )
