"""POST /api/v1/phone/calls: a call record from the agent console, an integration or the phone system.

Answers 202 {"reference", "missing"} (plus "duplicate": true for a call_id stored before, "follow_up_of" when the
record continues a request, "likely_follow_up_of" when the caller's number is on another open request); 400 with
the reason for a body that is not a call record; 401/403 without a valid bearer token. The CSV import of a
phone-system call log is in channels/call_log.py.
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from typing import Any

from aiohttp import web

from channels import call_lookup
from channels.call_record import CallRecordError, check_call_record
from gateway.agents import api_or_agent
from gateway.errors import StoreError
from gateway.intake import Created, Duplicate, FollowUp, Outcome, Quarantined, RawIntake
from gateway.logs import get_logger
from gateway.pipeline import submit
from gateway.web import DEPS, json_error, json_response

CALLS = "/api/v1/phone/calls"
DOOR = "calls-api"
# A clock a few minutes off on the caller's side is normal; a start far in the future is a wrong field.
CLOCK_SKEW = timedelta(minutes=5)

log = get_logger("channels.hotline")


def _record_from(body: bytes) -> dict[str, Any]:
    try:
        record = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise CallRecordError("the body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise CallRecordError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(record, dict):
        raise CallRecordError("the body must be a JSON object: one call record")
    return record


async def _answer(request: web.Request, outcome: Outcome) -> web.Response:
    if isinstance(outcome, Quarantined):
        return json_error(
            422, f"the call record could not be parsed: {outcome.error}", quarantine_id=outcome.quarantine_id
        )
    deps = request.app[DEPS]
    linked = await call_lookup.link_likely_follow_up(deps.store, outcome, deps.clock)
    async with deps.store.reading() as conn:
        missing = await call_lookup.missing_of(conn, outcome.reference)
    body: dict[str, Any] = {"reference": outcome.reference, "missing": missing}
    if isinstance(outcome, Duplicate):
        body["duplicate"] = True
    if isinstance(outcome, FollowUp):
        body["follow_up_of"] = outcome.reference
    if isinstance(outcome, Created) and linked is not None:
        body["likely_follow_up_of"] = linked.of
    return json_response(body, status=202)


async def post_call(request: web.Request) -> web.Response:
    # DESIGN.md: a bearer token of [api] tokens, or an agent session (with its CSRF header).
    caller = await api_or_agent(request)
    if isinstance(caller, web.Response):
        return caller
    body = await request.read()
    deps = request.app[DEPS]
    now = deps.clock()
    try:
        started_at = check_call_record(_record_from(body))
        if started_at is not None and started_at > now + CLOCK_SKEW:
            raise CallRecordError("started_at is in the future")
    except CallRecordError as exc:
        return json_error(400, str(exc))
    raw = RawIntake(
        channel="phone",
        content=body,  # verbatim: what the client sent is what the request is re-parsed from
        received_at=(started_at or now).astimezone(UTC),
        envelope={
            "door": DOOR,
            "path": request.path,
            "peer": request.remote,
            "user_agent": request.headers.get("User-Agent"),
        },
    )
    try:
        outcome = await submit(raw, deps)
    except StoreError:
        log.exception("call record not stored")
        return json_error(503, "the call record could not be stored; please retry")
    return await _answer(request, outcome)


def install(app: web.Application) -> None:
    app.router.add_post(CALLS, post_call)
