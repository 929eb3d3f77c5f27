"""Routes: POST /api/v1/requests/{reference}/state (a workflow move) and GET /api/v1/contracts/{number}.

Both need the API bearer token. Contract numbers may hold slashes (HZ/AHB/2025/0142): the route takes the rest of
the path, written either with literal slashes or as %2F.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from gateway.contracts import queries
from gateway.contracts.levels import ServiceLevels, default_levels
from gateway.contracts.registry_csv import normalise_identifier
from gateway.contracts.workflow import STATES, move_state
from gateway.schema import REFERENCE_RE
from gateway.web import DEPS, STORE, check_api_token, json_error, json_response

LEVELS = web.AppKey("service_levels", ServiceLevels)
MAX_NOTE = 2000
MAX_ACTOR = 100

_STATUS_OF_OUTCOME = {"moved": 200, "refused": 409, "not_found": 404}


def _move_body(body: Any) -> tuple[str, str, str] | str:
    """(state, note, actor) from the request body, or what is wrong with it."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    state, note, actor = body.get("state"), body.get("note", ""), body.get("actor", "api")
    if not isinstance(state, str) or not state:
        return f"state is required: one of {', '.join(STATES)}"
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        return f"note must be text of at most {MAX_NOTE} characters"
    if not isinstance(actor, str) or not actor.strip() or len(actor) > MAX_ACTOR:
        return f"actor must be a name of at most {MAX_ACTOR} characters"
    return state, note, actor.strip()


async def change_state(request: web.Request) -> web.Response:
    if (denied := check_api_token(request)) is not None:
        return denied
    reference = request.match_info["reference"]
    if not REFERENCE_RE.match(reference):
        return json_error(400, "reference must look like HZ-2026-000123")
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return json_error(400, "the body must be JSON")
    parsed = _move_body(body)
    if isinstance(parsed, str):
        return json_error(400, parsed)
    state, note, actor = parsed
    if state not in STATES:
        return json_error(400, f"unknown state {state!r}; states: {', '.join(STATES)}")
    result = await move_state(
        request.app[STORE],
        reference,
        state,
        actor=actor,
        note=note,
        now=request.app[DEPS].clock(),
        levels=request.app[LEVELS],
    )
    if result.outcome != "moved":
        return json_error(_STATUS_OF_OUTCOME[result.outcome], result.reason, **result.as_json())
    return json_response(result.as_json())


async def show_contract(request: web.Request) -> web.Response:
    if (denied := check_api_token(request)) is not None:
        return denied
    number = normalise_identifier(request.match_info["number"])
    async with request.app[STORE].reading() as conn:
        contract = await queries.contract_detail(conn, number)
    if contract is None:
        return json_error(404, f"no contract {number}")
    return json_response(contract)


def install(app: web.Application) -> None:
    if LEVELS not in app:
        app[LEVELS] = default_levels()
    app.router.add_post("/api/v1/requests/{reference}/state", change_state)
    app.router.add_get("/api/v1/contracts/{number:.+}", show_contract)
