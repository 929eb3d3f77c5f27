"""Agent accounts: password hashing, login and logout, the login rate limit, and `hezo-gateway agents add NAME`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from gateway.config import Settings
from gateway.pages import install_page_support, render
from gateway.passwords import DUMMY_HASH, hash_password, read_new_password, verify_password
from gateway.sessions import (
    CSRF_FIELD,
    CSRF_HEADER,
    Session,
    clear_session_cookie,
    csrf_token,
    csrf_valid,
    ensure_secret,
    new_session,
    session_of,
    session_or_new,
    set_session_cookie,
)
from gateway.store import web_queries
from gateway.web import SETTINGS, STORE, check_api_token, json_error

MIN_PASSWORD_LENGTH = 12
RATE_WINDOW = timedelta(minutes=15)
# One office (one NAT address) hosts several agents, so an address may fail a few times more than one account.
ADDRESS_LIMIT_FACTOR = 4
LOGIN_PATH = "/agent/login"


def safe_next(target: str | None) -> str:
    """Only a path on this site: `//evil.example` or `https://…` would make the login an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/desk/"
    return target


async def current_agent(request: web.Request) -> web_queries.Agent | None:
    """The logged-in agent, looked up on every request so a deactivated account or a logged-out session (any copy of
    its cookie) loses access at once."""
    session = session_of(request)
    if session is None or session.agent is None:
        return None
    async with request.app[STORE].reading() as conn:
        agent = await web_queries.agent_by_name(conn, session.agent)
        if agent is None or not agent.active or await web_queries.session_revoked(conn, session.sid):
            return None
    return agent


async def agent_page(request: web.Request) -> tuple[web_queries.Agent, Session]:
    """The logged-in agent and their session for an agents-only page; anyone else is sent to the login."""
    agent = await current_agent(request)
    if agent is None:
        raise login_redirect(request)
    session = session_of(request)
    assert session is not None  # current_agent found an agent, so there is a session
    return agent, session


async def api_or_agent(request: web.Request) -> str | web.Response:
    """Who is calling a JSON API that agents' pages also use: "api" for a valid bearer token, "agent:<name>" for an
    agent session that sent its CSRF header; otherwise the 401/403 response to give."""
    if request.headers.get("Authorization"):
        denied = check_api_token(request)
        return denied if denied is not None else "api"
    agent = await current_agent(request)
    if agent is None:
        return json_error(401, "a bearer token or an agent session is required")
    # A cookie alone does not authorise a write: a page on another site could make the browser send it.
    if not csrf_valid(request, session_of(request), request.headers.get(CSRF_HEADER)):
        return json_error(403, f"agent sessions must send the {CSRF_HEADER} header")
    return f"agent:{agent.name}"


def login_redirect(request: web.Request) -> web.HTTPSeeOther:
    language = "&lang=en" if request.query.get("lang") == "en" else ""
    return web.HTTPSeeOther(f"{LOGIN_PATH}?next={request.rel_url.path}{language}")


def forbidden_page(request: web.Request, reason_key: str) -> web.Response:
    return render(request, "error.html", {"title_key": "forbidden", "reason_key": reason_key}, status=403)


def _login_page(request: web.Request, session: Session, *, error_key: str = "", status: int = 200) -> web.Response:
    context: dict[str, Any] = {
        "csrf": csrf_token(request, session),
        "next": safe_next(request.query.get("next")),
        "error_key": error_key,
        "name": "",
    }
    return render(request, "login.html", context, status=status)


async def login_form(request: web.Request) -> web.Response:
    session, created = session_or_new(request)
    response = _login_page(request, session)
    if created:
        set_session_cookie(request, response, session)
    return response


