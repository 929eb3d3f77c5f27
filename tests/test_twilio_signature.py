"""Twilio webhook signatures: signed as Twilio signs them, over the public URL behind a proxy.

Also the shared pieces of the Twilio and calls tests: the app with the phone doors installed, real parameter sets,
and a signing client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from channels import hotline, twilio
from gateway import api
from gateway.config import Settings
from gateway.metrics import Metrics
from gateway.steps import PipelineDeps
from gateway.store import tables as t
from gateway.web import build_app

AUTH_TOKEN = "12345678901234567890123456789012"
ACCOUNT_SID = "AC4f8e3d2c1b0a99887766554433221100"
API_TOKEN = "calls-api-token"
# The app listens on a loopback port; Twilio knows it by this URL (a proxy in front, under a path prefix).
PUBLIC_URL = "https://gateway.myhezo.pl/hezo"
ENGINEERS = "+48600100200"
CALLER = "+48601234567"
Client = TestClient[web.Request, web.Application]


def settings(**twilio_overrides: Any) -> Settings:
    return Settings.model_validate(
        {
            "api": {"tokens": [API_TOKEN]},
            "http": {"public_url": PUBLIC_URL},
            "twilio": {"auth_token": AUTH_TOKEN, "account_sid": ACCOUNT_SID, "engineers_number": ENGINEERS}
            | twilio_overrides,
        }
    )


async def start_client(deps: PipelineDeps, configured: Settings) -> Client:
    app = build_app(
        settings=configured,
        store=deps.store,
        deps=deps,
        metrics_=Metrics(),
        installers=[api.install, twilio.install, hotline.install],
    )
    client: Client = TestClient(TestServer(app, port=0))
    await client.start_server()
    return client


@asynccontextmanager
async def serving(deps: PipelineDeps, configured: Settings | None = None) -> AsyncIterator[Client]:
    """The app with the phone doors on a loopback port, as other modules' `client` fixtures use it."""
    test_client = await start_client(deps, configured or settings())
    try:
        yield test_client
    finally:
        await test_client.close()


@pytest.fixture
async def client(deps: PipelineDeps) -> AsyncIterator[Client]:
    async with serving(deps) as test_client:
        yield test_client


def sign(path: str, params: Mapping[str, str], token: str = AUTH_TOKEN, base: str = PUBLIC_URL) -> str:
    """X-Twilio-Signature exactly as Twilio computes it for a POST to base + path."""
    return str(RequestValidator(token).compute_signature(base + path, params))


async def post_signed(client: Client, path: str, params: Mapping[str, str], **sign_args: str) -> ClientResponse:
    return await client.post(path, data=dict(params), headers={"X-Twilio-Signature": sign(path, params, **sign_args)})


def voice_params(call_sid: str = "CA0f4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d", **extra: str) -> dict[str, str]:
    """An inbound call to the hotline, as Twilio posts it to the voice URL."""
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": "ringing",
        "Called": "+48122525600",
        "CalledCountry": "PL",
        "Caller": CALLER,
        "CallerCountry": "PL",
        "Direction": "inbound",
        "From": CALLER,
        "FromCountry": "PL",
        "To": "+48122525600",
        "ToCountry": "PL",
        **extra,
    }


def sms_params(
    message_sid: str = "SM9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b", body: str = "Awaria", **extra: str
) -> dict[str, str]:
    """An inbound SMS, as Twilio posts it to the messaging URL."""
    return {
        "ToCountry": "PL",
        "SmsMessageSid": message_sid,
        "NumMedia": "0",
        "SmsSid": message_sid,
        "SmsStatus": "received",
        "Body": body,
        "FromCountry": "PL",
        "To": "+48122525600",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": message_sid,
        "AccountSid": ACCOUNT_SID,
        "From": CALLER,
        "ApiVersion": "2010-04-01",
        **extra,
    }


async def count_rows(deps: PipelineDeps, table: Any) -> int:
    async with deps.store.reading() as conn:
        return len((await conn.execute(select(table))).all())


