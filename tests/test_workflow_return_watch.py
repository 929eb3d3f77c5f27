"""The 7-day return clock driven by the injected clock: day-5 reminder, day-8 overdue flag, each raised once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from gateway.ack import AckContext
from gateway.contracts.levels import default_levels
from gateway.contracts.notices import render_return_overdue, render_return_reminder
from gateway.contracts.return_watch import check_returns
from gateway.contracts.workflow import move_state
from gateway.schema import ServiceRequest
from gateway.steps import PipelineDeps
from gateway.store import tables as t
from tests.test_workflow import stored_request

LEVELS = default_levels()
DELIVERED = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
NOTIFY = ["desk@myhezo.pl"]


async def delivered_request(deps: PipelineDeps) -> str:
    reference = await stored_request(deps)
    for state, at in (("verified", DELIVERED - timedelta(days=1)), ("dispatched", DELIVERED - timedelta(hours=20))):
        await move_state(deps.store, reference, state, actor="t", note="", now=at, levels=LEVELS)
    await move_state(deps.store, reference, "delivered", actor="t", note="", now=DELIVERED, levels=LEVELS)
    return reference


async def outbox_rows(deps: PipelineDeps, kind: str) -> list[dict[str, object]]:
    async with deps.store.reading() as conn:
        query = select(t.outbox).where(t.outbox.c.kind == kind).order_by(t.outbox.c.id)
        return [dict(r._mapping) for r in await conn.execute(query)]


async def test_reminder_on_day_five_and_overdue_on_day_eight_each_once(deps: PipelineDeps) -> None:
    reference = await delivered_request(deps)
    assert await check_returns(deps.store, now=DELIVERED + timedelta(days=4, hours=23), notify=NOTIFY) == []
    day5 = DELIVERED + timedelta(days=5)
    assert await check_returns(deps.store, now=day5, notify=NOTIFY) == [(reference, "return_reminder")]
    assert await check_returns(deps.store, now=day5 + timedelta(hours=1), notify=NOTIFY) == []
    assert await check_returns(deps.store, now=DELIVERED + timedelta(days=7, hours=23), notify=NOTIFY) == []
    day8 = DELIVERED + timedelta(days=8)
    assert await check_returns(deps.store, now=day8, notify=NOTIFY) == [(reference, "return_overdue")]
    assert await check_returns(deps.store, now=day8 + timedelta(days=3), notify=NOTIFY) == []

    [reminder] = await outbox_rows(deps, "return_reminder")
    [overdue] = await outbox_rows(deps, "return_overdue")
    assert reminder["recipient"] == "jan.kowalski@example.pl"
    assert reminder["payload"] == {
        "return_due": (DELIVERED + timedelta(days=7)).isoformat(),
        "delivered_at": DELIVERED.isoformat(),
    }
    assert str(reminder["message_id"]).startswith(f"{reference}.")
    assert overdue["recipient"] == "desk@myhezo.pl"
    async with deps.store.reading() as conn:
        request = (await conn.execute(select(t.requests))).one()
        kinds = [e.kind for e in await conn.execute(select(t.events).order_by(t.events.c.id))]
    assert request.return_reminded_at is not None and request.return_overdue_at is not None
    assert kinds[-2:] == ["return_reminder", "return_overdue"]


async def test_a_returned_device_stops_the_clock(deps: PipelineDeps) -> None:
    reference = await delivered_request(deps)
    returned_at = DELIVERED + timedelta(days=2)
    await move_state(deps.store, reference, "returned", actor="t", note="", now=returned_at, levels=LEVELS)
    assert await check_returns(deps.store, now=DELIVERED + timedelta(days=30), notify=NOTIFY) == []


def ack_context() -> AckContext:
    request = ServiceRequest.model_validate(
        {
            "channel": "email",
            "received_at": "2026-11-20T09:00:00Z",
            "language": "pl",
            "serial_numbers": ["2214G-00417"],
            "reporter": {"name": "Jan Kowalski", "email": "jan.kowalski@example.pl"},
        }
    )
    return AckContext.from_request(request, reference="HZ-2026-000001", response_due=None, window="8x5")


def test_reminder_mail_names_reference_serials_bill_of_lading_and_due_date() -> None:
    message = render_return_reminder(
        ack_context(),
        return_due=DELIVERED + timedelta(days=7),
        delivered_at=DELIVERED,
        from_address="pomoc@myhezo.pl",
        to_address="jan.kowalski@example.pl",
        message_id="HZ-2026-000001.abc@myhezo.pl",
        date=DELIVERED + timedelta(days=5),
    )
    body = message.get_content()
    assert message["Subject"].startswith("[HZ-2026-000001] Przypomnienie")
    assert message["Auto-Submitted"] == "auto-generated"
    assert "2214G-00417" in body
    assert "opłaconego listu przewozowego" in body
    assert "w ciągu 7 dni" in body
    assert "poniedziałek, 30.11.2026, 12:00" in body  # the due date in Warsaw time


def test_reminder_in_english_and_the_desk_notice() -> None:
    ctx = AckContext(**{**ack_context().__dict__, "language": "en"})
    due = DELIVERED + timedelta(days=7)
    reminder = render_return_reminder(
        ctx,
        return_due=due,
        delivered_at=DELIVERED,
        from_address="pomoc@myhezo.pl",
        to_address="jan.kowalski@example.pl",
        message_id="<a@myhezo.pl>",
        date=DELIVERED,
    )
    assert "prepaid bill of lading" in reminder.get_content()
    notice = render_return_overdue(
        ctx,
        return_due=due,
        delivered_at=DELIVERED,
        from_address="pomoc@myhezo.pl",
        to_addresses=NOTIFY,
        message_id="<b@myhezo.pl>",
        date=DELIVERED,
    )
    assert notice["Subject"] == "[HZ-2026-000001] Zwrot uszkodzonego urządzenia po terminie"
    assert "2214G-00417" in notice.get_content()
