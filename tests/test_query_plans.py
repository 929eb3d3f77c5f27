"""Queries that run all the time read a few rows through an index, never a whole table that only grows.

On SQLite every statement of a few intakes (new, duplicate, follow-up) is traced on the writer's connection and
its plan checked; the SLA watch's search and the acknowledgement rate limit are checked on both databases
(PostgreSQL told to avoid sequential scans where it can, since on a table of a few rows it rightly prefers one).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from gateway.config import Settings, StorageSettings
from gateway.contracts import return_watch
from gateway.intake import Created, Duplicate, FollowUp, RawIntake
from gateway.outbox.sla_watch import awaiting_first_contact
from gateway.service import Gateway
from gateway.store import Store, reads
from gateway.store import tables as t
from gateway.store.engine import sqlite_on_connect
from gateway.store.writes import _RECENT_OUTBOX

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def mail(number: int, *, reply_to: int | None = None) -> bytes:
    thread = f"In-Reply-To: <report-{reply_to}@example.pl>\r\n" if reply_to is not None else ""
    return (
        f"From: Jan {number} <jan{number}@example.pl>\r\nTo: pomoc@myhezo.pl\r\nSubject: Awaria {number}\r\n"
        f"Message-ID: <report-{number}@example.pl>\r\n{thread}\r\nS/N 2214G-00417, umowa 40027719.\r\n"
    ).encode()


@pytest.fixture
async def traced_intakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Path, list[str]]]:
    statements: list[str] = []

    def tracing(connection: sqlite3.Connection, record: Any) -> None:
        sqlite_on_connect(connection, record)
        connection.set_trace_callback(statements.append)

    monkeypatch.setattr("gateway.store.sqlite_writer.sqlite_on_connect", tracing)
    database = tmp_path / "gateway.db"
    store = await Store.open(f"sqlite+aiosqlite:///{database}")
    gateway = Gateway(settings=Settings(storage=StorageSettings(dir=tmp_path / "data")), store=store)
    try:
        intakes = [mail(1), mail(2), mail(1), mail(3, reply_to=1)]
        outcomes = [await gateway.submit(RawIntake("email", raw, NOW, "pomoc", {})) for raw in intakes]
    finally:
        await store.close()
    assert [type(outcome) for outcome in outcomes] == [Created, Created, Duplicate, FollowUp]
    yield database, statements


async def test_no_statement_of_an_intake_reads_a_whole_table(traced_intakes: tuple[Path, list[str]]) -> None:
    database, statements = traced_intakes
    queries = {s for s in statements if s.split(None, 1)[0].upper() in ("SELECT", "UPDATE", "DELETE", "INSERT")}
    assert any("FROM outbox" in query for query in queries)  # the rate limit was among them
    with sqlite3.connect(database) as connection:
        scans = {
            query: steps
            for query in queries
            if (steps := [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {query}")])
            and any(step.startswith("SCAN") and "INDEX" not in step for step in steps)
        }
    assert scans == {}


async def explain(store: Store, statement: ClauseElement) -> str:
    async with store.reading() as conn:
        compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        assert isinstance(compiled, SQLCompiler)
        params = compiled.construct_params()
        values = tuple(params[name] for name in compiled.positiontup or ())
        if store.backend == "postgresql":
            await conn.exec_driver_sql("SET enable_seqscan = off")
            rows = await conn.exec_driver_sql(f"EXPLAIN {compiled}", values)
            plan = "\n".join(str(row[0]) for row in rows)
            await conn.exec_driver_sql("RESET enable_seqscan")
            return plan
        stringified = tuple(value.isoformat() if isinstance(value, datetime) else value for value in values)
        rows = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", stringified)
        return "\n".join(str(tuple(row)[3]) for row in rows)


async def test_the_sla_watch_reads_only_requests_awaiting_a_first_contact(store: Store) -> None:
    for marker in (t.requests.c.sla_warned_at, t.requests.c.sla_breached_at):
        plan = await explain(store, awaiting_first_contact(marker, NOW + timedelta(minutes=15)))
        assert "ix_requests_awaiting_first_contact" in plan, plan


async def test_the_acknowledgement_rate_limit_reads_the_recipients_rows_only(store: Store) -> None:
    statement = _RECENT_OUTBOX.params(kind="ack_email", recipient="jan@example.pl", since=NOW - timedelta(hours=1))
    plan = await explain(store, statement)
    assert "ix_outbox_recipient_kind_created" in plan, plan


@pytest.mark.parametrize("stage", return_watch.STAGES, ids=lambda stage: stage.kind)
async def test_the_return_watch_reads_only_delivered_requests(store: Store, stage: return_watch.ReturnStage) -> None:
    plan = await explain(store, return_watch.due_for(stage, NOW))
    assert "ix_requests_status_return_due" in plan, plan


@pytest.mark.parametrize(
    ("channel", "mailbox", "index"),
    [
        (None, None, "ix_requests_open"),
        (None, "pomoc", "ix_requests_open"),
        ("email", None, "ix_requests_open_by_channel"),
        ("email", "escalation", "ix_requests_open_by_channel"),
    ],
)
async def test_the_desks_open_list_reads_only_open_requests(
    store: Store, channel: str | None, mailbox: str | None, index: str
) -> None:
    plan = await explain(store, reads.request_list_query(reads.RequestFilter("open", channel, mailbox)))
    assert index in plan, plan
    if store.backend == "sqlite":
        assert "TEMP B-TREE" not in plan, plan  # read newest first from the index, not gathered and sorted
