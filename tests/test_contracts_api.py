"""Routes: a workflow move over HTTP (200/400/404/409) and a contract with its serials and contacts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.config import Settings
from gateway.contracts import api as contracts_api
from gateway.contracts.registry import import_contracts
from gateway.metrics import Metrics
from gateway.steps import PipelineDeps
from gateway.web import build_app
from tests.test_workflow import stored_request

TOKEN = "contracts-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "contracts-example.csv"
Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(deps: PipelineDeps) -> AsyncIterator[Client]:
    settings = Settings.model_validate({"api": {"tokens": [TOKEN]}})
    app = build_app(
        settings=settings, store=deps.store, deps=deps, metrics_=Metrics(), installers=[contracts_api.install]
    )
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_state_moves_over_http(client: Client, deps: PipelineDeps) -> None:
    reference = await stored_request(deps)
    path = f"/api/v1/requests/{reference}/state"
    moved = await client.post(path, json={"state": "verified", "note": "logs checked"}, headers=AUTH)
    assert moved.status == 200
    body = await moved.json()
    assert (body["from"], body["to"], body["outcome"]) == ("received", "verified", "moved")
    assert body["delivery_due"] is not None
    refused = await client.post(path, json={"state": "returned"}, headers=AUTH)
    assert refused.status == 409
    assert "cannot move from verified to returned" in (await refused.json())["error"]


async def test_state_route_errors(client: Client, deps: PipelineDeps) -> None:
    reference = await stored_request(deps)
    path = f"/api/v1/requests/{reference}/state"
    assert (await client.post(path, json={"state": "verified"})).status == 401
    assert (await client.post(path, data=b"{not json", headers=AUTH)).status == 400
    assert (await client.post(path, json=["verified"], headers=AUTH)).status == 400
    assert (await client.post(path, json={"state": "lost"}, headers=AUTH)).status == 400
    assert (await client.post(path, json={"state": "verified", "note": 5}, headers=AUTH)).status == 400
    assert (
        await client.post("/api/v1/requests/HZ-2026-999999/state", json={"state": "verified"}, headers=AUTH)
    ).status == 404
    assert (await client.post("/api/v1/requests/nope/state", json={"state": "verified"}, headers=AUTH)).status == 400


async def test_contract_with_serials_and_contacts(client: Client, deps: PipelineDeps) -> None:
    await import_contracts(deps.store, EXAMPLE)
    found = await client.get("/api/v1/contracts/40027719", headers=AUTH)
    assert found.status == 200
    assert (await found.json())["serials"] == ["2011G-00289", "2214G-00417"]
    for path in ("/api/v1/contracts/HZ/AHB/2025/0142", "/api/v1/contracts/hz%2Fahb%2F2025%2F0142"):
        hezo = await client.get(path, headers=AUTH)
        assert hezo.status == 200, path
        assert (await hezo.json())["service_level"] == "AHB_24X7_NBD"
    assert (await client.get("/api/v1/contracts/49999999", headers=AUTH)).status == 404
    assert (await client.get("/api/v1/contracts/40027719")).status == 401
