"""JSON API over stored requests: GET /api/v1/requests, /api/v1/requests/{reference}, /api/v1/schema."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from gateway.contracts.queries import related_requests
from gateway.schema import CHANNELS, MAILBOXES, REFERENCE_RE, request_json_schema
from gateway.store import reads
from gateway.web import STORE, check_api_token, json_error, json_response

MAX_LIMIT = 1000
RELATED_WINDOW = timedelta(days=14)  # a request about the same device this recently is shown beside it


def request_view(stored: reads.StoredRequest, related: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The contract fields as stored, plus what the store knows beyond parsing."""
    return {
        **stored.data,
        "reference": stored.reference,
        "status": stored.status,
        "priority": stored.priority,
        "first_contact_at": stored.first_contact_at,
        "entitlement": stored.data.get("entitlement"),
        "reporter_authorised": stored.data.get("reporter_authorised"),
        "vendor_cases": stored.data.get("vendor_cases", []),
        "related": related if related is not None else [],
        "sla": {
            "response_due": stored.response_due,
            "delivery_due": stored.delivery_due,
            "return_due": stored.return_due,
        },
    }


def _filter(query: Any) -> reads.RequestFilter | str:
    """The filter from query parameters, or a message saying which parameter is wrong."""
    try:
        limit = int(query.get("limit", 100))
    except ValueError:
        return "limit must be a whole number"
    if not 1 <= limit <= MAX_LIMIT:
        return f"limit must be between 1 and {MAX_LIMIT}"
    channel, mailbox = query.get("channel"), query.get("mailbox")
    if channel and channel not in CHANNELS:
        return f"channel must be one of {', '.join(CHANNELS)}"
    if mailbox and mailbox not in MAILBOXES:
        return f"mailbox must be one of {', '.join(MAILBOXES)}"
    escalation = query.get("escalation")
    if escalation not in (None, "true", "false"):
        return "escalation must be true or false"
    since = None
    if query.get("since"):
        try:
            since = datetime.fromisoformat(query["since"])
        except ValueError:
            return "since must be an RFC 3339 timestamp"
        if since.tzinfo is None:
            return "since needs a time zone offset"
    before = query.get("before")
    if before is not None and not before.isdigit():
        return "before must be a row id from a previous page's next link"
    return reads.RequestFilter(
        status=query.get("status") or None,
        channel=channel,
        mailbox=mailbox,
        escalation=None if escalation is None else escalation == "true",
        since=since,
        before_id=int(before) if before else None,
        limit=limit,
    )


async def list_requests(request: web.Request) -> web.Response:
    if (denied := check_api_token(request)) is not None:
        return denied
    f = _filter(request.query)
    if isinstance(f, str):
        return json_error(400, f)
    async with request.app[STORE].reading() as conn:
        items = await reads.list_requests(conn, f)
    next_url = None
    if len(items) == f.limit:
        next_url = str(request.rel_url.update_query({"before": str(items[-1].id)}))
    return json_response({"items": [request_view(i) for i in items], "next": next_url})


async def show_request(request: web.Request) -> web.Response:
    if (denied := check_api_token(request)) is not None:
        return denied
    reference = request.match_info["reference"]
    if not REFERENCE_RE.match(reference):
        return json_error(400, "reference must look like HZ-2026-000123")
    async with request.app[STORE].reading() as conn:
        stored = await reads.request_by_reference(conn, reference)
        if stored is None:
            return json_error(404, f"no request {reference}")
        messages = await reads.messages_of(conn, stored.id)
        outbox = await reads.outbox_of(conn, stored.id)
        attachments = await reads.attachments_of(conn, stored.id)
        likely = await reads.likely_follow_ups(conn, stored.id)
        related = await related_requests(
            conn,
            request_id=stored.id,
            serials=stored.data.get("serial_numbers", []),
            since=(stored.received_at - RELATED_WINDOW) if stored.received_at else None,
        )
    return json_response(
        {
            **request_view(stored, related),
            "messages": messages,
            "acknowledgements": outbox,
            "stored_attachments": attachments,
            "likely_follow_up_of": likely,
        }
    )


async def schema(_request: web.Request) -> web.Response:
    return json_response(request_json_schema())


def install(app: web.Application) -> None:
    app.router.add_get("/api/v1/schema", schema)
    app.router.add_get("/api/v1/requests", list_requests)
    app.router.add_get("/api/v1/requests/{reference}", show_request)
