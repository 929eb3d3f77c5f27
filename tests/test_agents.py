"""Agent accounts: password hashing, login and logout, CSRF, the login rate limit, signed sessions, the CLI."""

from __future__ import annotations

import argparse
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from gateway import agents, passwords
from gateway.sessions import SESSION_COOKIE, PortalIdentity, Session, decode_session, encode_session
from gateway.steps import PipelineDeps
from gateway.store import Store, web_queries
from tests.support.web_app import AGENT_NAME, AGENT_PASSWORD, add_agent, csrf_of, web_app, web_settings

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(deps: PipelineDeps) -> AsyncIterator[Client]:
    await add_agent(deps)
    async with TestClient(TestServer(web_app(deps))) as test_client:
        yield test_client


async def login(client: Client, name: str = AGENT_NAME, password: str = AGENT_PASSWORD) -> ClientResponse:
    page = await (await client.get("/agent/login")).text()
    form = {"csrf_token": csrf_of(page), "name": name, "password": password, "next": "/desk/"}
    return await client.post("/agent/login", data=form, allow_redirects=False)


def test_hash_verifies_only_the_right_password() -> None:
    hashed = passwords.hash_password("correct horse battery staple")
    assert hashed.startswith("scrypt$32768$8$1$")
    assert passwords.verify_password("correct horse battery staple", hashed)
    assert not passwords.verify_password("correct horse battery stapler", hashed)
    assert hashed != passwords.hash_password("correct horse battery staple"), "a random salt per hash"
    assert not passwords.verify_password("anything", "not-a-hash")


async def test_login_sets_a_signed_httponly_cookie_and_opens_the_desk(client: Client) -> None:
    response = await login(client)
    assert response.status == 303
    assert response.headers["Location"] == "/desk/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Max-Age=" in cookie
    desk = await client.get("/desk/", allow_redirects=False)
    assert desk.status == 200


async def test_wrong_password_and_unknown_name_get_the_same_answer(client: Client) -> None:
    wrong = await login(client, password="wrong password!")
    unknown = await login(client, name="nobody")
    assert wrong.status == unknown.status == 401
    assert "Nieprawidłowy login lub hasło" in await wrong.text()
    assert (await client.get("/desk/", allow_redirects=False)).status == 303


async def test_login_without_csrf_token_is_403(client: Client) -> None:
    form = {"name": AGENT_NAME, "password": AGENT_PASSWORD}
    response = await client.post("/agent/login", data=form, allow_redirects=False)
    assert response.status == 403
    assert (await client.get("/desk/", allow_redirects=False)).status == 303


async def test_logout_needs_csrf_and_ends_the_session(client: Client) -> None:
    await login(client)
    page = await (await client.get("/desk/")).text()
    assert (await client.post("/agent/logout", data={}, allow_redirects=False)).status == 403
    assert (await client.get("/desk/", allow_redirects=False)).status == 200
    out = await client.post("/agent/logout", data={"csrf_token": csrf_of(page)}, allow_redirects=False)
    assert out.status == 303
    assert (await client.get("/desk/", allow_redirects=False)).status == 303


async def test_logout_ends_every_copy_of_the_session_cookie(client: Client, deps: PipelineDeps) -> None:
    await login(client)
    copied = {SESSION_COOKIE: client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value}
    assert (await client.get("/desk/", cookies=copied, allow_redirects=False)).status == 200
    page = await (await client.get("/desk/")).text()
    assert (await client.post("/agent/logout", data={"csrf_token": csrf_of(page)}, allow_redirects=False)).status == 303
    # The copy still carries a valid signature and expiry: only the server-side revocation refuses it.
    assert (await client.get("/desk/", cookies=copied, allow_redirects=False)).status == 303
    await login(client)  # a new login is a new session, unaffected
    assert (await client.get("/desk/", allow_redirects=False)).status == 200


async def test_revocations_are_forgotten_once_their_cookie_would_have_expired(deps: PipelineDeps) -> None:
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    await deps.store.run_in_transaction(
        lambda tx: web_queries.revoke_session(tx.conn, "old", now - timedelta(minutes=1), now=now - timedelta(hours=8))
    )
    await deps.store.run_in_transaction(
        lambda tx: web_queries.revoke_session(tx.conn, "new", now + timedelta(hours=8), now=now)
    )
    async with deps.store.reading() as conn:
        assert [await web_queries.session_revoked(conn, sid) for sid in ("old", "new")] == [False, True]


