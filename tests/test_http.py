"""HTTP app: health, readiness, metrics, the requests API and its errors — on a real loopback socket."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway import api
from gateway.config import Settings
from gateway.intake import Created
from gateway.metrics import Metrics
from gateway.pipeline import submit
from gateway.steps import PipelineDeps
from gateway.web import DEPS, build_app
from tests.test_pipeline import email, simple_mail

TOKEN = "s3cret-token"
Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(deps: PipelineDeps) -> AsyncIterator[Client]:
    settings = Settings.model_validate({"api": {"tokens": [TOKEN]}})
    metrics = Metrics()
    deps = PipelineDeps(**{**deps.__dict__, "observe": metrics.observe_intake})
    app = build_app(settings=settings, store=deps.store, deps=deps, metrics_=metrics, installers=[api.install])
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_health_and_readiness(client: Client) -> None:
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["database"] is True


async def test_metrics_count_intake(client: Client, deps: PipelineDeps) -> None:
    assert client.app is not None
    await submit(email(simple_mail()), client.app[DEPS])
    text = await (await client.get("/metrics")).text()
    assert 'hezo_intake_total{channel="email",outcome="created"} 1.0' in text


async def test_api_needs_a_token(client: Client) -> None:
    missing = await client.get("/api/v1/requests")
    assert missing.status == 401
    assert "bearer" in (await missing.json())["error"]
    wrong = await client.get("/api/v1/requests", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 403


async def test_list_and_show_requests(client: Client, deps: PipelineDeps) -> None:
    outcome = await submit(email(simple_mail()), deps)
    assert isinstance(outcome, Created)
    listing = await (await client.get("/api/v1/requests", headers=AUTH)).json()
    assert [i["reference"] for i in listing["items"]] == [outcome.reference]
    assert listing["next"] is None
    shown = await client.get(f"/api/v1/requests/{outcome.reference}", headers=AUTH)
    body = await shown.json()
    assert body["serial_numbers"] == ["2214G-00417"]
    assert body["channel"] == "email"
    assert body["messages"][0]["kind"] == "initial"
    assert body["acknowledgements"][0]["kind"] == "ack_email"
    assert "response_due" in body["sla"]


async def test_pages_follow_the_next_link(client: Client, deps: PipelineDeps) -> None:
    for n in range(5):
        await submit(email(simple_mail(abc123=f"page{n}")), deps)
    seen: list[str] = []
    url: str | None = "/api/v1/requests?limit=2"
    while url:
        page = await (await client.get(url, headers=AUTH)).json()
        seen += [i["reference"] for i in page["items"]]
        url = page["next"]
    assert seen == [f"HZ-2026-{n:06d}" for n in (5, 4, 3, 2, 1)]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit"),
        ("limit=x", "limit"),
        ("channel=fax", "channel"),
        ("since=yesterday", "since"),
        ("escalation=maybe", "escalation"),
    ],
)
async def test_bad_filters_say_what_is_wrong(client: Client, query: str, message: str) -> None:
    response = await client.get(f"/api/v1/requests?{query}", headers=AUTH)
    assert response.status == 400
    assert message in (await response.json())["error"]


async def test_unknown_and_malformed_references(client: Client) -> None:
    assert (await client.get("/api/v1/requests/HZ-2026-999999", headers=AUTH)).status == 404
    assert (await client.get("/api/v1/requests/nonsense", headers=AUTH)).status == 400


async def test_schema_is_generated_from_the_model(client: Client) -> None:
    schema = await (await client.get("/api/v1/schema")).json()
    for name in (
        "reference",
        "channel",
        "mailbox",
        "escalation",
        "received_at",
        "reporter",
        "serial_numbers",
        "contract_numbers",
        "language",
        "auto_submitted",
        "follow_up_of",
        "missing",
        "attachments",
        "external_id",
        "subject",
        "description",
    ):
        assert name in schema["properties"]
