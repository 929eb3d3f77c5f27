"""Delivery adapters: SMTP relay or .eml files, Twilio SMS, signed webhooks. Each raises SendError on failure."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import aiosmtplib
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from gateway.config import RelaySettings, TwilioSettings


class SendError(Exception):
    """A delivery failed. `permanent` means retrying cannot help (refused recipient, invalid number)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class FileOutbox:
    """No relay configured: each message becomes `<dir>/<outbox id>.eml`, written atomically (rewritten on resend)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage, *, row_id: int) -> None:
        await asyncio.to_thread(self._write, message.as_bytes(), row_id)

    def _write(self, content: bytes, row_id: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{row_id:010d}.eml"
        partial = target.with_suffix(".part")
        with open(partial, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)


class RelaySender:
    """Our acknowledgements through the configured SMTP relay."""

    def __init__(self, settings: RelaySettings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage, *, row_id: int) -> None:
        s = self.settings
        try:
            await aiosmtplib.send(
                message,
                hostname=s.host,
                port=s.port,
                start_tls=s.starttls or None,
                username=s.username or None,
                password=s.password or None,
                timeout=s.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [error.code for error in exc.recipients]
            raise SendError(f"relay refused recipient: {exc}", permanent=all(500 <= c < 600 for c in codes)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise SendError(f"relay answered {exc.code} {exc.message}", permanent=500 <= exc.code < 600) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SendError(f"relay unreachable: {exc}", permanent=False) from exc


class _TwilioHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Twilio's async client with two changes: credentials go in a Basic header (aiohttp deprecates its `auth=`
    argument), and an optional base URL replaces api.twilio.com (the library has no such option: tests, proxies)."""

    def __init__(self, api_base: str = "") -> None:
        super().__init__(timeout=30)
        self._base = urlsplit(api_base) if api_base else None

    async def request(
        self,
        method: str,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the library's own signature, passed through
        allow_redirects: bool = False,
    ) -> Response:
        if self._base is not None:
            parts = urlsplit(url)
            url = urlunsplit((self._base.scheme, self._base.netloc, parts.path, parts.query, parts.fragment))
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = aiohttp.encode_basic_auth(*auth)
        response: Response = await super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=None,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
        return response


class TwilioSms:
    def __init__(self, settings: TwilioSettings) -> None:
        self.settings = settings
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        # Created on first use: the async HTTP client opens a session, which a gateway without SMS never needs.
        if self._client is None:
            s = self.settings
            http_client = _TwilioHttpClient(s.api_base)
            self._client = Client(s.account_sid, s.auth_token, http_client=http_client)
        return self._client

    @property
    def configured(self) -> bool:
        return bool(self.settings.account_sid and self.settings.auth_token)

    async def send(self, *, to: str, body: str) -> str:
        if not self.configured:
            raise SendError("Twilio is not configured ([twilio] account_sid/auth_token)", permanent=True)
        try:
            message = await self.client.messages.create_async(to=to, from_=self.settings.from_number, body=body)
        except TwilioRestException as exc:
            # 4xx from Twilio (invalid or unreachable number, blocked) will not get better by retrying; 429/5xx will.
            permanent = 400 <= exc.status < 500 and exc.status != 429
            raise SendError(f"Twilio {exc.status} {exc.code}: {exc.msg}", permanent=permanent) from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise SendError(f"Twilio unreachable: {exc}", permanent=False) from exc
        return str(message.sid)

    async def close(self) -> None:
        if self._client is not None and isinstance(self._client.http_client, AsyncTwilioHttpClient):
            await self._client.http_client.close()
        self._client = None


_SAFE_HEADER = re.compile(r"^[\x21-\x7e]*$")


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` over `<timestamp>.<body>`: the receiver checks freshness and integrity with the shared secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookSender:
    def __init__(self, secret: str) -> None:
        self.secret = secret

    async def post(self, url: str, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False, default=str).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Hezo-Timestamp": timestamp}
        if self.secret:
            headers["X-Hezo-Signature"] = webhook_signature(self.secret, timestamp, body)
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session,
                session.post(url, data=body, headers=headers) as response,
            ):
                if response.status >= 300:
                    permanent = 400 <= response.status < 500 and response.status not in (408, 429)
                    raise SendError(f"webhook answered {response.status}", permanent=permanent)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise SendError(f"webhook unreachable: {exc}", permanent=False) from exc
