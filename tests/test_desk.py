"""The desk, the request page, attachments, first contact (form and API), and the call console, over HTTP."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from gateway.steps import PipelineDeps
from gateway.store import reads, web_queries
from tests.support.web_app import (
    AGENT_NAME,
    AGENT_PASSWORD,
    API_TOKEN,
    PORTAL_TOKEN,
    add_agent,
    as_json,
    attachment,
    csrf_of,
    submission,
    web_app,
)

Client = TestClient[web.Request, web.Application]
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
async def client(deps: PipelineDeps) -> AsyncIterator[Client]:
    await add_agent(deps)
    async with TestClient(TestServer(web_app(deps))) as test_client:
        yield test_client


async def log_in(client: Client) -> str:
    page = await (await client.get("/agent/login")).text()
    form = {"csrf_token": csrf_of(page), "name": AGENT_NAME, "password": AGENT_PASSWORD, "next": "/desk/"}
    desk = await client.post("/agent/login", data=form)
    assert desk.status == 200
    return csrf_of(await desk.text())


async def portal_request(client: Client, submission_id: str = "P-1", **fields: object) -> str:
    headers = {"Authorization": f"Bearer {PORTAL_TOKEN}"}
    response = await client.post(
        "/api/v1/portal/submissions", data=as_json(submission(submission_id, **fields)), headers=headers
    )
    assert response.status == 202
    reference: str = (await response.json())["reference"]
    return reference


@pytest.mark.parametrize(
    "path",
    [
        "/desk/",
        "/desk/requests/HZ-2026-000001",
        "/agent/calls/new",
        "/desk/requests/HZ-2026-000001/attachments/" + "a" * 64,
    ],
)
async def test_non_agents_are_sent_to_the_login(client: Client, path: str) -> None:
    response = await client.get(path, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/agent/login?next=")


async def test_non_agents_cannot_post_either(client: Client) -> None:
    reference = await portal_request(client)
    assert (await client.post(f"/desk/requests/{reference}/contact", allow_redirects=False)).status == 303
    assert (await client.post("/agent/calls/preview", json={})).status == 401
    assert (await client.post(f"/api/v1/requests/{reference}/contact")).status == 401


async def test_the_desk_lists_open_requests_newest_first_with_filters(client: Client) -> None:
    first = await portal_request(client, "P-1")
    second = await portal_request(client, "P-2", serial_number="", description="brak numerów")
    await log_in(client)
    page = await (await client.get("/desk/")).text()
    assert page.index(second) < page.index(first)
    assert "numeru seryjnego" in page  # the second lacks its serial number
    assert first not in await (await client.get("/desk/?channel=phone")).text()
    assert first in await (await client.get("/desk/?channel=portal&status=all")).text()


async def test_the_request_page_shows_raw_input_as_text(client: Client) -> None:
    reference = await portal_request(client, description=XSS)
    await log_in(client)
    page = await (await client.get(f"/desk/requests/{reference}")).text()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "submission_id" in page, "the raw JSON is shown"


async def test_attachments_download_as_files(client: Client, deps: PipelineDeps) -> None:
    html = b"<html><script>alert(1)</script></html>"
    evil = {**attachment(html, 'za\u017c\u00f3\u0142\u0107 "x".html'), "content_type": "text/html"}
    reference = await portal_request(client, attachments=[evil])
    await log_in(client)
    async with deps.store.reading() as conn:
        stored = await reads.request_by_reference(conn, reference)
        assert stored is not None
        (meta,) = await reads.attachments_of(conn, stored.id)
    response = await client.get(f"/desk/requests/{reference}/attachments/{meta['sha256']}")
    assert response.status == 200
    assert await response.read() == html
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "za%C5%BC%C3%B3%C5%82%C4%87%20%22x%22.html" in response.headers["Content-Disposition"]
    other = await portal_request(client, "P-other")
    assert (await client.get(f"/desk/requests/{other}/attachments/{meta['sha256']}")).status == 404


async def test_first_contact_button_needs_csrf_and_keeps_the_first_time(client: Client, deps: PipelineDeps) -> None:
    reference = await portal_request(client)
    csrf = await log_in(client)
    assert (await client.post(f"/desk/requests/{reference}/contact", data={})).status == 403
    done = await client.post(f"/desk/requests/{reference}/contact", data={"csrf_token": csrf})
    assert done.status == 200
    assert 'id="first-contact-button"' not in await done.text()
    async with deps.store.reading() as conn:
        stored = await reads.request_by_reference(conn, reference)
        events = await web_queries.events_of(conn, reference)
    assert stored is not None and stored.first_contact_at is not None
    assert [(e["kind"], e["actor"]) for e in events if e["kind"] == "contact"] == [("contact", f"agent:{AGENT_NAME}")]


async def test_contact_api_with_a_token_is_idempotent(client: Client) -> None:
    reference = await portal_request(client)
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    assert (
        await client.post(f"/api/v1/requests/{reference}/contact", headers={"Authorization": "Bearer x"})
    ).status == 403
    first = await (await client.post(f"/api/v1/requests/{reference}/contact", headers=auth)).json()
    again = await (await client.post(f"/api/v1/requests/{reference}/contact", headers=auth)).json()
    assert first["recorded"] is True and again["recorded"] is False
    assert again["first_contact_at"] == first["first_contact_at"]
    assert (await client.post("/api/v1/requests/HZ-2026-999999/contact", headers=auth)).status == 404


async def test_contact_api_with_a_session_needs_the_csrf_header(client: Client) -> None:
    reference = await portal_request(client)
    csrf = await log_in(client)
    assert (await client.post(f"/api/v1/requests/{reference}/contact")).status == 403
    response = await client.post(f"/api/v1/requests/{reference}/contact", headers={"X-CSRF-Token": csrf})
    assert (await response.json())["recorded"] is True


async def preview(client: Client, csrf: str, **fields: str) -> ClientResponse:
    return await client.post("/agent/calls/preview", data=json.dumps(fields), headers={"X-CSRF-Token": csrf})


async def test_call_preview_recognises_identifiers(client: Client) -> None:
    csrf = await log_in(client)
    assert (await preview(client, "wrong", notes="x")).status == 403
    answer = await (
        await preview(client, csrf, notes="S/N 2214G-00417, umowa 40027719", caller_number="0-12 345 67 89")
    ).json()
    assert answer["serial_numbers"] == ["2214G-00417"]
    assert answer["caller_phone"] == "+48123456789"
    assert "serial_number" not in answer["missing"]


async def test_a_logged_call_is_stored_as_a_phone_request(client: Client, deps: PipelineDeps) -> None:
    csrf = await log_in(client)
    page = await (await client.get("/agent/calls/new")).text()
    call_id = re.search(r'name="call_id" value="([^"]+)"', page)
    assert call_id is not None
    form = {"csrf_token": csrf, "call_id": call_id.group(1), "caller_number": "601 234 567", "notes": "SN 2214G-00417"}
    response = await client.post("/agent/calls", data=form)
    reference = re.search(r'id="reference">(HZ-\d{4}-\d{6})<', await response.text())
    assert reference is not None
    repeat = await client.post("/agent/calls", data=form)
    assert reference.group(1) in await repeat.text(), "the same form sent twice is one call"
    async with deps.store.reading() as conn:
        stored = await reads.request_by_reference(conn, reference.group(1))
    assert stored is not None
    assert stored.data["channel"] == "phone"
    assert stored.data["serial_numbers"] == ["2214G-00417"]
    assert (await client.post("/agent/calls", data={**form, "csrf_token": ""})).status == 403


async def test_the_request_page_moves_the_state_and_refuses_an_illegal_move(client: Client) -> None:
    reference = await portal_request(client, "P-STATE")
    await log_in(client)
    page = await (await client.get(f"/desk/requests/{reference}")).text()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    refused = await client.post(
        f"/desk/requests/{reference}/state", data={"csrf_token": csrf.group(1), "state": "delivered"}
    )
    assert refused.status == 409
    moved = await client.post(
        f"/desk/requests/{reference}/state",
        data={"csrf_token": csrf.group(1), "state": "verified", "note": "logs checked"},
        allow_redirects=False,
    )
    assert moved.status == 303
    page = await (await client.get(f"/desk/requests/{reference}")).text()
    assert "verified" in page
    missing_csrf = await client.post(f"/desk/requests/{reference}/state", data={"state": "rejected"})
    assert missing_csrf.status == 403


async def test_an_agent_session_with_its_csrf_header_may_post_a_call_record(client: Client) -> None:
    call = json.dumps({"call_id": "c-agent-1", "caller_number": "601 234 567", "notes": "S/N 2214G-00417"})
    assert (await client.post("/api/v1/phone/calls", data=call)).status == 401
    csrf = await log_in(client)
    assert (await client.post("/api/v1/phone/calls", data=call)).status == 403  # the cookie alone is not enough
    accepted = await client.post("/api/v1/phone/calls", data=call, headers={"X-CSRF-Token": csrf})
    assert accepted.status == 202
    assert (await accepted.json())["reference"] == "HZ-2026-000001"
