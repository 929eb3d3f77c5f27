"""The agent call console: /agent/calls/new logs a phone call as the same call record the calls API accepts.

Submitted through the phone door's path: the calls API's record checks and RawIntake builder, then `submit`.
The preview endpoint runs the phone parser on the fields as typed, so the agent sees which serial and contract
numbers were recognised before ending the call.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from channels.call_record import CallRecordError, check_call_record
from channels.phone_intake import call_intake
from channels.portal import Rejected, reference_and_missing
from gateway.agents import agent_page, current_agent, forbidden_page, login_redirect
from gateway.errors import StoreError
from gateway.pages import install_page_support, render
from gateway.pipeline import submit
from gateway.sessions import CSRF_FIELD, CSRF_HEADER, csrf_token, csrf_valid, ensure_secret, session_of
from gateway.web import DEPS, STORE, json_error, json_response
from parsers.forms import parse_phone
from parsers.result import ParseError

NEW_CALL_PATH = "/agent/calls/new"
CALL_FIELDS = ("caller_number", "caller_name", "company", "serial_number", "contract_number", "notes", "line")
MAX_PREVIEW_BYTES = 64 * 1024


def call_record(fields: dict[str, str], *, call_id: str, agent: str, started_at: str) -> dict[str, Any]:
    record: dict[str, Any] = {name: fields.get(name, "") for name in CALL_FIELDS}
    record["line"] = "escalation" if record["line"] == "escalation" else "hotline"
    record.update(call_id=call_id, agent=agent, started_at=started_at)
    return record


def recognised(record: dict[str, Any]) -> dict[str, Any]:
    """What the phone parser makes of the record: the same function the pipeline runs on it."""
    try:
        parsed = parse_phone({**record, "call_id": record.get("call_id") or "preview"}, received_at=datetime.now(UTC))
    except ParseError as exc:
        return {"error": str(exc)}
    request = parsed.request
    return {
        "serial_numbers": request.serial_numbers,
        "contract_numbers": request.contract_numbers,
        "caller_phone": request.reporter.phone,
        "missing": list(request.missing),
        "escalation": request.escalation,
    }


async def new_call(request: web.Request) -> web.Response:
    agent, session = await agent_page(request)
    context = {
        "agent": agent,
        "csrf": csrf_token(request, session),
        "call_id": f"console-{secrets.token_urlsafe(10)}",  # fixed when the form opens: a double submit is a repeat
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "values": {},
        "result": None,
    }
    return render(request, "call_new.html", context)


async def preview(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    if agent is None:
        return json_error(401, "log in as an agent first")
    if not csrf_valid(request, session_of(request), request.headers.get(CSRF_HEADER)):
        return json_error(403, "CSRF token missing or wrong")
    if request.content_length is not None and request.content_length > MAX_PREVIEW_BYTES:
        return json_error(413, f"preview bodies are limited to {MAX_PREVIEW_BYTES} bytes")
    try:
        body = json.loads(await request.read())
    except ValueError as exc:
        return json_error(400, f"the body is not valid JSON: {exc}")
    if not isinstance(body, dict):
        return json_error(400, "the body must be a JSON object")
    fields = {name: str(body.get(name, ""))[:MAX_PREVIEW_BYTES] for name in CALL_FIELDS}
    return json_response(recognised(call_record(fields, call_id="preview", agent=agent.name, started_at="")))


async def log_call(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    if agent is None:
        raise login_redirect(request)
    session = session_of(request)
    form = await request.post()
    if not csrf_valid(request, session, str(form.get(CSRF_FIELD, ""))):
        return forbidden_page(request, "csrf_failed")
    assert session is not None
    fields = {name: str(form.get(name, "")).strip() for name in CALL_FIELDS}
    call_id = str(form.get("call_id", ""))
    if not call_id.startswith("console-"):
        call_id = f"console-{secrets.token_urlsafe(10)}"
    started_at = str(form.get("started_at", "")) or datetime.now(UTC).isoformat(timespec="seconds")
    record = call_record(fields, call_id=call_id, agent=agent.name, started_at=started_at)
    try:
        opened_at = check_call_record(record)  # the same checks as POST /api/v1/phone/calls
    except CallRecordError as exc:
        return render(request, "error.html", {"title_key": "not_stored", "reason_text": str(exc)}, status=400)
    # As the calls API does: the SLA clock starts when the call started (the form opened), not when it was saved.
    received_at = min(opened_at or datetime.now(UTC), datetime.now(UTC)).astimezone(UTC)
    envelope = {"door": "agent-console", "agent": agent.name, "peer": request.remote}
    raw = call_intake(record, received_at=received_at, envelope=envelope)
    try:
        reference, missing = await reference_and_missing(request.app[STORE], await submit(raw, request.app[DEPS]))
    except (StoreError, Rejected) as exc:
        return render(request, "error.html", {"title_key": "not_stored", "reason_text": str(exc)}, status=503)
    context = {
        "agent": agent,
        "csrf": csrf_token(request, session),
        "call_id": f"console-{secrets.token_urlsafe(10)}",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "values": {},
        "result": {"reference": reference, "missing": missing, "recognised": recognised(record)},
    }
    return render(request, "call_new.html", context)


def install(app: web.Application) -> None:
    ensure_secret(app)
    install_page_support(app)
    app.router.add_get(NEW_CALL_PATH, new_call)
    app.router.add_post("/agent/calls/preview", preview)
    app.router.add_post("/agent/calls", log_call)
