"""The desk: open requests with response countdowns, one request's page, attachments, and the first-contact action."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web

from gateway.agents import agent_page, api_or_agent, current_agent, forbidden_page, login_redirect
from gateway.contracts.workflow import move_state, next_states
from gateway.pages import install_page_support, render
from gateway.schema import CHANNELS, MAILBOXES, REFERENCE_RE
from gateway.sessions import CSRF_FIELD, csrf_token, csrf_valid, ensure_secret, session_of
from gateway.store import reads, web_queries
from gateway.web import DEPS, STORE, json_error, json_response

DESK_PATH = "/desk/"
STATUS_CHOICES = ("open", "received", "closed", "rejected", "all")
URGENT_SECONDS = 15 * 60
MAX_RAW_SHOWN = 256 * 1024


def _row(item: reads.StoredRequest, now: datetime) -> dict[str, Any]:
    data = item.data
    reporter = data.get("reporter") or {}
    remaining = None if item.response_due is None else (item.response_due - now).total_seconds()
    return {
        "reference": item.reference,
        "channel": data.get("channel", ""),
        "mailbox": data.get("mailbox") or "",
        "status": item.status,
        "reporter": reporter.get("name") or reporter.get("email") or reporter.get("phone") or "",
        "company": reporter.get("company") or "",
        "subject": data.get("subject") or data.get("description", "")[:80],
        "serials": data.get("serial_numbers", []),
        "contracts": data.get("contract_numbers", []),
        "missing": data.get("missing", []),
        "escalation": bool(data.get("escalation")),
        "received_at": datetime.fromisoformat(data["received_at"]) if data.get("received_at") else None,
        "response_due": item.response_due,
        "due_iso": item.response_due.isoformat() if item.response_due else "",
        "remaining_min": None if remaining is None else int(remaining // 60),
        "urgent": remaining is not None and remaining < URGENT_SECONDS and item.first_contact_at is None,
        "first_contact_at": item.first_contact_at,
        "entitlement": data.get("entitlement") or {},
        "reporter_authorised": data.get("reporter_authorised"),
        "delivery_due": item.delivery_due,
        "return_due": item.return_due,
        "next_states": next_states(item.status),
    }


def _desk_filter(query: Any) -> tuple[reads.RequestFilter, dict[str, str]]:
    """Unknown filter values are ignored rather than refused: this is a page, not an API."""
    chosen = {
        "channel": query.get("channel", "") if query.get("channel") in CHANNELS else "",
        "mailbox": query.get("mailbox", "") if query.get("mailbox") in MAILBOXES else "",
        "status": query.get("status", "open") if query.get("status") in STATUS_CHOICES else "open",
    }
    status = None if chosen["status"] == "all" else chosen["status"]
    return reads.RequestFilter(
        status=status, channel=chosen["channel"] or None, mailbox=chosen["mailbox"] or None, limit=200
    ), chosen


async def desk(request: web.Request) -> web.Response:
    agent, session = await agent_page(request)
    request_filter, chosen = _desk_filter(request.query)
    async with request.app[STORE].reading() as conn:
        items = await reads.list_requests(conn, request_filter)
    now = datetime.now(UTC)
    context = {
        "agent": agent,
        "csrf": csrf_token(request, session),
        "rows": [_row(item, now) for item in items],
        "chosen": chosen,
        "channels": CHANNELS,
        "mailboxes": MAILBOXES,
        "statuses": STATUS_CHOICES,
    }
    return render(request, "desk.html", context)


def _raw_text(raw: dict[str, Any] | None) -> tuple[str, bool]:
    """Raw input as text for a <pre> block (the template escapes it): never rendered as the HTML it may contain."""
    if raw is None:
        return "", False
    content: bytes = raw["content"]
    shown = content[:MAX_RAW_SHOWN].decode("utf-8", errors="replace")
    if raw["channel"] != "email":
        with contextlib.suppress(ValueError):
            shown = json.dumps(json.loads(content), ensure_ascii=False, indent=2)[:MAX_RAW_SHOWN]
    return shown, len(content) > MAX_RAW_SHOWN


def _valid_reference(request: web.Request) -> str:
    reference = request.match_info["reference"]
    if not REFERENCE_RE.match(reference):
        raise web.HTTPNotFound(text="no such request")
    return reference


async def request_page(request: web.Request) -> web.Response:
    agent, session = await agent_page(request)
    reference = _valid_reference(request)
    async with request.app[STORE].reading() as conn:
        stored = await reads.request_by_reference(conn, reference)
        if stored is None:
            raise web.HTTPNotFound(text="no such request")
        messages = await reads.messages_of(conn, stored.id)
        for message in messages:
            message["raw_text"], message["raw_truncated"] = _raw_text(
                await reads.raw_input(conn, message["raw_input_id"])
            )
        attachments = await reads.attachments_of(conn, stored.id)
        outbox = await reads.outbox_of(conn, stored.id)
        events = await web_queries.events_of(conn, reference)
    context = {
        "agent": agent,
        "csrf": csrf_token(request, session),
        "row": _row(stored, datetime.now(UTC)),
        "data": stored.data,
        "messages": messages,
        "attachments": attachments,
        "outbox": outbox,
        "events": events,
    }
    return render(request, "request.html", context)


async def download_attachment(request: web.Request) -> web.StreamResponse:
    if await current_agent(request) is None:
        raise login_redirect(request)
    reference = _valid_reference(request)
    sha256 = request.match_info["sha256"]
    async with request.app[STORE].reading() as conn:
        stored = await reads.request_by_reference(conn, reference)
        attachments = await reads.attachments_of(conn, stored.id) if stored else []
    # Only a file that belongs to this request: the content store is not browsable by digest.
    found = next((a for a in attachments if a["sha256"] == sha256), None)
    if found is None:
        raise web.HTTPNotFound(text="no such attachment")
    content = request.app[DEPS].blobs.get(sha256)
    # Always a download and never the sender's content type: an HTML or SVG attachment must not render (and run)
    # inside the desk's origin.
    filename = quote(found["filename"], safe="")
    return web.Response(
        body=content,
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f"attachment; filename=\"download\"; filename*=UTF-8''{filename}",
            "Cache-Control": "no-store",
        },
    )


async def _agent_form(request: web.Request) -> tuple[Any, Any] | web.Response:
    """The logged-in agent and the posted form, or the answer to give instead (login, CSRF refusal)."""
    agent = await current_agent(request)
    if agent is None:
        raise login_redirect(request)
    form = await request.post()
    if not csrf_valid(request, session_of(request), str(form.get(CSRF_FIELD, ""))):
        return forbidden_page(request, "csrf_failed")
    return agent, form


async def first_contact_form(request: web.Request) -> web.Response:
    checked = await _agent_form(request)
    if isinstance(checked, web.Response):
        return checked
    agent, _form = checked
    reference = _valid_reference(request)
    now, actor = datetime.now(UTC), f"agent:{agent.name}"
    done = await request.app[STORE].run_in_transaction(
        lambda tx: web_queries.record_first_contact(tx.conn, reference, now, actor)
    )
    if done is None:
        raise web.HTTPNotFound(text="no such request")
    raise web.HTTPSeeOther(f"/desk/requests/{reference}")


async def state_form(request: web.Request) -> web.Response:
    """The desk's workflow move: the same rules and audit trail as POST /api/v1/requests/{reference}/state."""
    checked = await _agent_form(request)
    if isinstance(checked, web.Response):
        return checked
    agent, form = checked
    reference = _valid_reference(request)
    result = await move_state(
        request.app[STORE],
        reference,
        str(form.get("state", "")),
        actor=f"agent:{agent.name}",
        note=str(form.get("note", ""))[:2000],
        now=datetime.now(UTC),
        levels=request.app[DEPS].levels,
    )
    if result.outcome == "not_found":
        raise web.HTTPNotFound(text="no such request")
    if result.outcome == "refused":
        session = session_of(request)
        assert session is not None
        context = {
            "agent": agent,
            "csrf": csrf_token(request, session),
            "title_key": "move_refused",
            "reason_text": result.reason,
        }
        return render(request, "error.html", context, status=409)
    raise web.HTTPSeeOther(f"/desk/requests/{reference}")


