"""The request-window calendar, checked by hand against a 2026 wall calendar and by properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.sla import (
    WARSAW,
    Window,
    due,
    format_rfc3339,
    in_window,
    is_business_day,
    next_business_day_end,
    service_period,
    warsaw_wall_time_to_utc,
)

# (case, received_at, window, hours, expected deadline as printed by the CLI)
DUE_CASES: list[tuple[str, str, Window, float | timedelta, str]] = [
    ("inside hours", "2026-11-24T10:15:00+01:00", "8x5", 1, "2026-11-24T11:15:00+01:00"),
    ("ends exactly at closing", "2026-11-24T16:00:00+01:00", "8x5", 1, "2026-11-24T17:00:00+01:00"),
    ("weekday evening", "2026-11-23T20:00:00+01:00", "8x5", 1, "2026-11-24T10:00:00+01:00"),
    ("early morning", "2026-11-24T07:10:00+01:00", "8x5", 1, "2026-11-24T10:00:00+01:00"),
    ("received at closing time", "2026-11-24T17:00:00+01:00", "8x5", 1, "2026-11-25T10:00:00+01:00"),
    ("weekday 16:30", "2026-11-24T16:30:00+01:00", "8x5", 1, "2026-11-25T09:30:00+01:00"),
    ("Friday 16:30", "2026-11-27T16:30:00+01:00", "8x5", 1, "2026-11-30T09:30:00+01:00"),
    ("Friday 20:00", "2026-11-27T20:00:00+01:00", "8x5", 1, "2026-11-30T10:00:00+01:00"),
    ("Saturday", "2026-11-28T11:00:00+01:00", "8x5", 1, "2026-11-30T10:00:00+01:00"),
    ("given in UTC", "2026-11-24T09:15:00Z", "8x5", 1, "2026-11-24T11:15:00+01:00"),
    ("23 Dec 16:30, then 24-26 Dec", "2026-12-23T16:30:00+01:00", "8x5", 1, "2026-12-28T09:30:00+01:00"),
    ("24 Dec 2024 was a working day", "2024-12-23T16:30:00+01:00", "8x5", 1, "2024-12-24T09:30:00+01:00"),
    ("New Year's Day", "2025-12-31T16:30:00+01:00", "8x5", 1, "2026-01-02T09:30:00+01:00"),
    ("Epiphany", "2026-01-05T16:30:00+01:00", "8x5", 1, "2026-01-07T09:30:00+01:00"),
    ("Easter Monday 2026", "2026-04-03T16:30:00+02:00", "8x5", 1, "2026-04-07T09:30:00+02:00"),
    ("1 May 2026 is a Friday", "2026-04-30T16:30:00+02:00", "8x5", 1, "2026-05-04T09:30:00+02:00"),
    ("3 May 2027 is a Monday", "2027-04-30T16:30:00+02:00", "8x5", 1, "2027-05-04T09:30:00+02:00"),
    ("Corpus Christi 2026", "2026-06-03T16:30:00+02:00", "8x5", 1, "2026-06-05T09:30:00+02:00"),
    ("11 November", "2026-11-10T20:00:00+01:00", "8x5", 1, "2026-11-12T10:00:00+01:00"),
    ("received on 11 November", "2026-11-11T10:00:00+01:00", "8x5", 1, "2026-11-12T10:00:00+01:00"),
    ("spring DST weekend", "2026-03-27T16:30:00+01:00", "8x5", 1, "2026-03-30T09:30:00+02:00"),
    ("spring DST night", "2026-03-29T02:30:00+01:00", "8x5", 1, "2026-03-30T10:00:00+02:00"),
    ("autumn DST weekend", "2026-10-23T16:30:00+02:00", "8x5", 1, "2026-10-26T09:30:00+01:00"),
    ("autumn DST, second 02:30", "2026-10-25T02:30:00+01:00", "8x5", 1, "2026-10-26T10:00:00+01:00"),
    ("16 h across 11 November", "2026-11-09T10:00:00+01:00", "8x5", 16, "2026-11-12T10:00:00+01:00"),
    ("16 h across Christmas", "2026-12-23T16:30:00+01:00", "8x5", 16, "2026-12-29T16:30:00+01:00"),
    ("40 h = five full days", "2026-11-27T17:30:00+01:00", "8x5", 40, "2026-12-04T17:00:00+01:00"),
    ("timedelta of 90 minutes", "2026-11-24T16:00:00+01:00", "8x5", timedelta(minutes=90), "2026-11-25T09:30:00+01:00"),
    ("zero hours outside", "2026-11-28T11:00:00+01:00", "8x5", 0, "2026-11-30T09:00:00+01:00"),
    ("24x7 evening", "2026-11-27T20:00:00+01:00", "24x7", 1, "2026-11-27T21:00:00+01:00"),
    ("24x7 on a holiday", "2026-12-24T23:30:00+01:00", "24x7", 1, "2026-12-25T00:30:00+01:00"),
    ("24x7 received 02:30 spring night", "2026-03-29T02:30:00+01:00", "24x7", 1, "2026-03-29T04:30:00+02:00"),
    ("24x7 across spring DST", "2026-03-29T01:30:00+01:00", "24x7", 1, "2026-03-29T03:30:00+02:00"),
    ("24x7 across autumn DST", "2026-10-25T01:30:00+02:00", "24x7", 2, "2026-10-25T02:30:00+01:00"),
    ("24x7 multi-day", "2026-12-23T16:30:00+01:00", "24x7", 72, "2026-12-26T16:30:00+01:00"),
]


@pytest.mark.parametrize(
    ("received_at", "window", "hours", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in DUE_CASES],
)
def test_due_matches_hand_checked_calendar(
    received_at: str, window: Window, hours: float | timedelta, expected: str
) -> None:
    deadline = due(datetime.fromisoformat(received_at), window, hours)
    assert format_rfc3339(deadline) == expected
    assert deadline.tzinfo == WARSAW


def test_nonexistent_local_time_built_with_zoneinfo() -> None:
    # 02:30 on 29 March 2026 never shows on a Warsaw clock; zoneinfo takes it with the winter offset (01:30 UTC).
    received = datetime(2026, 3, 29, 2, 30, tzinfo=WARSAW)
    assert format_rfc3339(due(received, "24x7", 1)) == "2026-03-29T04:30:00+02:00"


def test_ambiguous_local_time_uses_its_fold() -> None:
    first = datetime(2026, 10, 25, 2, 30, tzinfo=WARSAW)
    second = first.replace(fold=1)
    assert format_rfc3339(due(first, "24x7", 1)) == "2026-10-25T02:30:00+01:00"
    assert format_rfc3339(due(second, "24x7", 1)) == "2026-10-25T03:30:00+01:00"


def test_wall_time_resolution_at_dst_changes() -> None:
    assert warsaw_wall_time_to_utc(date(2026, 3, 29), time(2, 30)) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert warsaw_wall_time_to_utc(date(2026, 10, 25), time(2, 30)) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    opens, closes = service_period(date(2026, 3, 30))
    assert (opens, closes) == (datetime(2026, 3, 30, 7, tzinfo=UTC), datetime(2026, 3, 30, 15, tzinfo=UTC))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 24), True),
        (date(2026, 11, 28), False),  # Saturday
        (date(2026, 12, 24), False),  # Christmas Eve, a holiday from 2025
        (date(2024, 12, 24), True),
        (date(2026, 4, 6), False),  # Easter Monday
        (date(2026, 6, 4), False),  # Corpus Christi
        (date(2026, 8, 14), True),
        (date(2026, 8, 15), False),  # Assumption Day (a Saturday in 2026, a holiday anyway)
    ],
)
def test_is_business_day(day: date, expected: bool) -> None:
    assert is_business_day(day) is expected


@pytest.mark.parametrize(
    ("t", "window", "expected"),
    [
        ("2026-11-24T09:00:00+01:00", "8x5", True),
        ("2026-11-24T16:59:59+01:00", "8x5", True),
        ("2026-11-24T17:00:00+01:00", "8x5", False),
        ("2026-11-24T08:59:59+01:00", "8x5", False),
        ("2026-11-24T08:30:00Z", "8x5", True),  # 09:30 in Warsaw
        ("2026-12-24T10:00:00+01:00", "8x5", False),
        ("2026-12-24T10:00:00+01:00", "24x7", True),
    ],
)
def test_in_window(t: str, window: Window, expected: bool) -> None:
    assert in_window(datetime.fromisoformat(t), window) is expected


@pytest.mark.parametrize(
    ("start", "window", "expected"),
    [
        ("2026-11-24T10:00:00+01:00", "8x5", "2026-11-25T17:00:00+01:00"),
        ("2026-11-27T16:00:00+01:00", "8x5", "2026-11-30T17:00:00+01:00"),
        ("2026-11-27T18:00:00+01:00", "8x5", "2026-12-01T17:00:00+01:00"),  # deemed verified Monday 09:00
        ("2026-11-27T18:00:00+01:00", "24x7", "2026-11-30T17:00:00+01:00"),
        ("2026-11-28T03:00:00+01:00", "24x7", "2026-11-30T17:00:00+01:00"),
        ("2026-12-23T12:00:00+01:00", "8x5", "2026-12-28T17:00:00+01:00"),
        ("2026-03-27T12:00:00+01:00", "8x5", "2026-03-30T17:00:00+02:00"),
    ],
)
def test_next_business_day_end(start: str, window: Window, expected: str) -> None:
    assert format_rfc3339(next_business_day_end(datetime.fromisoformat(start), window)) == expected


def test_format_rfc3339_converts_to_warsaw() -> None:
    assert format_rfc3339(datetime(2026, 7, 1, 12, 0, tzinfo=UTC)) == "2026-07-01T14:00:00+02:00"
    assert format_rfc3339(datetime(2026, 7, 1, 12, 0, 0, 500, tzinfo=UTC)) == "2026-07-01T14:00:00.000500+02:00"


@pytest.mark.parametrize(
    "call",
    [
        lambda: due(datetime(2026, 11, 24, 10), "8x5"),
        lambda: in_window(datetime(2026, 11, 24, 10), "8x5"),
        lambda: next_business_day_end(datetime(2026, 11, 24, 10), "24x7"),
        lambda: format_rfc3339(datetime(2026, 11, 24, 10)),
    ],
    ids=["due", "in_window", "next_business_day_end", "format_rfc3339"],
)
def test_naive_datetimes_are_refused(call: object) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


@pytest.mark.parametrize("hours", [-1, float("nan"), float("inf"), timedelta(hours=-1)])
def test_invalid_durations_are_refused(hours: float | timedelta) -> None:
    with pytest.raises(ValueError, match="hours"):
        due(datetime(2026, 11, 24, 10, tzinfo=UTC), "8x5", hours)


def test_unknown_window_is_refused() -> None:
    with pytest.raises(ValueError, match="window"):
        due(datetime(2026, 11, 24, 10, tzinfo=UTC), "9x6", 1)  # type: ignore[arg-type]


# --- properties -------------------------------------------------------------------------------------------------

ZONES = st.sampled_from([UTC, WARSAW, ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")])
INSTANTS = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=ZONES, allow_imaginary=True
)
DURATIONS = st.one_of(
    st.floats(min_value=0, max_value=60, allow_nan=False, allow_infinity=False),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=60)),
)


def _is_period_end(t: datetime) -> bool:
    day = t.astimezone(WARSAW).date()
    return is_business_day(day) and service_period(day)[1] == t.astimezone(UTC)


@settings(max_examples=300, deadline=None)
@given(received_at=INSTANTS, hours=DURATIONS)
def test_deadline_never_precedes_receipt_and_lies_in_service(received_at: datetime, hours: float | timedelta) -> None:
    deadline = due(received_at, "8x5", hours)
    assert deadline.astimezone(UTC) >= received_at.astimezone(UTC)
    assert in_window(deadline, "8x5") or _is_period_end(deadline)


@settings(max_examples=300, deadline=None)
@given(received_at=INSTANTS, hours=DURATIONS)
def test_24x7_adds_elapsed_time_exactly(received_at: datetime, hours: float | timedelta) -> None:
    expected = hours if isinstance(hours, timedelta) else timedelta(hours=hours)
    assert due(received_at, "24x7", hours).astimezone(UTC) - received_at.astimezone(UTC) == expected


def _business_time_between(start: datetime, end: datetime, step: timedelta) -> timedelta:
    """Brute force, independent of `due`: sum the steps of [start, end) that lie inside the window."""
    counted, t = timedelta(0), start
    while t < end:
        if in_window(t, "8x5"):
            counted += step
        t += step
    return counted


QUARTER = timedelta(minutes=15)


@settings(max_examples=60, deadline=None)
@given(
    received_at=st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 1, 31)).map(
        lambda d: d.replace(minute=d.minute - d.minute % 15, second=0, microsecond=0, tzinfo=UTC)
    ),
    quarters=st.integers(min_value=0, max_value=4 * 20),
)
def test_8x5_counts_exactly_the_business_time(received_at: datetime, quarters: int) -> None:
    deadline = due(received_at, "8x5", quarters * QUARTER).astimezone(UTC)
    assert _business_time_between(received_at, deadline, QUARTER) == quarters * QUARTER
