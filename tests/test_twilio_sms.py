"""Inbound SMS over Twilio: a request, a follow-up by its HZ tag, a likely follow-up by the sender's number."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from channels.call_lookup import likely_follow_ups
from gateway.steps import PipelineDeps
from gateway.store import reads
from gateway.store import tables as t
from tests.test_twilio_signature import CALLER, Client, count_rows, post_signed, serving, sms_params


@pytest.fixture
async def client(deps: PipelineDeps) -> AsyncIterator[Client]:
    async with serving(deps) as test_client:
        yield test_client


async def test_sms_becomes_a_request_and_gets_an_empty_twiml_answer(client: Client, deps: PipelineDeps) -> None:
    body = "Awaria X440-G2, S/N 2214G-00417, umowa 40027719"
    response = await post_signed(client, "/twilio/sms", sms_params(body=body))
    assert response.status == 200
    root = ET.fromstring(await response.read())
    assert root.tag == "Response" and len(root) == 0
    async with deps.store.reading() as conn:
        request = await reads.request_by_reference(conn, "HZ-2026-000001")
        outbox = await reads.outbox_of(conn, request.id) if request else []
    assert request is not None
    assert request.data["channel"] == "sms"
    assert request.data["reporter"]["phone"] == CALLER
    assert request.data["serial_numbers"] == ["2214G-00417"]
    assert request.data["missing"] == []
    # The acknowledgement is an outbox row for the dispatcher, not a TwiML <Message>.
    assert [row["kind"] for row in outbox] == ["ack_sms"]


async def test_sms_with_a_reference_tag_is_a_follow_up(client: Client, deps: PipelineDeps) -> None:
    await post_signed(client, "/twilio/sms", sms_params("SM01", body="Awaria przełącznika w serwerowni"))
    follow_up = sms_params("SM02", body="HZ-2026-000001: numer seryjny 2214G-00417")
    assert (await post_signed(client, "/twilio/sms", follow_up)).status == 200
    assert await count_rows(deps, t.requests) == 1
    async with deps.store.reading() as conn:
        kinds = (await conn.execute(select(t.messages.c.kind).order_by(t.messages.c.id))).scalars().all()
    assert kinds == ["initial", "follow_up"]


async def test_a_new_sms_from_a_number_with_an_open_request_is_linked_not_merged(
    client: Client, deps: PipelineDeps
) -> None:
    await post_signed(client, "/twilio/sms", sms_params("SM01", body="Awaria przełącznika"))
    await post_signed(client, "/twilio/sms", sms_params("SM02", body="Czy ktoś się tym zajmie?"))
    assert await count_rows(deps, t.requests) == 2
    async with deps.store.reading() as conn:
        assert await likely_follow_ups(conn, "HZ-2026-000002") == ["HZ-2026-000001"]
        assert await likely_follow_ups(conn, "HZ-2026-000001") == []