async def _rate_limited(request: web.Request, keys: tuple[str, str], now: datetime) -> bool:
    limit = request.app[SETTINGS].web.login_attempts_per_15min
    async with request.app[STORE].reading() as conn:
        by_account = await web_queries.failed_logins_since(conn, keys[0], now - RATE_WINDOW)
        by_address = await web_queries.failed_logins_since(conn, keys[1], now - RATE_WINDOW)
    return by_account >= limit or by_address >= limit * ADDRESS_LIMIT_FACTOR


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    session = session_of(request)
    if session is None or not csrf_valid(request, session, str(form.get(CSRF_FIELD, ""))):
        return forbidden_page(request, "csrf_failed")
    name = str(form.get("name", "")).strip().lower()[:64]
    password = str(form.get("password", ""))
    now = datetime.now(UTC)
    # The address is the peer's; behind a reverse proxy it is the proxy's, and the per-account limit still holds.
    keys = (f"agent:{name}", f"addr:{request.remote or 'unknown'}")
    if await _rate_limited(request, keys, now):
        # Refused without checking the password, and not recorded, so guessing stays blocked for the whole window.
        response = _login_page(request, session, error_key="too_many_attempts", status=429)
        response.headers["Retry-After"] = str(int(RATE_WINDOW.total_seconds()))
        return response
    async with request.app[STORE].reading() as conn:
        agent = await web_queries.agent_by_name(conn, name)
    stored_hash = agent.password_hash if agent is not None and agent.active else DUMMY_HASH
    ok = await asyncio.to_thread(verify_password, password, stored_hash) and agent is not None and agent.active
    await request.app[STORE].run_in_transaction(
        lambda tx: web_queries.record_login_attempt(tx.conn, keys, now, ok, forget_before=now - RATE_WINDOW)
    )
    if not ok:
        # One message for an unknown name and a wrong password: the page does not confirm which accounts exist.
        return _login_page(request, session, error_key="wrong_login", status=401)
    fresh = new_session(request.app, agent=name)
    response = web.HTTPSeeOther(safe_next(str(form.get("next", ""))))
    set_session_cookie(request, response, fresh)
    raise response


async def logout(request: web.Request) -> web.Response:
    form = await request.post()
    if not csrf_valid(request, session_of(request), str(form.get(CSRF_FIELD, ""))):
        return forbidden_page(request, "csrf_failed")
    session = session_of(request)
    if session is not None and session.agent is not None:
        # Clearing our cookie is not enough: a copy of it (another tab's jar, a stolen one) must stop working too.
        now = datetime.now(UTC)
        expires_at = datetime.fromtimestamp(session.expires, UTC)
        await request.app[STORE].run_in_transaction(
            lambda tx: web_queries.revoke_session(tx.conn, session.sid, expires_at, now=now)
        )
    response = web.HTTPSeeOther(LOGIN_PATH)
    clear_session_cookie(response)
    raise response


def install(app: web.Application) -> None:
    ensure_secret(app)
    install_page_support(app)
    app.router.add_get(LOGIN_PATH, login_form)
    app.router.add_post(LOGIN_PATH, login)
    app.router.add_post("/agent/logout", logout)


# -- command line --------------------------------------------------------------------------------------------------
async def add_agent_command(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.store import Store

    name = args.name.strip().lower()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-" for c in name):
        print("hezo-gateway: agent names are letters, digits, '.', '_' or '-' (at most 64)", file=sys.stderr)
        return 2
    try:
        password = read_new_password()
    except ValueError as exc:
        print(f"hezo-gateway: {exc}", file=sys.stderr)
        return 2
    if len(password) < MIN_PASSWORD_LENGTH:
        print(f"hezo-gateway: the password needs at least {MIN_PASSWORD_LENGTH} characters", file=sys.stderr)
        return 2
    password_hash = await asyncio.to_thread(hash_password, password)
    store = await Store.open(settings.database.url)
    try:
        async with store.engine.connect() as conn:
            if await web_queries.add_agent(conn, name, args.display_name or name, password_hash, datetime.now(UTC)):
                await conn.commit()
                print(f"agent {name} added")
                return 0
            await conn.rollback()
            if not args.reset_password:
                print(f"hezo-gateway: agent {name} exists (use --reset-password to replace its password)")
                return 1
            await web_queries.set_agent_password(conn, name, password_hash)
            await conn.commit()
            print(f"password of agent {name} replaced")
            return 0
    finally:
        await store.close()


def register_cli(commands: Any) -> None:
    """Adds `agents add NAME [--display-name TEXT] [--reset-password]` to the CLI's subcommands."""
    agents = commands.add_parser("agents", help="desk agent accounts").add_subparsers(
        dest="agents_command", required=True
    )
    add = agents.add_parser("add", help="create an agent; the password is asked for (or read from stdin)")
    add.add_argument("name")
    add.add_argument("--display-name", default="")
    add.add_argument("--reset-password", action="store_true", help="replace the password of an existing agent")
    add.set_defaults(run=add_agent_command)