async def test_failed_logins_are_limited_per_account(client: Client, deps: PipelineDeps) -> None:
    for _ in range(3):  # the test settings allow 3 failures per 15 minutes
        assert (await login(client, password="guess")).status == 401
    blocked = await login(client)  # even the right password is refused while the account is blocked
    assert blocked.status == 429
    assert "Retry-After" in blocked.headers
    async with deps.store.reading() as conn:
        from datetime import UTC, datetime, timedelta

        since = datetime.now(UTC) - timedelta(minutes=15)
        assert await web_queries.failed_logins_since(conn, f"agent:{AGENT_NAME}", since) == 3


async def test_failed_logins_are_limited_per_address(client: Client) -> None:
    for n in range(12):  # four times the account limit, spread over many names
        assert (await login(client, name=f"guess{n}", password="guess")).status == 401
    assert (await login(client)).status == 429


async def test_attempts_older_than_the_window_are_forgotten(client: Client, deps: PipelineDeps) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import func, select

    from gateway.store import tables as t

    long_ago = datetime.now(UTC) - timedelta(hours=2)
    old_keys = ("agent:someone", "addr:192.0.2.7")
    await deps.store.run_in_transaction(
        lambda tx: web_queries.record_login_attempt(
            tx.conn, old_keys, long_ago, False, forget_before=long_ago - timedelta(days=1)
        )
    )
    assert (await login(client, password="guess")).status == 401
    async with deps.store.reading() as conn:
        keys = [row.key for row in await conn.execute(select(t.login_attempts.c.key))]
        total = (await conn.execute(select(func.count()).select_from(t.login_attempts))).scalar_one()
    assert not set(old_keys) & set(keys)
    assert total == 2  # the attempt just made, under its account and its address


async def test_the_limit_holds_across_processes(deps: PipelineDeps) -> None:
    """Two apps over one database (two gateway processes) share the count."""
    await add_agent(deps)
    async with TestClient(TestServer(web_app(deps))) as one, TestClient(TestServer(web_app(deps))) as two:
        for client in (one, two, one):
            assert (await login(client, password="guess")).status == 401
        assert (await login(two)).status == 429


async def test_login_redirects_only_to_local_paths(client: Client) -> None:
    page = await (await client.get("/agent/login")).text()
    form = {"csrf_token": csrf_of(page), "name": AGENT_NAME, "password": AGENT_PASSWORD, "next": "//evil.example/"}
    response = await client.post("/agent/login", data=form, allow_redirects=False)
    assert response.headers["Location"] == "/desk/"


def test_a_tampered_or_expired_session_is_refused() -> None:
    secret = b"k" * 32
    session = Session(sid="abc", expires=2_000_000_000, agent="a.nowak")
    cookie = encode_session(secret, session)
    assert decode_session(secret, cookie) == session
    _payload, _, signature = cookie.partition(".")
    forged = encode_session(b"other key", Session(sid="abc", expires=2_000_000_000, agent="admin"))
    assert decode_session(secret, forged) is None
    assert decode_session(secret, f"{forged.partition('.')[0]}.{signature}") is None
    assert decode_session(secret, cookie, now=2_000_000_001) is None
    portal = Session(sid="p", expires=2_000_000_000, portal=PortalIdentity("l", "user", "n", "e"), portal_expires=10)
    assert decode_session(secret, encode_session(secret, portal), now=20) == Session(sid="p", expires=2_000_000_000)


async def test_security_headers_on_pages(client: Client) -> None:
    response = await client.get("/agent/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


async def test_english_on_request(client: Client) -> None:
    response = await client.get("/agent/login?lang=en")
    assert "Agent login" in await response.text()
    assert "Agent login" in await (await client.get("/agent/login")).text(), "the choice is kept in a cookie"


async def test_cli_adds_an_agent_from_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    settings = web_settings(database={"url": url})
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert (
        await agents.add_agent_command(
            argparse.Namespace(name="B.Kowal", display_name="", reset_password=False), settings
        )
        == 0
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert (
        await agents.add_agent_command(argparse.Namespace(name="c", display_name="", reset_password=False), settings)
        == 2
    )
    store = await Store.open(url)
    try:
        async with store.reading() as conn:
            agent = await web_queries.agent_by_name(conn, "b.kowal")
    finally:
        await store.close()
    assert agent is not None
    assert passwords.verify_password("a long enough password", agent.password_hash)


def test_cli_registers_agents_add() -> None:
    parser = argparse.ArgumentParser()
    agents.register_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["agents", "add", "a.nowak", "--display-name", "Anna Nowak"])
    assert args.run is agents.add_agent_command
    assert args.name == "a.nowak"
