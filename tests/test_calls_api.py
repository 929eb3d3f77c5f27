"""POST /api/v1/phone/calls: bearer token, a call record in, a reference and what is missing out."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.steps import PipelineDeps
from gateway.store import reads
from gateway.store import tables as t
from tests.test_twilio_signature import API_TOKEN, Client, count_rows, serving


@pytest.fixture
async def client(deps: PipelineDeps) -> AsyncIterator[Client]:
    async with serving(deps) as test_client:
        yield test_client


CALLS = "/api/v1/phone/calls"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def call_record(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "call_id": "c-8812",
        "started_at": "2026-11-24T08:02:11+01:00",
        "duration_s": 312,
        "line": "hotline",
        "caller_number": "0-12 345 67 89",
        "caller_name": "Jan Kowalski",
        "company": "Example Sp. z o.o.",
        "agent": "a.nowak",
        "serial_number": "2214G-00417",
        "contract_number": "",
        "notes": "Przełącznik X440-G2 restartuje się co godzinę.",
    }
    return record | changes


async def test_needs_a_bearer_token(client: Client, deps: PipelineDeps) -> None:
    assert (await client.post(CALLS, json=call_record())).status == 401
    assert (await client.post(CALLS, json=call_record(), headers={"Authorization": "Bearer nope"})).status == 403
    assert await count_rows(deps, t.raw_inputs) == 0


async def test_a_call_record_becomes_a_request(client: Client, deps: PipelineDeps) -> None:
    response = await client.post(CALLS, json=call_record(), headers=AUTH)
    assert response.status == 202
    assert await response.json() == {"reference": "HZ-2026-000001", "missing": ["contract_number"]}
    async with deps.store.reading() as conn:
        request = await reads.request_by_reference(conn, "HZ-2026-000001")
    assert request is not None
    assert request.data["reporter"]["phone"] == "+48123456789"
    assert request.data["received_at"].startswith("2026-11-24T07:02:11")


async def test_the_same_call_id_twice_is_one_request(client: Client, deps: PipelineDeps) -> None:
    await client.post(CALLS, json=call_record(), headers=AUTH)
    again = await client.post(CALLS, json=call_record(notes="wpisane jeszcze raz"), headers=AUTH)
    assert again.status == 202
    assert await again.json() == {"reference": "HZ-2026-000001", "missing": ["contract_number"], "duplicate": True}
    assert await count_rows(deps, t.requests) == 1


async def test_a_call_about_an_existing_request_is_its_follow_up(client: Client, deps: PipelineDeps) -> None:
    await client.post(CALLS, json=call_record(), headers=AUTH)
    record = call_record(call_id="c-8813", follow_up_of="HZ-2026-000001", line="escalation", notes="Pilne!")
    response = await client.post(CALLS, json=record, headers=AUTH)
    assert response.status == 202
    body = await response.json()
    assert body["reference"] == body["follow_up_of"] == "HZ-2026-000001"
    async with deps.store.reading() as conn:
        request = await reads.request_by_reference(conn, "HZ-2026-000001")
    assert request is not None and request.data["escalation"] is True


async def test_a_second_call_from_the_same_number_is_a_likely_follow_up(client: Client) -> None:
    await client.post(CALLS, json=call_record(), headers=AUTH)
    response = await client.post(
        CALLS, json=call_record(call_id="c-8820", caller_number="+48 12 345 67 89"), headers=AUTH
    )
    body = await response.json()
    assert body["reference"] == "HZ-2026-000002"
    assert body["likely_follow_up_of"] == "HZ-2026-000001"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"call_id": "c-1", ', "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'["c-1"]', "JSON object"),
        (json.dumps(call_record(call_id="")).encode(), "call_id is required"),
        (json.dumps({k: v for k, v in call_record().items() if k != "call_id"}).encode(), "call_id is required"),
        (json.dumps(call_record(call_id=8812)).encode(), "call_id is required"),
        (json.dumps(call_record(duration_s="312")).encode(), "duration_s"),
        (json.dumps(call_record(duration_s=True)).encode(), "duration_s"),
        (json.dumps(call_record(notes=["a", "b"])).encode(), "notes must be a string"),
        (json.dumps(call_record(line="fax")).encode(), "line must be one of"),
        (json.dumps(call_record(started_at="wczoraj")).encode(), "started_at"),
        (json.dumps(call_record(started_at="2026-11-24T08:02:11")).encode(), "time zone offset"),
        (json.dumps(call_record(started_at="2027-01-01T00:00:00+01:00")).encode(), "future"),
        (json.dumps(call_record(follow_up_of="12345")).encode(), "follow_up_of"),
    ],
)
async def test_a_body_that_is_not_a_call_record_is_400_with_the_reason(
    client: Client, deps: PipelineDeps, body: bytes, reason: str
) -> None:
    response = await client.post(CALLS, data=body, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status == 400
    assert reason in (await response.json())["error"]
    assert await count_rows(deps, t.raw_inputs) == 0
