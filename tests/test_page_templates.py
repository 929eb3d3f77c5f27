"""Web pages and their static files from a folder of one's own (`[web] templates_dir`), checked like the bundled."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import ValidationError

from gateway.paths import TEMPLATES_DIR
from gateway.steps import PipelineDeps
from tests.support.web_app import web_app, web_settings


def pages_of_our_own(folder: Path) -> Path:
    """A copy of the bundled pages with the login page's heading and the style sheet changed."""
    shutil.copytree(TEMPLATES_DIR / "web", folder / "web")
    login = folder / "web" / "login.html"
    login.write_text(login.read_text().replace('<h1>{{ _("login_title") }}</h1>', "<h1>Serwis partnerski</h1>"))
    (folder / "web" / "static" / "style.css").write_text("body { color: teal; }\n")
    return folder


@pytest.fixture
async def client(deps: PipelineDeps, tmp_path: Path) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    settings = web_settings(web={"templates_dir": str(pages_of_our_own(tmp_path / "pages"))})
    async with TestClient(TestServer(web_app(deps, settings))) as client:
        yield client


async def test_pages_and_static_files_come_from_the_configured_folder(client: TestClient) -> None:  # type: ignore[type-arg]
    page = await client.get("/agent/login")
    assert page.status == 200
    assert "<h1>Serwis partnerski</h1>" in await page.text()
    style = await client.get("/static/style.css")
    assert await style.text() == "body { color: teal; }\n"


async def test_without_a_folder_the_bundled_pages_are_served(deps: PipelineDeps) -> None:
    async with TestClient(TestServer(web_app(deps))) as client:
        page = await (await client.get("/agent/login")).text()
        style = await (await client.get("/static/style.css")).text()
    assert "Serwis partnerski" not in page and "<h1>" in page
    assert style == (TEMPLATES_DIR / "web" / "static" / "style.css").read_text()


def test_a_pages_folder_must_hold_every_page_and_static_file(tmp_path: Path) -> None:
    ours = pages_of_our_own(tmp_path / "pages")
    (ours / "web" / "static" / "desk.js").unlink()
    (ours / "web" / "request.html").unlink()
    with pytest.raises(ValidationError, match=re.escape("web/request.html, web/static/desk.js")):
        web_settings(web={"templates_dir": str(ours)})
    with pytest.raises(ValidationError, match="lacks pages"):
        web_settings(web={"templates_dir": str(tmp_path / "nowhere")})
