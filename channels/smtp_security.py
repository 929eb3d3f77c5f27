"""TLS and AUTH for the SMTP door: STARTTLS when a certificate is configured, AUTH for trusted relays.

Security decisions made here:
- STARTTLS is offered when smtp.tls_cert/tls_key are set; the context is built once at start-up, TLS 1.2 or newer.
  Client certificates are not asked for (an MX cannot expect them) and TLS stays optional unless
  require_starttls: most MTAs deliver opportunistically and refusing them would lose failure reports.
- AUTH (PLAIN, LOGIN) checks smtp.auth_users and is offered only inside TLS, so passwords never cross the wire in
  clear. It identifies a trusted relay (kept in the envelope); it never widens what is accepted: recipients stay
  limited to our own mailboxes for everybody, so a stolen password cannot turn the gateway into a relay.
- auth_users holds scrypt hashes (`hezo-gateway smtp-password` prints one); a plain-text value still works for
  old configurations, compared in constant time, and is warned about at start. An unknown user costs the same
  check as a wrong password. The check runs in a worker thread (see GatewaySMTP in smtp_protocol.py): scrypt takes
  a tenth of a second, which would stall every other session if the event loop waited for it.
"""

from __future__ import annotations

import hmac
import ssl
from collections.abc import Mapping
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from gateway.config import SmtpSettings
from gateway.logs import get_logger
from gateway.passwords import DUMMY_HASH, is_hash, verify_password

log = get_logger("channels.smtp")

AUTH_MECHANISMS = ("LOGIN", "PLAIN")


def server_tls_context(settings: SmtpSettings) -> ssl.SSLContext | None:
    """The STARTTLS context, or None when no certificate is configured (STARTTLS not offered)."""
    if not settings.tls_cert and not settings.tls_key:
        return None
    if not settings.tls_cert or not settings.tls_key:
        raise ValueError("smtp.tls_cert and smtp.tls_key must be set together")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.tls_cert, settings.tls_key)
    return context


class RelayAuthenticator:
    """aiosmtpd `authenticator`: checks a login and password against smtp.auth_users. Blocks while scrypt runs."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self._users = dict(users)

    @property
    def plain_text_logins(self) -> list[str]:
        return sorted(login for login, stored in self._users.items() if not is_hash(stored))

    def check(self, login: str, password: bytes) -> bool:
        stored = self._users.get(login)
        if stored is None:
            verify_password(password, DUMMY_HASH)
            return False
        if is_hash(stored):
            return verify_password(password, stored)
        return hmac.compare_digest(password, stored.encode())

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", errors="replace")
        if not self.check(login, auth_data.password):
            log.warning("SMTP AUTH failed", login=login, mechanism=mechanism, peer=str(session.peer))
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, handled=False, auth_data=login)


def require_starttls(settings: SmtpSettings) -> bool:
    """smtp.require_starttls (default false); read defensively until SmtpSettings declares the field."""
    return settings.require_starttls


def auth_require_tls(settings: SmtpSettings) -> bool:
    """smtp.auth_require_tls (default true); read defensively until SmtpSettings declares the field."""
    return settings.auth_require_tls
