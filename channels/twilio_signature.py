"""Twilio webhook authentication: X-Twilio-Signature over the public URL and every POST parameter.

Twilio signs HMAC-SHA1(auth token, URL it requested + each POST parameter name and value, sorted by name).
The URL is the one configured in Twilio's console, so it is rebuilt from settings.http.public_url and never from
the Host or X-Forwarded-* headers of the request: behind a proxy those describe the hop, not what Twilio signed,
and a client could set them to whatever it likes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from twilio.request_validator import RequestValidator

from gateway.logs import get_logger
from gateway.web import SETTINGS

SIGNATURE_HEADER = "X-Twilio-Signature"
# Kept with the raw input: enough to show later where a webhook came from and to check its signature again.
KEPT_HEADERS = ("X-Twilio-Signature", "I-Twilio-Idempotency-Token", "User-Agent", "X-Forwarded-For", "X-Home-Region")

log = get_logger("channels.twilio")


@dataclass(frozen=True)
class Webhook:
    """A verified Twilio webhook: its parameters and what is kept with the raw input."""

    params: MultiDictProxy[str]
    url: str
    body: str
    headers: Mapping[str, str]

    def get(self, name: str) -> str:
        return self.params.get(name, "").strip()

    def envelope(self, door: str) -> dict[str, Any]:
        return {"door": door, "url": self.url, "body": self.body, "headers": dict(self.headers)}


def public_url(request: web.Request, path: str, **query: str) -> str:
    """An absolute URL of one of our webhooks as Twilio reaches it (for TwiML action and callback attributes)."""
    base = request.app[SETTINGS].http.public_url.rstrip("/")
    return f"{base}{path}?{urlencode(query)}" if query else f"{base}{path}"


def _signed_url(request: web.Request) -> str:
    # raw_path keeps the query string exactly as sent (percent-encoding included); Twilio signs it that way.
    return request.app[SETTINGS].http.public_url.rstrip("/") + request.raw_path


async def verified_webhook(request: web.Request) -> Webhook | web.Response:
    """The webhook when its signature is right; otherwise the answer to give (503 not configured, 415, 403)."""
    token = request.app[SETTINGS].twilio.auth_token
    if not token:
        # Without the auth token nothing can be verified; accepting unsigned webhooks would let anyone create
        # requests, so the webhooks stay closed until it is configured.
        return web.Response(
            status=503, text="Twilio webhooks are not configured: set [twilio] auth_token (HEZO_TWILIO__AUTH_TOKEN)\n"
        )
    if request.content_type != "application/x-www-form-urlencoded":
        # Twilio posts forms; anything else (multipart files, JSON) is not one of its webhooks.
        return web.Response(status=415, text="expected application/x-www-form-urlencoded\n")
    body = await request.text()
    params = await request.post()
    url = _signed_url(request)
    signature = request.headers.get(SIGNATURE_HEADER, "")
    # Only auth-token (HMAC-SHA1) signatures are accepted: a header naming another algorithm does not change the
    # check, so it cannot be used to downgrade it. Replays of a valid request pass, and are harmless because
    # every input is stored once per CallSid / MessageSid.
    pairs = [(name, value) for name, value in params.items() if isinstance(value, str)]
    strings = MultiDictProxy(MultiDict(pairs))
    if not signature or len(pairs) != len(params) or not RequestValidator(token).validate(url, strings, signature):
        log.warning("twilio signature rejected", path=request.path, signed=bool(signature), peer=request.remote)
        return web.Response(status=403, text="invalid or missing X-Twilio-Signature\n")
    kept = {name: request.headers[name] for name in KEPT_HEADERS if name in request.headers}
    return Webhook(params=strings, url=url, body=body, headers=kept)
