"""Loopback peers for outgoing traffic: an SMTP sink (aiosmtpd, real sockets) and a Twilio REST stand-in."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class SmtpSink:
    """Records every message; `refuse` makes RCPT answer that code (e.g. 550) for the matching address."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content or b"")
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.arrived.set()
        return "250 OK"

    async def wait_for(self, count: int, within_s: float = 20) -> None:
        async with asyncio.timeout(within_s):
            while len(self.messages) < count:
                self.arrived.clear()
                await self.arrived.wait()


@asynccontextmanager
async def smtp_sink(port: int = 0) -> AsyncIterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(sink, decode_data=False), "127.0.0.1", port)
    try:
        yield sink, server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@dataclass
class TwilioStandIn:
    """Answers the Messages.json create call like Twilio's REST API and keeps what the library sent."""

    sent: list[dict[str, str]] = field(default_factory=list)
    fail_with: int | None = None

    async def create_message(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        if self.fail_with:
            error = {"code": 21211, "message": "Invalid 'To' Phone Number", "status": self.fail_with}
            return web.json_response(error, status=self.fail_with)
        self.sent.append({**form, "account": request.match_info["sid"]})
        sid = f"SM{len(self.sent):032d}"
        body: dict[str, Any] = {
            "sid": sid,
            "status": "queued",
            "to": form.get("To"),
            "from": form.get("From"),
            "body": form.get("Body"),
            "account_sid": request.match_info["sid"],
        }
        return web.Response(text=json.dumps(body), status=201, content_type="application/json")


@asynccontextmanager
async def twilio_stand_in() -> AsyncIterator[tuple[TwilioStandIn, str]]:
    stand_in = TwilioStandIn()
    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", stand_in.create_message)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield stand_in, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
