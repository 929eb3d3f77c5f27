"""The SQLite writer's direct statements store and return exactly what SQLAlchemy's own execution does."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError, StatementError

import gateway.store.sqlite_writer as writer_module
from gateway.pipeline import submit
from gateway.steps import PipelineDeps
from gateway.store import Store, WriteTx
from gateway.store import tables as t
from gateway.store.blobs import BlobStore
from gateway.store.sqlite_direct import direct_statement, prepared
from gateway.store.writes import _INSERT, _INSERT_RETURNING_ID, _REQUESTS_BY_THREAD_IDS
from tests.test_pipeline import NOW, email, mail_with_attachments, simple_mail

WARSAW_SUMMER = timezone(timedelta(hours=2))


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    yield store
    await store.close()


def deterministic_uuids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated Message-IDs would differ between the two stores compared."""
    counter: Iterator[int] = itertools.count(1)
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=next(counter)))


async def everything_stored(store: Store) -> dict[str, list[dict[str, Any]]]:
    async with store.reading() as conn:
        return {
            table.name: [dict(row._mapping) for row in await conn.execute(select(table).order_by(*table.primary_key))]
            for table in t.metadata.sorted_tables
        }


async def intake_scenario(store: Store, data: Path) -> list[object]:
    deps = PipelineDeps(
        store=store,
        blobs=BlobStore(data),
        own_addresses=frozenset({"pomoc@myhezo.pl", "escalation@myhezo.pl"}),
        ack_domain="myhezo.pl",
        escalation_notify=("eskalacje@myhezo.pl",),
        clock=lambda: NOW,
    )
    first = simple_mail(**{", umowa serwisowa nr 40027719": ""})
    follow_up = simple_mail(
        **{
            "Subject: ": "Subject: Re: [HZ-2026-000001] ",
            "abc123": "reply1",
            "S/N: 2214G-00417, umowa serwisowa nr 40027719": "Numer umowy: 40031862",
        }
    )
    intakes = [
        email(first),
        email(first),  # a duplicate
        email(follow_up, "escalation"),  # completes and escalates the first request
        email(mail_with_attachments(["log.txt", "photo.jpg"]).replace(b"abc123", b"attach1")),
        email(simple_mail(abc123="other2"), "escalation"),
    ]
    return [await submit(intake, deps) for intake in intakes]


async def test_intakes_stored_directly_read_back_as_when_sqlalchemy_runs_every_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results: dict[str, tuple[list[object], dict[str, list[dict[str, Any]]]]] = {}
    for way in ("direct", "sqlalchemy"):
        deterministic_uuids(monkeypatch)
        if way == "sqlalchemy":
            monkeypatch.setattr(writer_module, "direct_statement", lambda *_: None)
        store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / way / 'gateway.db'}")
        try:
            outcomes = await intake_scenario(store, tmp_path / way / "data")
            results[way] = (outcomes, await everything_stored(store))
        finally:
            await store.close()
    direct, through_sqlalchemy = results["direct"], results["sqlalchemy"]
    assert direct[1]["requests"], "the scenario stored nothing: the comparison would prove nothing"
    assert len(direct[1]["events"]) > len(direct[1]["requests"])  # follow-up and escalation were recorded
    assert direct == through_sqlalchemy


async def test_values_are_converted_by_the_column_types_both_ways(sqlite_store: Store) -> None:
    """An aware non-UTC time goes in as UTC and comes back aware; JSON and bytes survive; RETURNING gives the id."""
    received = datetime(2026, 7, 1, 12, 30, 15, 123456, tzinfo=WARSAW_SUMMER)
    envelope = {"rcpt": ["pomoc@myhezo.pl"], "peer": ["127.0.0.1", 25], "nazwa": "Łódź"}

    async def work(tx: WriteTx) -> int:
        return await tx.insert_raw(
            channel="email", mailbox="pomoc", received_at=received, content=b"\x00\xff raw", sha256="a" * 64,
            envelope=envelope,
        )  # fmt: skip

    raw_id = await sqlite_store.run_in_transaction(work)
    stored = (await everything_stored(sqlite_store))["raw_inputs"]
    assert [(row["id"], row["received_at"], row["envelope"], row["content"]) for row in stored] == [
        (raw_id, received.astimezone(UTC), envelope, b"\x00\xff raw")
    ]
    assert stored[0]["received_at"].tzinfo is UTC