async def first_contact_api(request: web.Request) -> web.Response:
    """POST /api/v1/requests/{reference}/contact: a bearer token, or an agent session plus its CSRF header."""
    actor = await api_or_agent(request)
    if isinstance(actor, web.Response):
        return actor
    reference = request.match_info["reference"]
    if not REFERENCE_RE.match(reference):
        return json_error(400, "reference must look like HZ-2026-000123")
    now = datetime.now(UTC)
    done = await request.app[STORE].run_in_transaction(
        lambda tx: web_queries.record_first_contact(tx.conn, reference, now, actor)
    )
    if done is None:
        return json_error(404, f"no request {reference}")
    return json_response(
        {"reference": reference, "first_contact_at": done.first_contact_at.isoformat(), "recorded": done.recorded_now}
    )


async def agent_home(_request: web.Request) -> web.Response:
    raise web.HTTPSeeOther(DESK_PATH)


def install(app: web.Application) -> None:
    ensure_secret(app)
    install_page_support(app)
    app.router.add_get(DESK_PATH, desk)
    app.router.add_get("/agent/", agent_home)
    app.router.add_get("/desk/requests/{reference}", request_page)
    app.router.add_get("/desk/requests/{reference}/attachments/{sha256}", download_attachment)
    app.router.add_post("/desk/requests/{reference}/contact", first_contact_form)
    app.router.add_post("/desk/requests/{reference}/state", state_form)
    app.router.add_post("/api/v1/requests/{reference}/contact", first_contact_api)
