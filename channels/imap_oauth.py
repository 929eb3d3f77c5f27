"""The XOAUTH2 access token of an IMAP account: as configured, or fetched with a refresh token and renewed.

Hosted mailboxes (Microsoft 365, Google Workspace) refuse passwords and hand out access tokens that expire within
about an hour, so a token pasted into the configuration stops working the same day. With `oauth2_refresh_token`,
`oauth2_token_url` and `oauth2_client_id` set, the poller asks the provider's token endpoint for a fresh access
token (RFC 6749 section 6, the refresh-token grant) whenever the one it holds is about to expire, and again after
the server refused a login with it.

A provider may answer a refresh with a new refresh token (rotation) and invalidate the old one, sooner or later.
The new one is used for the next refresh and handed to `save_rotated`, which the poller points at the database;
before its first refresh a new `AccessTokens` asks `load_rotated` for such a token. So a restart, or another
gateway process taking over the account, carries on with the rotated token instead of the configured one. This
module knows nothing of the database: the two hooks are plain callables. A hook that fails is logged and the
login goes on with the token in memory: a missed save is retried at the next rotation, a failed load before the
next refresh.

Runs in the account's worker thread, like the rest of the IMAP session, so a blocking HTTP request is fine.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from channels.imap_policy import account_key
from gateway.config import ImapAccount
from gateway.logs import get_logger

# Renew this long before the provider's expiry: the login itself, and clocks that disagree, take a while.
RENEW_BEFORE_EXPIRY_S = 120.0
DEFAULT_LIFETIME_S = 3600.0  # when the endpoint does not say (expires_in is only RECOMMENDED)
_MAX_RESPONSE_BYTES = 64 * 1024

log = get_logger("channels.imap")


class OAuthError(OSError):
    """No access token: the poller treats it as a failed connection (logged, retried after a backoff)."""


class AccessTokens:
    def __init__(
        self,
        account: ImapAccount,
        *,
        timeout_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        load_rotated: Callable[[], str | None] | None = None,
        save_rotated: Callable[[str], None] | None = None,
    ) -> None:
        """`load_rotated` answers a refresh token rotated earlier (None: there is none, use the configured one);
        `save_rotated` keeps a newly rotated one for the next `AccessTokens` of this account."""
        self.account = account
        self.timeout_s = timeout_s
        self.clock = clock
        self.load_rotated = load_rotated
        self.save_rotated = save_rotated
        self._refresh_token = account.oauth2_refresh_token
        self._rotated_looked_up = False
        self._token = ""
        self._renew_at = 0.0

    @property
    def refreshes(self) -> bool:
        return bool(self.account.oauth2_refresh_token)

    def current(self) -> str:
        """The access token to log in with ('' when the account logs in with a password)."""
        if not self.refreshes:
            return self.account.oauth2_token
        if not self._token or self.clock() >= self._renew_at:
            self._fetch()
        return self._token

    def forget(self) -> None:
        """The server refused the token (revoked, or expired early): the next login fetches a new one."""
        self._token = ""

    def _fetch(self) -> None:
        if self.load_rotated is not None and not self._rotated_looked_up:
            self._adopt_rotated(self.load_rotated)
        account = self.account
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token,
            "client_id": account.oauth2_client_id,
        }
        if account.oauth2_client_secret:
            form["client_secret"] = account.oauth2_client_secret
        if account.oauth2_scope:
            form["scope"] = account.oauth2_scope
        request = urllib.request.Request(
            account.oauth2_token_url,
            data=urllib.parse.urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            method="POST",
        )
        asked_at = self.clock()
        answer = self._post(request)
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise OAuthError(f"token endpoint {account.oauth2_token_url} answered without an access_token")
        try:
            lifetime_s = float(answer.get("expires_in", DEFAULT_LIFETIME_S))
        except (TypeError, ValueError):
            lifetime_s = DEFAULT_LIFETIME_S
        if not lifetime_s > 0:  # also NaN
            lifetime_s = DEFAULT_LIFETIME_S
        self._token = token
        # A short-lived token is renewed halfway through its life rather than never used at all.
        self._renew_at = asked_at + max(lifetime_s - RENEW_BEFORE_EXPIRY_S, lifetime_s / 2)
        # Whatever the store held, the token in memory has just worked: it is the one to go on with.
        self._rotated_looked_up = True
        rotated = answer.get("refresh_token")
        if isinstance(rotated, str) and rotated:
            self._refresh_token = rotated
            self._keep_rotated(rotated)

    def _adopt_rotated(self, load_rotated: Callable[[], str | None]) -> None:
        try:
            stored = load_rotated()
        except Exception as exc:
            # Carry on with the token in memory (the configured one, most likely still valid for a while) and ask
            # again before the next refresh. Never log a token: the error names the store's failure only.
            log.warning(
                "rotated oauth refresh token not loaded",
                account=account_key(self.account),
                error=f"{type(exc).__name__}: {exc}",
            )
            return
        self._rotated_looked_up = True
        if stored:
            self._refresh_token = stored

    def _keep_rotated(self, rotated: str) -> None:
        if self.save_rotated is None:
            return
        try:
            self.save_rotated(rotated)
        except Exception as exc:
            # The login goes on; the token in memory is the right one, and the next rotation tries to save again.
            log.warning(
                "rotated oauth refresh token not saved",
                account=account_key(self.account),
                error=f"{type(exc).__name__}: {exc}",
            )

    def _post(self, request: urllib.request.Request) -> dict[str, Any]:
        url = self.account.oauth2_token_url
        try:
            # The URL is https, or http on loopback only (checked with the configuration).
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                body = response.read(_MAX_RESPONSE_BYTES)
        except urllib.error.HTTPError as exc:
            raise OAuthError(f"token endpoint {url} refused the refresh: HTTP {exc.code} {_reason(exc)}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise OAuthError(f"token endpoint {url} not reachable: {exc}") from exc
        try:
            answer = json.loads(body)
        except ValueError as exc:
            raise OAuthError(f"token endpoint {url} answered with something other than JSON") from exc
        if not isinstance(answer, dict):
            raise OAuthError(f"token endpoint {url} answered with JSON that is not an object")
        return answer


def _reason(error: urllib.error.HTTPError) -> str:
    """The OAuth error code and description of a refused refresh (`invalid_grant: …`), as far as it gives them."""
    try:
        answer = json.loads(error.read(_MAX_RESPONSE_BYTES))
    except (ValueError, OSError):
        return str(error.reason)
    if not isinstance(answer, dict):
        return str(error.reason)
    parts = [str(answer.get(key)) for key in ("error", "error_description") if answer.get(key)]
    return ": ".join(parts) or str(error.reason)
