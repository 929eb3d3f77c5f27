"""The portal door: POST /api/v1/portal/submissions (the myHEZO.pl portal's server) and the /portal/ form.

Both hand the pipeline the same RawIntake: channel "portal", content = the submission JSON. The API stores the bytes
exactly as received; the form (channels/portal_form.py) builds the same JSON object from its fields.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from gateway.errors import StoreError
from gateway.intake import Created, Outcome, Quarantined, RawIntake
from gateway.logs import get_logger
from gateway.pipeline import submit
from gateway.store import Store, reads
from gateway.web import DEPS, SETTINGS, STORE, json_error, json_response

log = get_logger("channels.portal")

SUBMISSIONS_PATH = "/api/v1/portal/submissions"
_BASE64_NOISE = re.compile(r"\s")


class Rejected(Exception):
    """The submission cannot be stored as sent; `status` and the message are what the client is told."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def check_portal_token(request: web.Request) -> web.Response | None:
    """None for a token from [portal] tokens; 401 without one, 403 for another (API tokens are not portal tokens)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        response = json_error(401, "missing bearer token (Authorization: Bearer <token>)")
        response.headers["WWW-Authenticate"] = 'Bearer realm="hezo-gateway portal"'
        return response
    # Compared with every configured token in constant time: the answer's timing does not leak a prefix.
    valid = [hmac.compare_digest(token.encode(), t.encode()) for t in request.app[SETTINGS].portal.tokens]
    return None if any(valid) else json_error(403, "token not accepted for portal submissions")


def decoded_size(encoded: str) -> int:
    """The byte size base64 text decodes to, computed without decoding it."""
    compact = _BASE64_NOISE.sub("", encoded)
    return len(compact) * 3 // 4 - (len(compact) - len(compact.rstrip("=")))


def check_submission(payload: Any, max_attachment_bytes: int) -> None:
    """What the pipeline would otherwise quarantine, refused up front with a reason the client can act on."""
    if not isinstance(payload, dict):
        raise Rejected(400, "the body must be a JSON object")
    submission_id = payload.get("submission_id")
    if not isinstance(submission_id, str | int) or isinstance(submission_id, bool) or not str(submission_id).strip():
        raise Rejected(400, "submission_id is required (a non-empty string): it is the idempotency key")
    attachments = payload.get("attachments", [])
    if attachments is None:
        return
    if not isinstance(attachments, list):
        raise Rejected(400, "attachments must be a list")
    for index, item in enumerate(attachments, start=1):
        if not isinstance(item, Mapping):
            raise Rejected(400, f"attachment {index} must be an object")
        encoded = item.get("content_base64", "")
        if not isinstance(encoded, str):
            raise Rejected(400, f"attachment {index}: content_base64 must be a string")
        name = item.get("filename") or f"attachment-{index}"
        size = decoded_size(encoded)
        # Sized from the text before decoding, so an oversized file is refused without allocating its bytes.
        if size > max_attachment_bytes:
            raise Rejected(413, f"attachment {index} ({name}) is {size} bytes; the limit is {max_attachment_bytes}")
        try:
            base64.b64decode(_BASE64_NOISE.sub("", encoded), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Rejected(400, f"attachment {index} ({name}): content_base64 is not valid base64: {exc}") from None


async def reference_and_missing(store: Store, outcome: Outcome) -> tuple[str, list[str]]:
    """The reference to show and what is still missing; for a repeat, as the first submission left it."""
    if isinstance(outcome, Quarantined):
        raise Rejected(400, f"the submission could not be read: {outcome.error}")
    if isinstance(outcome, Created):
        return outcome.reference, list(outcome.missing)
    async with store.reading() as conn:
        stored = await reads.request_by_reference(conn, outcome.reference)
    return outcome.reference, list(stored.data.get("missing", [])) if stored else []


async def submit_portal_json(app: web.Application, content: bytes, envelope: dict[str, Any]) -> tuple[str, list[str]]:
    raw = RawIntake(channel="portal", content=content, received_at=datetime.now(UTC), envelope=envelope)
    try:
        outcome = await submit(raw, app[DEPS])
    except StoreError as exc:
        log.error("portal submission not stored", error=str(exc))
        raise Rejected(503, "the request could not be stored right now; send it again") from None
    return await reference_and_missing(app[STORE], outcome)


async def submissions(request: web.Request) -> web.Response:
    if (denied := check_portal_token(request)) is not None:
        return denied
    settings = request.app[SETTINGS]
    limit = settings.http.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        return json_error(413, f"the body is {request.content_length} bytes; the limit is {limit}")
    try:
        content = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return json_error(413, f"the body is larger than the limit of {limit} bytes")
    try:
        payload = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        return json_error(400, f"the body is not valid JSON: {exc}")
    try:
        check_submission(payload, settings.portal.max_attachment_bytes)
        envelope = {"door": "portal-api", "peer": request.remote, "user_agent": request.headers.get("User-Agent", "")}
        reference, missing = await submit_portal_json(request.app, content, envelope)
    except Rejected as exc:
        response = json_error(exc.status, str(exc))
        if exc.status == 503:
            response.headers["Retry-After"] = "30"
        return response
    return json_response({"reference": reference, "missing": missing}, status=202)


def install(app: web.Application) -> None:
    from channels import portal_form

    app.router.add_post(SUBMISSIONS_PATH, submissions)
    portal_form.install(app)
