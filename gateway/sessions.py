"""Signed session cookies and the CSRF tokens bound to them, for agents and for portal users.

The cookie holds the whole session: a random id, an expiry, and who the visitor is (an agent name, or the portal
identity from a signed link). The only server-side part is the list of agents' sessions ended by logout (checked on
every agents' request, see agents.current_agent), so a copy of a logged-out cookie is refused too. The cookie is
signed with HMAC-SHA256 under web.session_secret; an empty secret means a random key per start, which ends every
session on restart — set one in production, the same on every gateway host behind one address (the worker
processes of one `serve` share theirs).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web

from gateway.web import SETTINGS

SESSION_COOKIE = "hezo_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_SECRET = web.AppKey("session_secret", bytes)


@dataclass(frozen=True)
class PortalIdentity:
    """Who the myHEZO.pl portal says the visitor is (from its signed link): never typed into our form."""

    login: str
    account_type: str
    name: str
    email: str


@dataclass(frozen=True)
class Session:
    sid: str
    expires: int
    """Unix time after which the cookie is refused, whatever its Max-Age said."""
    agent: str | None = None
    portal: PortalIdentity | None = None
    portal_expires: int = 0


def ensure_secret(app: web.Application) -> None:
    """Called by every installer that needs sessions; the first call picks the key."""
    if SESSION_SECRET not in app:
        configured = app[SETTINGS].web.session_secret
        app[SESSION_SECRET] = configured.encode() if configured else secrets.token_bytes(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, purpose: str, payload: str) -> str:
    # The purpose is part of the MAC, so a CSRF token can never be replayed as a session signature or vice versa.
    return _b64(hmac.new(secret, f"{purpose}\x00{payload}".encode(), hashlib.sha256).digest())


def encode_session(secret: bytes, session: Session) -> str:
    body: dict[str, Any] = {"sid": session.sid, "exp": session.expires}
    if session.agent:
        body["agent"] = session.agent
    if session.portal:
        body["portal"] = session.portal.__dict__
        body["pexp"] = session.portal_expires
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_sign(secret, 'session', payload)}"


def decode_session(secret: bytes, value: str, now: float | None = None) -> Session | None:
    payload, _, signature = value.partition(".")
    if not signature or not hmac.compare_digest(signature, _sign(secret, "session", payload)):
        return None
    try:
        body = json.loads(_unb64(payload))
        session = Session(sid=str(body["sid"]), expires=int(body["exp"]), agent=body.get("agent"))
        portal = body.get("portal")
        if isinstance(portal, dict):
            session = replace(session, portal=PortalIdentity(**portal), portal_expires=int(body.get("pexp", 0)))
    except (ValueError, KeyError, TypeError):
        return None
    current = time.time() if now is None else now
    if session.expires < current:
        return None
    if session.portal is not None and session.portal_expires < current:
        session = replace(session, portal=None, portal_expires=0)
    return session


def new_session(app: web.Application, *, agent: str | None = None) -> Session:
    """A fresh random id: given at every login, so an id planted before the login is worthless after it."""
    return Session(
        sid=secrets.token_urlsafe(18), expires=int(time.time()) + app[SETTINGS].web.session_max_age_s, agent=agent
    )


def session_of(request: web.Request) -> Session | None:
    value = request.cookies.get(SESSION_COOKIE)
    return decode_session(request.app[SESSION_SECRET], value) if value else None


def session_or_new(request: web.Request) -> tuple[Session, bool]:
    """The visitor's session, or a new anonymous one (True) that the response must set."""
    existing = session_of(request)
    return (existing, False) if existing is not None else (new_session(request.app), True)


def set_session_cookie(request: web.Request, response: web.StreamResponse, session: Session) -> None:
    settings = request.app[SETTINGS].web
    response.set_cookie(
        SESSION_COOKIE,
        encode_session(request.app[SESSION_SECRET], session),
        max_age=max(0, session.expires - int(time.time())),
        path="/",
        # HttpOnly: scripts (ours or injected) never see the cookie. SameSite=Lax rather than Strict because the
        # portal's signed link is a cross-site top-level navigation that must arrive with the session it creates;
        # Lax still withholds the cookie from cross-site POSTs, and every form also carries a CSRF token.
        httponly=True,
        samesite="Lax",
        secure=settings.cookie_secure,
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")


def csrf_token(request: web.Request, session: Session) -> str:
    """Bound to the session id: a token from another visitor's page (or an old session) is refused."""
    return _sign(request.app[SESSION_SECRET], "csrf", session.sid)


def csrf_valid(request: web.Request, session: Session | None, submitted: str | None) -> bool:
    if session is None or not submitted:
        return False
    return hmac.compare_digest(submitted, csrf_token(request, session))


def sign_portal_link(secret: str, identity: PortalIdentity, expires: int) -> str:
    """The signature the myHEZO.pl portal puts on its link (also used by tests and by the portal's developers)."""
    message = "\n".join([identity.login, identity.account_type, identity.name, identity.email, str(expires)])
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
