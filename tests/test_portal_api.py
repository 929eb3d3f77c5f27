"""POST /api/v1/portal/submissions: tokens, malformed bodies, size limits and idempotency, on a loopback socket."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from channels.portal import decoded_size
from gateway.steps import PipelineDeps
from gateway.store import reads
from tests.support.web_app import (
    API_TOKEN,
    MAX_ATTACHMENT,
    PORTAL_TOKEN,
    as_json,
    attachment,
    submission,
    web_app,
)

Client = TestClient[web.Request, web.Application]
PATH = "/api/v1/portal/submissions"
AUTH = {"Authorization": f"Bearer {PORTAL_TOKEN}", "Content-Type": "application/json"}


@pytest.fixture
async def client(deps: PipelineDeps) -> AsyncIterator[Client]:
    async with TestClient(TestServer(web_app(deps))) as test_client:
        yield test_client


async def test_no_token_is_401_and_a_wrong_one_403(client: Client) -> None:
    missing = await client.post(PATH, data=as_json(submission()))
    assert missing.status == 401
    assert "bearer" in (await missing.json())["error"]
    wrong = await client.post(PATH, data=as_json(submission()), headers={"Authorization": "Bearer nope"})
    assert wrong.status == 403
    api_token = await client.post(PATH, data=as_json(submission()), headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert api_token.status == 403, "a token of the read API is not a portal token"


async def test_a_submission_is_stored_and_answers_reference_and_missing(client: Client, deps: PipelineDeps) -> None:
    content = as_json(submission(attachments=[attachment(b"show version\nSerial Number: 2214G-00417\n")]))
    response = await client.post(PATH, data=content, headers=AUTH)
    assert response.status == 202
    body = await response.json()
    assert body["reference"].startswith("HZ-")
    assert body["missing"] == ["contract_number"]
    async with deps.store.reading() as conn:
        stored = await reads.request_by_reference(conn, body["reference"])
        assert stored is not None
        assert stored.data["channel"] == "portal"
        assert stored.data["serial_numbers"] == ["2214G-00417"]
        messages = await reads.messages_of(conn, stored.id)
        raw = await reads.raw_input(conn, messages[0]["raw_input_id"])
    assert raw is not None
    assert raw["content"] == content, "the raw input keeps the bytes exactly as received"


async def test_a_repeated_submission_id_returns_the_first_reference(client: Client) -> None:
    first = await (await client.post(PATH, data=as_json(submission("P-7")), headers=AUTH)).json()
    again = await client.post(PATH, data=as_json(submission("P-7", subject="changed")), headers=AUTH)
    assert again.status == 202
    assert await again.json() == first
    other = await (await client.post(PATH, data=as_json(submission("P-8")), headers=AUTH)).json()
    assert other["reference"] != first["reference"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"submission_id": "P-1", ', "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"subject": "no id"}).encode(), "submission_id"),
        (json.dumps({"submission_id": "P-1", "attachments": "x"}).encode(), "attachments"),
        (as_json(submission(attachments=[{"filename": "a.bin", "content_base64": "%%%%"}])), "base64"),
    ],
)
async def test_malformed_bodies_are_400_with_a_reason(client: Client, content: bytes, reason: str) -> None:
    response = await client.post(PATH, data=content, headers=AUTH)
    assert response.status == 400
    assert reason in (await response.json())["error"]


async def test_an_attachment_above_the_limit_is_413(client: Client, deps: PipelineDeps) -> None:
    at_limit = attachment(b"x" * MAX_ATTACHMENT, "fits.bin")
    assert (
        await client.post(PATH, data=as_json(submission("P-fit", attachments=[at_limit])), headers=AUTH)
    ).status == 202
    too_big = attachment(b"x" * (MAX_ATTACHMENT + 1), "big.bin")
    response = await client.post(PATH, data=as_json(submission("P-big", attachments=[too_big])), headers=AUTH)
    assert response.status == 413
    assert "big.bin" in (await response.json())["error"]
    async with deps.store.reading() as conn:
        assert len(await reads.list_requests(conn, reads.RequestFilter())) == 1


async def test_a_body_above_the_http_limit_is_413_before_reading(deps: PipelineDeps) -> None:
    from tests.support.web_app import web_settings

    app = web_app(deps, web_settings(http={"max_body_bytes": 1000}))
    async with TestClient(TestServer(app)) as small:
        response = await small.post(PATH, data=b"{" + b" " * 2000 + b"}", headers=AUTH)
        assert response.status == 413
        assert "limit" in (await response.json())["error"]


@pytest.mark.parametrize("content", [b"", b"a", b"ab", b"abc", b"abcd", bytes(range(256))])
def test_decoded_size_matches_decoding(content: bytes) -> None:
    import base64

    encoded = base64.b64encode(content).decode()
    assert decoded_size(encoded) == len(content)
    assert decoded_size("\n".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))) == len(content)