async def test_in_lists_of_any_length_find_the_same_rows(sqlite_store: Store) -> None:
    async def work(tx: WriteTx) -> list[str | None]:
        raw_id = await tx.insert_raw(
            channel="email", mailbox="pomoc", received_at=NOW, content=b"x", sha256="b" * 64, envelope={}
        )
        found = []
        for number in (1, 2):
            row = _request_row(f"HZ-2026-00000{number}", raw_id) | {"escalation": number == 2, "data": {"n": number}}
            request_id = await tx.insert_request(row)
            await tx.remember_thread_id(f"id{number}@example.pl", request_id, "in")
        for ids in (["id2@example.pl"], ["nope@x", "id1@example.pl", "id2@example.pl"], []):
            ref = await tx.request_by_thread_ids(ids)
            found.append(ref.reference if ref else None)
        state = await tx.request_state(2)
        assert state.escalation is True and state.data == {"n": 2}
        return found

    assert await sqlite_store.run_in_transaction(work) == ["HZ-2026-000002", "HZ-2026-000001", None]


async def test_a_duplicate_raises_sqlalchemys_integrity_error_and_a_naive_time_its_statement_error(
    sqlite_store: Store,
) -> None:
    async def duplicate_reference(tx: WriteTx) -> None:
        raw_id = await tx.insert_raw(
            channel="email", mailbox="pomoc", received_at=NOW, content=b"x", sha256="b" * 64, envelope={}
        )
        for external_id in ("one", "two"):
            row = _request_row("HZ-2026-000009", raw_id) | {"external_id": external_id}
            await tx.conn.execute(_INSERT_RETURNING_ID[t.requests], row)

    with pytest.raises(IntegrityError):
        await sqlite_store.run_in_transaction(duplicate_reference)

    async def naive(tx: WriteTx) -> None:
        await tx.insert_raw(
            channel="email", mailbox="pomoc", received_at=datetime(2026, 1, 1), content=b"", sha256="", envelope={}
        )

    with pytest.raises(StatementError, match="naive datetime"):
        await sqlite_store.run_in_transaction(naive)
    stored = await everything_stored(sqlite_store)
    assert stored["requests"] == [] and stored["raw_inputs"] == []


def _request_row(reference: str, raw_id: int) -> dict[str, Any]:
    return {
        "reference": reference, "channel": "email", "mailbox": "pomoc", "external_id": reference, "status": "new",
        "escalation": False, "priority": "normal", "auto_submitted": False, "received_at": NOW, "updated_at": NOW,
        "raw_input_id": raw_id, "data": {},
    }  # fmt: skip


def test_only_prepared_statements_with_plain_parameters_run_directly() -> None:
    dialect = sqlite.dialect()
    built_per_call = select(t.requests.c.id).where(t.requests.c.reference == "HZ-2026-000001")
    assert direct_statement(built_per_call, {}, dialect) is None
    # the outbox's `attempts` has a Python-side default: left out, SQLAlchemy must fill it in
    assert direct_statement(_INSERT[t.outbox], [{"request_id": 1, "kind": "ack_email"}], dialect) is None
    # an empty IN list is a special expression SQLAlchemy renders itself
    assert direct_statement(_REQUESTS_BY_THREAD_IDS, {"ids": []}, dialect) is None
    direct = direct_statement(_REQUESTS_BY_THREAD_IDS, {"ids": ["a", "b", "c"]}, dialect)
    assert direct is not None and direct.sql.count("?") == 3
    mark_me = prepared(insert(t.events).values(kind=bindparam("k")))
    assert direct_statement(mark_me, {"k": "x", "request_id": 1}, dialect) is not None
