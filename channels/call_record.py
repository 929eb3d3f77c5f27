"""Checks on a call record before it is submitted: what the API answers 400 for, and a CSV row is reported for.

The parser tolerates anything but a missing call_id; these checks are stricter on purpose, because here a program
(the phone system, an integration) is talking to us and should hear at once that it sends the wrong thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from gateway.schema import REFERENCE_RE

TEXT_FIELDS = (
    "caller_number",
    "caller_name",
    "company",
    "agent",
    "serial_number",
    "contract_number",
    "notes",
    "follow_up_of",
)
LINES = ("hotline", "escalation")
MAX_ID_LENGTH = 200


class CallRecordError(ValueError):
    """The record cannot be submitted; the message says which field is wrong and how."""


def parse_started_at(value: str, *, naive_zone: ZoneInfo | None = None) -> datetime:
    """An RFC 3339 timestamp; with `naive_zone`, one without an offset is read as local time there."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CallRecordError(f"started_at is not a date and time: {value!r}") from None
    if parsed.tzinfo is None:
        if naive_zone is None:
            raise CallRecordError(
                f"started_at needs a time zone offset, e.g. 2026-11-24T08:02:11+01:00 (got {value!r})"
            )
        parsed = parsed.replace(tzinfo=naive_zone, fold=0)
    return parsed


def check_call_record(record: Mapping[str, Any], *, naive_zone: ZoneInfo | None = None) -> datetime | None:
    """Raises CallRecordError for a record that cannot be right; returns started_at when there is one."""
    call_id = record.get("call_id")
    if not isinstance(call_id, str) or not call_id.strip():
        raise CallRecordError("call_id is required: a non-empty string, unique per call (the idempotency key)")
    if len(call_id) > MAX_ID_LENGTH:
        raise CallRecordError(f"call_id is longer than {MAX_ID_LENGTH} characters")
    for name in TEXT_FIELDS:
        if record.get(name) is not None and not isinstance(record[name], str):
            raise CallRecordError(f"{name} must be a string or null, not {type(record[name]).__name__}")
    duration = record.get("duration_s")
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int) or duration < 0):
        raise CallRecordError("duration_s must be a whole number of seconds (0 or more) or null")
    line = record.get("line")
    if line is not None and line not in (*LINES, ""):
        raise CallRecordError(f"line must be one of {', '.join(LINES)}")
    follow_up_of = record.get("follow_up_of")
    if follow_up_of and not REFERENCE_RE.match(follow_up_of):
        raise CallRecordError("follow_up_of must be a reference like HZ-2026-000123")
    started_at = record.get("started_at")
    if started_at is None or started_at == "":
        return None
    if not isinstance(started_at, str):
        raise CallRecordError("started_at must be an RFC 3339 string, e.g. 2026-11-24T08:02:11+01:00")
    return parse_started_at(started_at, naive_zone=naive_zone)
