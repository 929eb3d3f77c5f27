"""The request-window calendar: response deadlines and the next-business-day delivery clock.

Pure functions: the caller passes every time, nothing here reads the clock or does I/O.

All arithmetic happens in UTC. Europe/Warsaw is used only to read calendar days and the 09:00-17:00 service hours,
because adding a timedelta to a datetime whose tzinfo is a ZoneInfo adds *wall-clock* time (wrong across DST), and
zoneinfo silently accepts local times that do not exist (spring) or exist twice (autumn).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import holidays

Window = Literal["8x5", "24x7"]
WINDOWS: tuple[Window, ...] = ("8x5", "24x7")

WARSAW = ZoneInfo("Europe/Warsaw")
SERVICE_OPENS = time(9, 0)
SERVICE_CLOSES = time(17, 0)
DEFAULT_RESPONSE_HOURS = 1


def due(received_at: datetime, window: Window, hours: float | timedelta = DEFAULT_RESPONSE_HOURS) -> datetime:
    """The deadline `hours` after `received_at`, counting only time inside the request window.

    8x5: a request received outside service hours starts counting when the window next opens, and a deadline that
    lands exactly on closing time stays at 17:00 (it does not roll over to the next morning).
    Returns an aware datetime in Europe/Warsaw.
    """
    _require_aware(received_at, "received_at")
    remaining = _as_duration(hours)
    start = received_at.astimezone(UTC)
    if window == "24x7":
        return (start + remaining).astimezone(WARSAW)
    _require_known_window(window)

    day = start.astimezone(WARSAW).date()
    while True:
        if is_business_day(day):
            opens, closes = service_period(day)
            if start < closes:
                counting_from = max(start, opens)
                available = closes - counting_from
                if remaining <= available:
                    return (counting_from + remaining).astimezone(WARSAW)
                remaining -= available
        day += timedelta(days=1)


def next_business_day_end(start: datetime, window: Window) -> datetime:
    """17:00 Europe/Warsaw on the next business day: the "NBD" delivery clock.

    8x5: a request verified outside service hours counts as verified when the window next opens, so one verified on
    Friday evening is delivered by Tuesday 17:00 (Monday being the day it is deemed verified).
    24x7: verification is possible at any hour, so the next business day after the local calendar day of `start`.
    """
    _require_aware(start, "start")
    _require_known_window(window)
    effective = start if window == "24x7" or in_window(start, "8x5") else due(start, "8x5", 0)
    day = effective.astimezone(WARSAW).date() + timedelta(days=1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return service_period(day)[1].astimezone(WARSAW)


def is_business_day(day: date) -> bool:
    """Monday to Friday and not a Polish public holiday."""
    return day.weekday() < 5 and day not in _polish_holidays(day.year)


def in_window(t: datetime, window: Window) -> bool:
    """Whether `t` lies inside the request window (8x5 is the half-open interval [09:00, 17:00) local time)."""
    _require_aware(t, "t")
    if window == "24x7":
        return True
    _require_known_window(window)
    instant = t.astimezone(UTC)
    day = instant.astimezone(WARSAW).date()
    if not is_business_day(day):
        return False
    opens, closes = service_period(day)
    return opens <= instant < closes


@lru_cache(maxsize=1024)  # every intake asks for today's (and tomorrow's): each costs two zone conversions
def service_period(day: date) -> tuple[datetime, datetime]:
    """The 8x5 service hours of a calendar day as a UTC interval (whether or not the day is a business day)."""
    return warsaw_wall_time_to_utc(day, SERVICE_OPENS), warsaw_wall_time_to_utc(day, SERVICE_CLOSES)


def format_rfc3339(dt: datetime) -> str:
    """RFC 3339 in Europe/Warsaw time, e.g. "2026-12-28T09:30:00+01:00" (fractions only when present)."""
    _require_aware(dt, "dt")
    local = dt.astimezone(WARSAW)
    return local.isoformat(timespec="microseconds" if local.microsecond else "seconds")


def warsaw_wall_time_to_utc(day: date, wall: time) -> datetime:
    """A Warsaw wall-clock time on `day` as a UTC instant, resolved explicitly at DST changes.

    zoneinfo raises nothing for local times that do not exist or exist twice, so the decision is made here:
    an ambiguous time (autumn, 02:00-03:00 twice) means its first occurrence, and a time that does not exist
    (spring, 02:00-03:00 skipped) means the moment the clocks show that time plus the gap (02:30 -> 03:30 CEST).
    Both are what fold=0 gives; it is spelled out because 09:00 and 17:00 are safe only while Poland keeps
    changing clocks in the night.
    """
    return datetime.combine(day, wall, tzinfo=WARSAW).replace(fold=0).astimezone(UTC)


@lru_cache(maxsize=64)
def _polish_holidays(year: int) -> frozenset[date]:
    # From 2025 the list includes 24 December (a public holiday by the 2024 statute); 2024 and earlier have 13.
    return frozenset(holidays.country_holidays("PL", years=year).keys())


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} must be a timezone-aware datetime (got naive {value.isoformat()}); "
            "pass an offset or a zone, e.g. 2026-12-23T16:30:00+01:00"
        )


def _require_known_window(window: str) -> None:
    if window not in WINDOWS:
        raise ValueError(f"unknown request window {window!r}; expected one of {', '.join(WINDOWS)}")


def _as_duration(hours: float | timedelta) -> timedelta:
    if isinstance(hours, timedelta):
        duration = hours
    else:
        if not math.isfinite(hours):
            raise ValueError(f"hours must be a finite number, got {hours!r}")
        duration = timedelta(hours=hours)
    if duration < timedelta(0):
        raise ValueError(f"hours must not be negative, got {hours!r}")
    return duration
