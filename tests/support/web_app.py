"""The HTTP app with every web door installed, an agent account, and helpers shared by the web and browser tests."""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

from aiohttp import web

from channels import console, hotline, portal
from gateway import agents, api, desk, passwords
from gateway.config import Settings
from gateway.metrics import Metrics
from gateway.sessions import PortalIdentity, sign_portal_link
from gateway.steps import PipelineDeps
from gateway.store import web_queries
from gateway.store.reads import utc
from gateway.web import build_app

API_TOKEN = "api-token-for-tests"
PORTAL_TOKEN = "portal-token-for-tests"
LINK_SECRET = "link-secret-for-tests"
AGENT_NAME = "a.nowak"
AGENT_PASSWORD = "correct horse battery staple"
MAX_ATTACHMENT = 4096
PARTNER = PortalIdentity(login="vzam:jkowalski", account_type="partner", name="Jan Kowalski", email="jan@example.pl")
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')

# A cheap KDF cost for the test account: the production parameters are exercised by the hashing tests.
_FAST = {"n": 2**10, "r": 8, "p": 1}


def web_settings(**overrides: Any) -> Settings:
    data: dict[str, Any] = {
        "api": {"tokens": [API_TOKEN]},
        "portal": {"tokens": [PORTAL_TOKEN], "max_attachment_bytes": MAX_ATTACHMENT, "link_secret": LINK_SECRET},
        "web": {"session_secret": "session-secret-for-tests", "login_attempts_per_15min": 3},
    }
    for section, values in overrides.items():
        data.setdefault(section, {}).update(values)
    return Settings.model_validate(data)


def web_app(deps: PipelineDeps, settings: Settings | None = None) -> web.Application:
    return build_app(
        settings=settings or web_settings(),
        store=deps.store,
        deps=deps,
        metrics_=Metrics(),
        installers=[api.install, hotline.install, portal.install, agents.install, console.install, desk.install],
    )


async def add_agent(deps: PipelineDeps, name: str = AGENT_NAME, password: str = AGENT_PASSWORD) -> None:
    async with deps.store.engine.begin() as conn:
        created = utc(deps.clock())
        assert created is not None
        hashed = passwords.hash_password(password, **_FAST)
        assert await web_queries.add_agent(conn, name, "Anna Nowak", hashed, created)


def portal_link(identity: PortalIdentity = PARTNER, *, valid_for_s: int = 600, secret: str = LINK_SECRET) -> str:
    expires = int(time.time()) + valid_for_s
    query = {
        "login": identity.login,
        "account_type": identity.account_type,
        "name": identity.name,
        "email": identity.email,
        "expires": str(expires),
        "sig": sign_portal_link(secret, identity, expires),
    }
    from urllib.parse import urlencode

    return f"/portal/?{urlencode(query)}"


def submission(submission_id: str = "P-000123", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "submission_id": submission_id,
        "submitted_at": "2026-11-24T10:15:00+01:00",
        "login": "vzam:jkowalski",
        "account_type": "partner",
        "company": "Example Sp. z o.o.",
        "contact": {"name": "Jan Kowalski", "email": "jan@example.pl", "phone": "+48 601 234 567"},
        "serial_number": "2214G-00417",
        "contract_number": "",
        "product": "X440-G2",
        "severity": "high",
        "subject": "Awaria przełącznika",
        "description": "Przełącznik nie startuje.",
        "language": "pl",
        "attachments": [],
    }
    body.update(fields)
    return body


def attachment(content: bytes, filename: str = "show_tech.txt") -> dict[str, str]:
    return {"filename": filename, "content_type": "text/plain", "content_base64": base64.b64encode(content).decode()}


def as_json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def csrf_of(page: str) -> str:
    found = CSRF_INPUT.search(page)
    assert found is not None, "the page has no CSRF token"
    return found.group(1)
