"""Store contract: the same tests on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from gateway.store import Store
from gateway.store import tables as t
from tests.conftest import REPO_ROOT, _drop_schema, _postgres_schema, postgres_url

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


async def test_migrations_create_exactly_the_declared_tables(store: Store) -> None:
    async with store.reading() as conn:
        diffs = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), t.metadata))
    assert diffs == []
    assert await store.ready()


async def test_references_increase_within_a_year_and_restart_in_the_next(store: Store) -> None:
    async with store.transaction() as tx:
        first = [await tx.allocate_reference(2026) for _ in range(3)]
        other_year = await tx.allocate_reference(2027)
    assert first == ["HZ-2026-000001", "HZ-2026-000002", "HZ-2026-000003"]
    assert other_year == "HZ-2027-000001"


async def test_a_failed_transaction_leaves_nothing_behind(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            reference = await tx.allocate_reference(2026)
            raw_id = await tx.insert_raw(
                channel="email", mailbox="pomoc", received_at=NOW, content=b"x", sha256="0" * 64, envelope={}
            )
            await tx.insert_request(
                dict(
                    reference=reference,
                    channel="email",
                    mailbox="pomoc",
                    external_id="a",
                    status="received",
                    escalation=False,
                    priority="normal",
                    auto_submitted=False,
                    received_at=NOW,
                    updated_at=NOW,
                    raw_input_id=raw_id,
                    data={},
                )
            )
            raise RuntimeError("crash between writes")
    async with store.reading() as conn:
        assert (await conn.execute(select(func.count()).select_from(t.raw_inputs))).scalar_one() == 0
        assert (await conn.execute(select(func.count()).select_from(t.requests))).scalar_one() == 0
    async with store.transaction() as tx:
        assert await tx.allocate_reference(2026) == "HZ-2026-000001"  # the rolled-back number is given back


async def test_concurrent_transactions_in_one_process_never_share_a_number(store: Store) -> None:
    async def allocate() -> str:
        async with store.transaction() as tx:
            return await tx.allocate_reference(2026)

    numbers = await asyncio.gather(*(allocate() for _ in range(40)))
    assert sorted(numbers) == [f"HZ-2026-{n:06d}" for n in range(1, 41)]


_ALLOCATOR = """
import asyncio, json, sys
from gateway.store import Store
async def main(url, schema, count):
    store = await Store.open(url, upgrade=False, pg_schema=schema or None)
    refs = []
    for _ in range(count):
        async with store.transaction() as tx:
            refs.append(await tx.allocate_reference(2026))
    await store.close()
    print(json.dumps(refs))
asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


def _allocate_in_processes(url: str, schema: str, processes: int, each: int) -> list[str]:
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _ALLOCATOR, url, schema, str(each)], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
        )
        for _ in range(processes)
    ]
    results: list[str] = []
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        results += json.loads(out)
    return results


@pytest.mark.system
async def test_eight_processes_on_postgresql_never_get_the_same_number() -> None:
    url = postgres_url()
    schema = await _postgres_schema(url)
    try:
        store = await Store.open(url, pg_schema=schema)
        await store.close()
        refs = await asyncio.to_thread(_allocate_in_processes, url, schema, 8, 25)
    finally:
        await _drop_schema(url, schema)
    assert len(refs) == 200
    assert sorted(refs) == [f"HZ-2026-{n:06d}" for n in range(1, 201)]


async def test_several_processes_on_sqlite_never_get_the_same_number(tmp_path: object) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/refs.db"
    store = await Store.open(url)
    await store.close()
    refs = await asyncio.to_thread(_allocate_in_processes, url, "", 4, 25)
    assert sorted(refs) == [f"HZ-2026-{n:06d}" for n in range(1, 101)]


async def test_timestamps_in_any_zone_come_back_as_the_same_instant_in_utc(store: Store) -> None:
    from zoneinfo import ZoneInfo

    warsaw = datetime(2026, 7, 1, 16, 30, tzinfo=ZoneInfo("Europe/Warsaw"))
    async with store.transaction() as tx:
        await tx.insert_raw(
            channel="phone", mailbox=None, received_at=warsaw, content=b"{}", sha256="0" * 64, envelope={}
        )
    async with store.reading() as conn:
        stored = (await conn.execute(select(t.raw_inputs.c.received_at))).scalar_one()
    assert stored == warsaw
    assert stored.utcoffset() == timedelta(0)
    assert stored.hour == 14
