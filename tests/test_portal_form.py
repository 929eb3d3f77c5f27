"""The /portal/ form: signed links, CSRF, streamed uploads with a size limit, errors next to the field."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import FormData, web
from aiohttp.test_utils import TestClient, TestServer

from channels.portal_form import identity_from_link
from gateway.steps import PipelineDeps
from gateway.store import reads
from tests.support.web_app import LINK_SECRET, MAX_ATTACHMENT, PARTNER, csrf_of, portal_link, web_app

Client = TestClient[web.Request, web.Application]
SUBMISSION_ID = re.compile(r'name="submission_id" value="([^"]+)"')


@pytest.fixture
async def client(deps: PipelineDeps) -> AsyncIterator[Client]:
    async with TestClient(TestServer(web_app(deps))) as test_client:
        yield test_client


async def open_form(client: Client) -> str:
    landing = await client.get(portal_link(), allow_redirects=False)
    assert landing.status == 303
    assert landing.headers["Location"] == "/portal/", "the signature leaves the address bar"
    page = await client.get("/portal/")
    assert page.status == 200
    return await page.text()


def form_data(page: str, *, csrf: bool = True, files: tuple[tuple[str, bytes], ...] = (), **fields: str) -> FormData:
    data = FormData()
    if csrf:
        data.add_field("csrf_token", csrf_of(page))
    found = SUBMISSION_ID.search(page)
    assert found is not None
    data.add_field("submission_id", found.group(1))
    values = {"subject": "Awaria", "description": "Nie działa port 12.", "serial_number": "SN: 2214G-00417"}
    for name, value in {**values, **fields}.items():
        data.add_field(name, value)
    for filename, content in files:
        data.add_field("attachments", content, filename=filename, content_type="text/plain")
    return data


async def test_without_a_signed_link_the_form_does_not_open(client: Client) -> None:
    assert (await client.get("/portal/")).status == 403
    forged = portal_link(secret="not the portal's secret")
    assert (await client.get(forged)).status == 403
    assert (await client.get(portal_link(valid_for_s=-1))).status == 403
    assert (await client.get(portal_link(valid_for_s=365 * 86400))).status == 403, "longer than link_max_age_s"


def test_links_are_refused_when_no_secret_is_configured() -> None:
    query = {"login": "x", "account_type": "user", "name": "", "email": "", "expires": str(int(time.time()) + 60)}
    assert identity_from_link(query, "", 3600, time.time()) is None
    assert identity_from_link({**query, "sig": "00"}, LINK_SECRET, 3600, time.time()) is None


async def test_the_form_submits_with_an_attachment_and_shows_the_reference(client: Client, deps: PipelineDeps) -> None:
    page = await open_form(client)
    assert PARTNER.name in page
    response = await client.post("/portal/", data=form_data(page, files=(("show_tech.txt", b"uptime 3 days\n"),)))
    assert response.status == 200
    text = await response.text()
    reference = re.search(r'id="reference">(HZ-\d{4}-\d{6})<', text)
    assert reference is not None
    assert "numeru kontraktu" in text, "what is still missing is shown"
    async with deps.store.reading() as conn:
        stored = await reads.request_by_reference(conn, reference.group(1))
        assert stored is not None
        attachments = await reads.attachments_of(conn, stored.id)
    assert stored.data["reporter"]["portal_login"] == PARTNER.login
    assert stored.data["serial_numbers"] == ["2214G-00417"]
    assert [a["filename"] for a in attachments] == ["show_tech.txt"]
    assert deps.blobs.get(attachments[0]["sha256"]) == b"uptime 3 days\n"


async def test_sending_the_same_form_twice_gives_one_request(client: Client) -> None:
    page = await open_form(client)
    first = await (await client.post("/portal/", data=form_data(page))).text()
    again = await (await client.post("/portal/", data=form_data(page))).text()
    pattern = r'id="reference">(HZ-\d{4}-\d{6})<'
    assert re.findall(pattern, first) == re.findall(pattern, again)


async def test_missing_csrf_token_is_403(client: Client, deps: PipelineDeps) -> None:
    page = await open_form(client)
    assert (await client.post("/portal/", data=form_data(page, csrf=False))).status == 403
    async with deps.store.reading() as conn:
        assert await reads.list_requests(conn, reads.RequestFilter()) == []


async def test_an_oversized_file_is_refused_next_to_its_field(client: Client, deps: PipelineDeps) -> None:
    page = await open_form(client)
    big = (("big.log", b"x" * (MAX_ATTACHMENT + 1)),)
    response = await client.post("/portal/", data=form_data(page, files=big))
    assert response.status == 413
    text = await response.text()
    assert 'id="attachments-error"' in text
    assert 'value="Awaria"' in text, "what was typed stays in the form"
    async with deps.store.reading() as conn:
        assert await reads.list_requests(conn, reads.RequestFilter()) == []


async def test_validation_errors_are_shown_next_to_the_fields(client: Client) -> None:
    page = await open_form(client)
    response = await client.post("/portal/?lang=en", data=form_data(page, subject="", phone="call me maybe"))
    assert response.status == 400
    text = await response.text()
    assert re.search(r'id="subject-error">This field is required', text)
    assert re.search(r'id="phone-error">This does not look like a phone number', text)
