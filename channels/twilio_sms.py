"""POST /twilio/sms: an inbound SMS becomes an SMS request, or a follow-up when its body names HZ-YYYY-NNNNNN.

The answer is always an empty <Response/>: the acknowledgement SMS is sent by the outbox dispatcher (rate-limited,
retried, recorded), never as a TwiML reply that nothing would record.
"""

from __future__ import annotations

import json

from aiohttp import web
from twilio.twiml.messaging_response import MessagingResponse

from channels.call_lookup import link_likely_follow_up
from channels.twilio_signature import verified_webhook
from gateway.errors import StoreError
from gateway.intake import RawIntake
from gateway.logs import get_logger
from gateway.pipeline import submit
from gateway.web import DEPS

SMS = "/twilio/sms"
DOOR = "twilio-sms"

log = get_logger("channels.twilio_sms")


async def incoming_sms(request: web.Request) -> web.Response:
    webhook = await verified_webhook(request)
    if isinstance(webhook, web.Response):
        return webhook
    sid = webhook.get("MessageSid")
    if not sid:
        return web.Response(status=400, text="MessageSid is missing\n")
    deps = request.app[DEPS]
    # Parameters as Twilio sent them (MessageSid, From, To, Body, NumMedia, MediaUrl0…); one value per name.
    params = {name: webhook.params[name] for name in webhook.params}
    raw = RawIntake(
        channel="sms",
        content=json.dumps(params, ensure_ascii=False).encode("utf-8"),
        received_at=deps.clock(),
        envelope=webhook.envelope(DOOR),
    )
    try:
        outcome = await submit(raw, deps)
    except StoreError:
        # Twilio does not retry an inbound SMS by itself; the 503 shows in its debugger, and the log has the SID.
        log.exception("sms not stored", message_sid=sid)
        return web.Response(status=503, text="not stored\n")
    await link_likely_follow_up(deps.store, outcome, deps.clock)
    log.info("sms stored", message_sid=sid, outcome=repr(outcome))
    return web.Response(text=str(MessagingResponse()), content_type="text/xml", charset="utf-8")


def install(app: web.Application) -> None:
    app.router.add_post(SMS, incoming_sms)
