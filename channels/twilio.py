"""The Twilio door: voice and SMS webhooks, each verified by its X-Twilio-Signature.

Modules: twilio_signature (verification against the public URL), twilio_voice (hotline menu, calls and their
recordings), twilio_ivr (the TwiML it answers), twilio_sms (inbound SMS).
"""

from __future__ import annotations

from aiohttp import web

from channels import twilio_sms, twilio_voice


def install(app: web.Application) -> None:
    """Route installer for gateway.service.route_installers()."""
    twilio_voice.install(app)
    twilio_sms.install(app)
