"""Browser tests: Debian's Chromium driven by Playwright against the app served on a loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, async_playwright

from gateway.steps import PipelineDeps
from gateway.store import Store
from gateway.store.blobs import BlobStore
from tests.support.system import require_binary
from tests.support.web_app import add_agent, web_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts" / "browser"


@dataclass(frozen=True)
class LiveApp:
    base_url: str
    deps: PipelineDeps


def one_hour_after(received_at: datetime, _window: str) -> datetime:
    return received_at + timedelta(hours=1)


@pytest.fixture
async def live_app(tmp_path: Path) -> AsyncIterator[LiveApp]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    deps = PipelineDeps(
        store=store,
        blobs=BlobStore(tmp_path / "data"),
        own_addresses=frozenset({"pomoc@myhezo.pl"}),
        ack_domain="myhezo.pl",
        response_due=one_hour_after,
    )
    await add_agent(deps)
    server = TestServer(web_app(deps), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield LiveApp(str(server.make_url("")).rstrip("/"), deps)
    finally:
        await server.close()
        await store.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = require_binary(CHROMIUM, "the browser tests drive Debian's Chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