# -- the tests of this module -----------------------------------------------------------------------------------
async def test_signed_sms_is_accepted(client: Client, deps: PipelineDeps) -> None:
    response = await post_signed(client, "/twilio/sms", sms_params())
    assert response.status == 200
    assert await count_rows(deps, t.requests) == 1


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "missing"),
        ({"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}, "forged"),
    ],
)
async def test_missing_or_forged_signature_is_403_and_stores_nothing(
    client: Client, deps: PipelineDeps, headers: dict[str, str], why: str
) -> None:
    for path, params in (("/twilio/sms", sms_params()), ("/twilio/voice", voice_params())):
        response = await client.post(path, data=params, headers=headers)
        assert response.status == 403, why
    assert await count_rows(deps, t.raw_inputs) == 0
    assert await count_rows(deps, t.quarantine) == 0


async def test_signature_of_other_parameters_or_token_is_refused(client: Client, deps: PipelineDeps) -> None:
    params = sms_params(body="Awaria przełącznika")
    tampered = {**params, "Body": "Inna treść"}
    response = await client.post(
        "/twilio/sms", data=tampered, headers={"X-Twilio-Signature": sign("/twilio/sms", params)}
    )
    assert response.status == 403
    assert (await post_signed(client, "/twilio/sms", params, token="another-account-token")).status == 403
    # Signed for the address the app happens to listen on, not for the public URL Twilio was given.
    local = str(client.make_url(""))
    assert (await post_signed(client, "/twilio/sms", params, base=local.rstrip("/"))).status == 403
    assert await count_rows(deps, t.raw_inputs) == 0


async def test_forwarded_host_headers_do_not_change_the_signed_url(client: Client, deps: PipelineDeps) -> None:
    params = sms_params()
    headers = {
        "X-Twilio-Signature": sign("/twilio/sms", params, base="https://attacker.example"),
        "X-Forwarded-Host": "attacker.example",
        "X-Forwarded-Proto": "https",
        "Host": "attacker.example",
    }
    assert (await client.post("/twilio/sms", data=params, headers=headers)).status == 403


async def test_query_string_is_part_of_the_signed_url(client: Client) -> None:
    params = voice_params(Digits="1", CallStatus="in-progress")
    good = await post_signed(client, "/twilio/voice/menu?lang=en", params)
    assert good.status == 200
    signed_without_query = sign("/twilio/voice/menu", params)
    bad = await client.post(
        "/twilio/voice/menu?lang=en", data=params, headers={"X-Twilio-Signature": signed_without_query}
    )
    assert bad.status == 403


async def test_replayed_webhook_is_harmless(client: Client, deps: PipelineDeps) -> None:
    params = sms_params()
    signature = sign("/twilio/sms", params)
    for _ in range(3):
        response = await client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
        assert response.status == 200
    assert await count_rows(deps, t.requests) == 1
    assert await count_rows(deps, t.messages) == 1


async def test_without_auth_token_the_webhooks_are_closed(deps: PipelineDeps) -> None:
    closed = await start_client(deps, settings(auth_token=""))
    try:
        for path in ("/twilio/voice", "/twilio/sms", "/twilio/voice/recording"):
            response = await closed.post(path, data=sms_params(), headers={"X-Twilio-Signature": "anything"})
            assert response.status == 503
            assert "auth_token" in await response.text()
    finally:
        await closed.close()
    assert await count_rows(deps, t.raw_inputs) == 0


async def test_a_body_that_is_not_a_form_is_refused(client: Client) -> None:
    response = await client.post(
        "/twilio/sms", json=sms_params(), headers={"X-Twilio-Signature": sign("/twilio/sms", {})}
    )
    assert response.status == 415


async def test_envelope_keeps_the_signed_url_and_the_verbatim_body(client: Client, deps: PipelineDeps) -> None:
    params = sms_params(body="Zażółć gęślą jaźń & co")
    response = await post_signed(client, "/twilio/sms", params)
    assert response.status == 200
    async with deps.store.reading() as conn:
        envelope = (await conn.execute(select(t.raw_inputs.c.envelope))).scalar_one()
    assert envelope["url"] == f"{PUBLIC_URL}/twilio/sms"
    assert envelope["door"] == "twilio-sms"
    assert "Body=Za%C5%BC%C3%B3%C5%82%C4%87" in envelope["body"]
    assert envelope["headers"]["X-Twilio-Signature"] == sign("/twilio/sms", params)
