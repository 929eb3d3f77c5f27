"""The service workflow: allowed and refused moves, the delivery clock of each level, moves on each backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from gateway.contracts.levels import default_levels
from gateway.contracts.workflow import Clocks, Move, Refusal, move_state, plan_move
from gateway.intake import Created
from gateway.pipeline import submit
from gateway.steps import PipelineDeps
from gateway.store import tables as t
from tests.conftest import FixedClock
from tests.test_pipeline import email, simple_mail

WARSAW = ZoneInfo("Europe/Warsaw")
LEVELS = default_levels()


def warsaw(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WARSAW)


# Hand-checked: 2026-11-11 (Wed) and 2026-12-24/25 are Polish holidays; summer time ends 2026-10-25 03:00.
DELIVERY_CASES = [
    # level, verified at (Warsaw), delivery due (Warsaw)
    ("NBD_AHR", warsaw(2026, 11, 20, 16, 30), warsaw(2026, 11, 23, 17, 0)),  # Friday 16:30 -> Monday 17:00
    ("NBD_AHR", warsaw(2026, 11, 20, 18, 0), warsaw(2026, 11, 24, 17, 0)),  # after hours: deemed Monday -> Tuesday
    ("AHB_8X5_NBD", warsaw(2026, 11, 10, 16, 30), warsaw(2026, 11, 12, 17, 0)),  # the day before 11 November
    ("SOS_8X5_NBD", warsaw(2026, 12, 23, 16, 30), warsaw(2026, 12, 28, 17, 0)),  # before Christmas Eve
    ("NBD_ONSITE", warsaw(2026, 11, 21, 3, 0), warsaw(2026, 11, 24, 17, 0)),  # Saturday night -> Mon -> Tue
    ("AHB_24X7_NBD", warsaw(2026, 11, 21, 23, 30), warsaw(2026, 11, 22, 7, 30)),  # Saturday night, 8 h elapsed
    ("SOS_24X7_NBD", warsaw(2026, 12, 23, 22, 0), warsaw(2026, 12, 24, 6, 0)),  # holidays do not stop 24x7
    ("4H_AHR", warsaw(2026, 11, 20, 16, 30), warsaw(2026, 11, 20, 20, 30)),
    ("4H_ONSITE", datetime(2026, 10, 24, 21, 0, tzinfo=UTC), datetime(2026, 10, 25, 1, 0, tzinfo=UTC)),  # DST night
]


@pytest.mark.parametrize(("level", "verified_at", "expected"), DELIVERY_CASES)
def test_verification_starts_the_delivery_clock_of_the_level(
    level: str, verified_at: datetime, expected: datetime
) -> None:
    move = plan_move(Clocks("acknowledged", level), "verified", now=verified_at, level=LEVELS[level])
    assert isinstance(move, Move)
    assert move.changes["verified_at"] == verified_at
    due = move.changes["delivery_due"]
    # Compared in UTC: datetimes in a zone's ambiguous hour never compare equal across zones (PEP 495).
    assert due is not None and due.astimezone(UTC) == expected.astimezone(UTC)


def test_the_night_across_the_clock_change_is_four_real_hours() -> None:
    due = LEVELS["4H_ONSITE"].delivery_due(warsaw(2026, 10, 24, 23, 0))  # 23:00 CEST
    assert due is not None and due.astimezone(WARSAW).isoformat() == "2026-10-25T02:00:00+01:00"


def test_levels_without_hardware_or_unknown_have_no_delivery_clock() -> None:
    tac = plan_move(Clocks("received", "TAC_OS"), "verified", now=warsaw(2026, 11, 20, 10), level=LEVELS["TAC_OS"])
    unknown = plan_move(Clocks("received", None), "verified", now=warsaw(2026, 11, 20, 10), level=None)
    assert isinstance(tac, Move) and isinstance(unknown, Move)
    assert tac.changes["delivery_due"] is None and unknown.changes["delivery_due"] is None


def test_delivery_starts_the_seven_day_return_clock() -> None:
    now = warsaw(2026, 11, 23, 12, 0)
    move = plan_move(Clocks("dispatched", "NBD_AHR"), "delivered", now=now, level=LEVELS["NBD_AHR"])
    assert isinstance(move, Move)
    assert move.changes == {"delivered_at": now, "return_due": now + timedelta(days=7)}
    assert all(value is not None and value.tzinfo is UTC for value in move.changes.values())


@pytest.mark.parametrize(
    ("current", "to_state", "reason"),
    [
        ("received", "delivered", "cannot be delivered before it is verified"),
        ("acknowledged", "dispatched", "cannot be dispatched before it is verified"),
        ("delivered", "closed", "cannot be closed before the failed device is returned"),
        ("verified", "verified", "already verified"),
        ("closed", "rejected", "the request is closed; nothing follows"),
        ("rejected", "verified", "the request is rejected"),
        ("verified", "delivered", "allowed: closed, dispatched, rejected"),
        ("received", "lost", "unknown state 'lost'"),
    ],
)
def test_illegal_moves_are_refused_with_a_reason(current: str, to_state: str, reason: str) -> None:
    refused = plan_move(Clocks(current, "NBD_AHR"), to_state, now=warsaw(2026, 11, 20, 10), level=LEVELS["NBD_AHR"])
    assert isinstance(refused, Refusal)
    assert reason in refused.reason


def test_no_dispatch_under_a_level_without_hardware() -> None:
    refused = plan_move(Clocks("verified", "TAC_OS"), "dispatched", now=warsaw(2026, 11, 20), level=LEVELS["TAC_OS"])
    assert isinstance(refused, Refusal) and "TAC_OS" in refused.reason


@pytest.mark.parametrize("current", ["received", "acknowledged", "verified", "dispatched", "delivered", "returned"])
def test_rejected_from_any_open_state(current: str) -> None:
    assert isinstance(plan_move(Clocks(current, None), "rejected", now=warsaw(2026, 11, 20), level=None), Move)


# -- on the store --------------------------------------------------------------------------------------------------
async def stored_request(deps: PipelineDeps, level: str | None = "NBD_AHR") -> str:
    outcome = await submit(email(simple_mail()), deps)
    assert isinstance(outcome, Created)
    async with deps.store.transaction() as tx:
        await tx.conn.execute(
            update(t.requests).where(t.requests.c.reference == outcome.reference).values(service_level=level)
        )
    return outcome.reference


async def test_moves_update_the_request_and_record_events(deps: PipelineDeps, clock: FixedClock) -> None:
    reference = await stored_request(deps)
    verified_at = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)  # Friday 16:30 Warsaw
    steps = [
        ("verified", verified_at),
        ("dispatched", verified_at + timedelta(hours=1)),
        ("delivered", verified_at + timedelta(days=3)),
        ("returned", verified_at + timedelta(days=6)),
        ("closed", verified_at + timedelta(days=7)),
    ]
    for state, at in steps:
        result = await move_state(
            deps.store, reference, state, actor="a.nowak", note=f"to {state}", now=at, levels=LEVELS
        )
        assert result.outcome == "moved", result.reason
    async with deps.store.reading() as conn:
        row = (await conn.execute(select(t.requests).where(t.requests.c.reference == reference))).one()
        events = [
            e.detail
            for e in await conn.execute(select(t.events).where(t.events.c.kind == "state").order_by(t.events.c.id))
        ]
    assert row.status == "closed"
    assert row.delivery_due.replace(tzinfo=UTC) == warsaw(2026, 11, 23, 17, 0)
    assert row.return_due.replace(tzinfo=UTC) == verified_at + timedelta(days=10)
    assert [(e["from"], e["to"], e["note"]) for e in events] == [
        ("received", "verified", "to verified"),
        ("verified", "dispatched", "to dispatched"),
        ("dispatched", "delivered", "to delivered"),
        ("delivered", "returned", "to returned"),
        ("returned", "closed", "to closed"),
    ]
    assert events[0]["delivery_due"] == warsaw(2026, 11, 23, 17, 0).astimezone(UTC).isoformat()


async def test_refused_and_unknown_moves_change_nothing(deps: PipelineDeps, clock: FixedClock) -> None:
    reference = await stored_request(deps)
    refused = await move_state(deps.store, reference, "delivered", actor="x", note="", now=clock(), levels=LEVELS)
    missing = await move_state(deps.store, "HZ-2026-999999", "verified", actor="x", note="", now=clock(), levels=LEVELS)
    assert (refused.outcome, refused.reason) == ("refused", "cannot be delivered before it is verified")
    assert missing.outcome == "not_found"
    async with deps.store.reading() as conn:
        status = (await conn.execute(select(t.requests.c.status))).scalar_one()
        moves = (await conn.execute(select(t.events).where(t.events.c.kind == "state"))).all()
    assert (status, moves) == ("received", [])
