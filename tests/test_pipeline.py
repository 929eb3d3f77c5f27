"""The intake pipeline end to end on each backend: store, dedupe, follow-ups, outbox rows, quarantine."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, select

from gateway import pipeline, steps
from gateway.errors import StoreError
from gateway.intake import Created, Duplicate, FollowUp, Outcome, Quarantined, RawIntake
from gateway.pipeline import submit
from gateway.quarantine import retry
from gateway.steps import Intake, PipelineDeps
from gateway.store import reads
from gateway.store import tables as t

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
WAIT_S = 10.0


def email(content: bytes, mailbox: str = "pomoc") -> RawIntake:
    return RawIntake(
        channel="email",
        content=content,
        received_at=NOW,
        mailbox=mailbox,  # type: ignore[arg-type]
        envelope={"door": "test"},
    )


def simple_mail(**replace: str) -> bytes:
    raw = (DATA / "simple.eml").read_bytes()
    for old, new in replace.items():
        raw = raw.replace(old.encode(), new.encode())
    return raw


async def rows(deps: PipelineDeps, table: Table) -> list[dict[str, Any]]:
    async with deps.store.reading() as conn:
        return [dict(r._mapping) for r in await conn.execute(select(table).order_by(*table.primary_key))]


async def test_new_mail_is_stored_with_its_raw_bytes_and_one_acknowledgement(deps: PipelineDeps) -> None:
    raw = simple_mail()
    outcome = await submit(email(raw), deps)
    assert outcome == Created("HZ-2026-000001", ())
    [stored_raw] = await rows(deps, t.raw_inputs)
    assert stored_raw["content"] == raw
    [request] = await rows(deps, t.requests)
    assert request["data"]["serial_numbers"] == ["2214G-00417"]
    assert request["data"]["reference"] == "HZ-2026-000001"
    [ack] = await rows(deps, t.outbox)
    assert (ack["kind"], ack["recipient"], ack["status"]) == ("ack_email", "jan.kowalski@example.pl", "pending")
    assert ack["message_id"].endswith("@myhezo.pl")


async def test_same_message_twice_is_one_request(deps: PipelineDeps) -> None:
    first = await submit(email(simple_mail()), deps)
    again = await submit(email(b"Received: from relay by mx\r\n" + simple_mail()), deps)  # another door's trace
    assert isinstance(first, Created)
    assert again == Duplicate(first.reference)
    assert len(await rows(deps, t.requests)) == 1
    assert len(await rows(deps, t.outbox)) == 1


async def test_reused_message_id_with_another_body_is_a_new_request(deps: PipelineDeps) -> None:
    await submit(email(simple_mail()), deps)
    other = await submit(email(simple_mail(**{"nie uruchamia": "restartuje"})), deps)
    assert other == Created("HZ-2026-000002", ())


async def test_mails_without_message_id_are_never_merged(deps: PipelineDeps) -> None:
    raw = simple_mail(**{"Message-ID: <abc123@example.pl>\n": ""})
    assert await submit(email(raw), deps) == Created("HZ-2026-000001", ())
    assert await submit(email(raw), deps) == Created("HZ-2026-000002", ())


async def test_reply_with_subject_tag_is_a_follow_up(deps: PipelineDeps) -> None:
    await submit(email(simple_mail()), deps)
    reply = simple_mail(**{"Subject: ": "Subject: Re: [HZ-2026-000001] ", "abc123": "reply1"})
    assert await submit(email(reply), deps) == FollowUp("HZ-2026-000001")
    assert len(await rows(deps, t.requests)) == 1
    kinds = [m["kind"] for m in await rows(deps, t.messages)]
    assert kinds == ["initial", "follow_up"]


async def test_reply_to_our_acknowledgement_message_id_is_a_follow_up(deps: PipelineDeps) -> None:
    await submit(email(simple_mail()), deps)
    [ack] = await rows(deps, t.outbox)
    reply = simple_mail(**{"abc123": "reply2", "Date:": f"In-Reply-To: <{ack['message_id']}>\nDate:"})
    assert await submit(email(reply), deps) == FollowUp("HZ-2026-000001")


async def test_follow_up_to_escalation_escalates_the_request_once(deps: PipelineDeps) -> None:
    await submit(email(simple_mail()), deps)
    reply = simple_mail(**{"Subject: ": "Subject: Re: [HZ-2026-000001] ", "abc123": "esc1"})
    assert await submit(email(reply, mailbox="escalation"), deps) == FollowUp("HZ-2026-000001", escalated=True)
    again = simple_mail(**{"Subject: ": "Subject: Re: [HZ-2026-000001] ", "abc123": "esc2"})
    assert await submit(email(again, mailbox="escalation"), deps) == FollowUp("HZ-2026-000001", escalated=False)
    [request] = await rows(deps, t.requests)
    assert (request["escalation"], request["priority"]) == (True, "high")
    notices = [r for r in await rows(deps, t.outbox) if r["kind"] == "escalation_email"]
    assert [n["recipient"] for n in notices] == ["eskalacje@myhezo.pl"]


async def test_auto_reply_is_stored_but_not_acknowledged(deps: PipelineDeps) -> None:
    raw = simple_mail(**{"MIME-Version": "Auto-Submitted: auto-replied\nMIME-Version"})
    assert isinstance(await submit(email(raw), deps), Created)
    assert await rows(deps, t.outbox) == []
    [event] = await rows(deps, t.events)
    assert event["detail"]["skipped_acks"] == ["auto_submitted"]


async def test_own_address_is_never_acknowledged(deps: PipelineDeps) -> None:
    raw = simple_mail(**{"jan.kowalski@example.pl": "pomoc@myhezo.pl"})
    await submit(email(raw), deps)
    assert await rows(deps, t.outbox) == []


async def test_sender_over_the_rate_limit_gets_no_more_acknowledgements(deps: PipelineDeps) -> None:
    limited = PipelineDeps(**{**deps.__dict__, "ack_rate_limit_per_hour": 2})
    for n in range(4):
        await submit(email(simple_mail(abc123=f"loop{n}")), limited)
    assert len(await rows(deps, t.outbox)) == 2
    assert [e["detail"]["skipped_acks"] for e in await rows(deps, t.events)][-1] == ["rate_limited"]


async def test_a_new_request_says_how_many_outbox_rows_it_queued(deps: PipelineDeps) -> None:
    limited = PipelineDeps(**{**deps.__dict__, "ack_rate_limit_per_hour": 1})
    queued = []
    for n, mailbox in enumerate(["pomoc", "pomoc", "escalation"]):
        outcome = await submit(email(simple_mail(abc123=f"q{n}"), mailbox), limited)
        assert isinstance(outcome, Created)
        queued.append(outcome.queued)
    auto = simple_mail(**{"MIME-Version": "Auto-Submitted: auto-replied\nMIME-Version", "abc123": "auto"})
    outcome = await submit(email(auto), limited)
    assert isinstance(outcome, Created)
    # the acknowledgement; none (rate limit); the escalation team's notice only (rate limit); none (automatic mail)
    assert [*queued, outcome.queued] == [1, 0, 1, 0]
    assert len(await rows(deps, t.outbox)) == 2


async def test_unparseable_input_is_quarantined_and_can_be_replayed(deps: PipelineDeps) -> None:
    broken = RawIntake(channel="portal", content=b'{"submission_id": "P-1", ', received_at=NOW)
    outcome = await submit(broken, deps)
    assert isinstance(outcome, Quarantined) and outcome.quarantine_id > 0
    assert "JSON" in outcome.error
    assert "still cannot be parsed" in await retry(deps, outcome.quarantine_id)
    async with deps.store.transaction() as tx:  # a person repairs the held input, then replays it
        await tx.conn.execute(
            t.quarantine.update().values(
                content=json.dumps({"submission_id": "P-1", "description": "S/N 2214G-00417"}).encode()
            )
        )
    assert await retry(deps, outcome.quarantine_id) == "stored as HZ-2026-000001"
    async with deps.store.reading() as conn:
        assert await reads.quarantined(conn) == []


async def test_broken_store_raises_store_error_and_stores_nothing(deps: PipelineDeps) -> None:
    async with deps.store.transaction() as tx:
        await tx.conn.execute(t.outbox.delete())
        await tx.conn.exec_driver_sql("DROP TABLE outbox")
    try:
        await submit(email(simple_mail()), deps)
    except StoreError as exc:
        assert "not stored" in str(exc)
    else:
        raise AssertionError("expected StoreError")
    assert await rows(deps, t.requests) == []
    assert await rows(deps, t.raw_inputs) == []


async def test_reply_with_the_missing_contract_completes_the_request(deps: PipelineDeps) -> None:
    first = simple_mail(**{", umowa serwisowa nr 40027719": ""})
    assert await submit(email(first), deps) == Created("HZ-2026-000001", ("contract_number",))
    reply = simple_mail(
        **{
            "Subject: ": "Subject: Re: [HZ-2026-000001] ",
            "abc123": "reply3",
            "S/N: 2214G-00417, umowa serwisowa nr 40027719": "Numer umowy: 40031862",
        }
    )
    assert await submit(email(reply), deps) == FollowUp("HZ-2026-000001")
    [request] = await rows(deps, t.requests)
    assert request["data"]["contract_numbers"] == ["40031862"]
    assert request["data"]["missing"] == []


def mail_with_attachments(names: list[str]) -> bytes:
    parts = "".join(
        f"--b1\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename={name}\n"
        f"Content-Transfer-Encoding: base64\n\n{base64.b64encode(name.encode() * 20).decode()}\n"
        for name in names
    )
    return (
        simple_mail(**{"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n": ""})
        .replace(b"MIME-Version: 1.0\n", b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b1"\n\n')
        .replace(b"\n\nDzie", b"--b1\nContent-Type: text/plain; charset=utf-8\n\nS/N: 2214G-00999\nDzie", 1)
        + f"\n{parts}--b1--\n".encode()
    )


async def test_every_attachment_serial_and_thread_id_of_a_new_mail_is_stored(deps: PipelineDeps) -> None:
    raw = mail_with_attachments(["log.txt", "photo.jpg", "config.cfg"])
    assert await submit(email(raw), deps) == Created("HZ-2026-000001", ())
    [message] = await rows(deps, t.messages)
    attachments = await rows(deps, t.attachments)
    assert [a["filename"] for a in attachments] == ["log.txt", "photo.jpg", "config.cfg"]
    assert {a["message_row_id"] for a in attachments} == {message["id"]}
    assert sorted(s["serial"] for s in await rows(deps, t.request_serials)) == ["2214G-00417", "2214G-00999"]
    [ack] = await rows(deps, t.outbox)
    threads = {r["message_id"]: r["direction"] for r in await rows(deps, t.thread_ids)}
    assert threads == {"abc123@example.pl": "in", ack["message_id"]: "out"}
    assert [e["kind"] for e in await rows(deps, t.events)] == ["created"]


async def test_follow_up_that_completes_and_escalates_changes_the_request_in_one_go(deps: PipelineDeps) -> None:
    first = simple_mail(**{", umowa serwisowa nr 40027719": ""})
    assert await submit(email(first), deps) == Created("HZ-2026-000001", ("contract_number",))
    reply = simple_mail(
        **{
            "Subject: ": "Subject: Re: [HZ-2026-000001] ",
            "abc123": "reply4",
            "S/N: 2214G-00417, umowa serwisowa nr 40027719": "S/N: 2214G-00418. Numer umowy: 40031862",
        }
    )
    outcome = await submit(email(reply, mailbox="escalation"), deps)
    assert outcome == FollowUp("HZ-2026-000001", escalated=True)
    [request] = await rows(deps, t.requests)
    assert (request["escalation"], request["priority"]) == (True, "high")
    assert request["data"]["escalation"] is True
    assert request["data"]["serial_numbers"] == ["2214G-00417", "2214G-00418"]
    assert (request["data"]["contract_numbers"], request["data"]["missing"]) == (["40031862"], [])
    assert sorted(s["serial"] for s in await rows(deps, t.request_serials)) == ["2214G-00417", "2214G-00418"]
    kinds = [e["kind"] for e in await rows(deps, t.events)]
    assert kinds == ["created", "follow_up", "identifiers_completed", "escalated"]
    notices = [r for r in await rows(deps, t.outbox) if r["kind"] == "escalation_email"]
    assert [n["recipient"] for n in notices] == ["eskalacje@myhezo.pl"]


def large_mail(message_id: str) -> bytes:
    """A mail above PREPARE_IN_THREAD_FROM_BYTES: a report with a text log attached."""
    log = b"".join(b"port 1:%d link down\r\n" % n for n in range(pipeline.PREPARE_IN_THREAD_FROM_BYTES // 20 + 1))
    return (
        (
            f"From: Jan <jan@example.pl>\r\nTo: pomoc@myhezo.pl\r\nSubject: Awaria\r\nMessage-ID: <{message_id}>\r\n"
            'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            "Content-Type: text/plain\r\n\r\nS/N 2214G-00417, umowa 40027719\r\n--b\r\nContent-Type: text/plain\r\n"
            'Content-Disposition: attachment; filename="log.txt"\r\n\r\n'
        ).encode()
        + log
        + b"--b--\r\n"
    )


async def test_a_large_input_is_prepared_off_the_event_loop_while_small_ones_go_on(
    deps: PipelineDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared_in: dict[bytes, threading.Thread] = {}
    large_started, release_large = threading.Event(), threading.Event()

    def parse_recording_its_thread(intake: Intake, deps: PipelineDeps) -> Intake | Outcome:
        prepared_in[intake.raw.content] = threading.current_thread()
        if len(intake.raw.content) >= pipeline.PREPARE_IN_THREAD_FROM_BYTES:
            large_started.set()
            assert release_large.wait(WAIT_S)
        return steps.parse_input(intake, deps)

    monkeypatch.setattr(pipeline, "PREPARE", (parse_recording_its_thread, *pipeline.PREPARE[1:]))
    large, small = large_mail("large@example.pl"), simple_mail()
    large_intake = asyncio.ensure_future(submit(email(large), deps))
    try:
        assert await asyncio.to_thread(large_started.wait, WAIT_S)
        # The large mail's parse is held: the loop still takes, stores and answers a small one.
        assert await asyncio.wait_for(submit(email(small), deps), WAIT_S) == Created("HZ-2026-000001", ())
    finally:
        release_large.set()
    assert isinstance(await asyncio.wait_for(large_intake, WAIT_S), Created)
    loop_thread = threading.current_thread()
    assert prepared_in[small] is loop_thread and prepared_in[large] is not loop_thread
    [log] = [a for a in (await rows(deps, t.attachments)) if a["filename"] == "log.txt"]
    assert deps.blobs.get(log["sha256"]).startswith(b"port 1:0 link down")
