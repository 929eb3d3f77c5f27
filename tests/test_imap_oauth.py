"""XOAUTH2 access tokens fetched with a refresh token from a token endpoint (a real HTTP server on loopback), and
a rotated refresh token kept in the store for the account's next poller."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from imapclient import IMAPClient
from pydantic import ValidationError
from structlog.testing import capture_logs

from channels.imap_oauth import AccessTokens, OAuthError
from channels.imap_policy import ImapTimeouts, ImapTuning
from channels.imap_poller import AccountPoller
from channels.imap_session import MailboxSession
from gateway.config import ImapAccount
from gateway.errors import StoreError
from gateway.intake import Outcome, RawIntake
from gateway.store import Store


class TokenEndpoint:
    """Answers each POST with the next queued (status, JSON body) and keeps the forms it was sent."""

    def __init__(self) -> None:
        self.forms: list[dict[str, str]] = []
        self.answers: list[tuple[int, Any]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                endpoint.forms.append(dict(urllib.parse.parse_qsl(self.rfile.read(length).decode())))
                status, body = endpoint.answers.pop(0)
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:  # keep the test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/oauth2/v2.0/token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[TokenEndpoint]:
    server = TokenEndpoint()
    yield server
    server.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def account(url: str, **extra: str) -> ImapAccount:
    fields = {
        "mailbox": "escalation",
        "host": "outlook.office365.com",
        "username": "escalation@myhezo.pl",
        "oauth2_refresh_token": "refresh-1",
        "oauth2_token_url": url,
        "oauth2_client_id": "client-id",
    }
    return ImapAccount.model_validate(fields | extra)


def test_the_access_token_is_fetched_with_the_refresh_token_grant(endpoint: TokenEndpoint) -> None:
    endpoint.answers.append((200, {"access_token": "access-1", "expires_in": 3599, "token_type": "Bearer"}))
    tokens = AccessTokens(account(endpoint.url, oauth2_client_secret="s3cret", oauth2_scope="IMAP offline_access"))
    assert tokens.current() == "access-1"
    assert endpoint.forms == [
        {
            "grant_type": "refresh_token",
            "refresh_token": "refresh-1",
            "client_id": "client-id",
            "client_secret": "s3cret",
            "scope": "IMAP offline_access",
        }
    ]


def test_the_token_is_kept_until_shortly_before_it_expires_and_a_rotated_refresh_token_is_used(
    endpoint: TokenEndpoint,
) -> None:
    endpoint.answers += [
        (200, {"access_token": "access-1", "expires_in": 3600, "refresh_token": "refresh-2"}),
        (200, {"access_token": "access-2", "expires_in": "3600"}),
    ]
    clock = Clock()
    tokens = AccessTokens(account(endpoint.url), clock=clock)
    assert tokens.current() == "access-1"
    clock.now += 3000  # well inside its hour: no request
    assert tokens.current() == "access-1"
    assert len(endpoint.forms) == 1
    clock.now += 500  # within two minutes of expiry
    assert tokens.current() == "access-2"
    assert endpoint.forms[1]["refresh_token"] == "refresh-2"


def test_a_rotated_refresh_token_is_handed_over_to_be_kept(endpoint: TokenEndpoint) -> None:
    endpoint.answers += [
        (200, {"access_token": "access-1", "refresh_token": "refresh-2"}),
        (200, {"access_token": "access-2"}),  # no rotation this time: nothing new to keep
    ]
    saved: list[str] = []
    tokens = AccessTokens(account(endpoint.url), save_rotated=saved.append)
    assert tokens.current() == "access-1"
    assert saved == ["refresh-2"]
    tokens.forget()
    assert tokens.current() == "access-2"
    assert saved == ["refresh-2"]


def test_a_kept_refresh_token_is_used_for_the_first_refresh_and_asked_for_once(endpoint: TokenEndpoint) -> None:
    endpoint.answers += [(200, {"access_token": "access-1"}), (200, {"access_token": "access-2"})]
    asked: list[str] = []

    def load_rotated() -> str | None:
        asked.append("load")
        return "refresh-7"

    tokens = AccessTokens(account(endpoint.url), load_rotated=load_rotated)
    assert tokens.current() == "access-1"
    tokens.forget()
    assert tokens.current() == "access-2"
    assert [form["refresh_token"] for form in endpoint.forms] == ["refresh-7", "refresh-7"]
    assert asked == ["load"]


def test_nothing_kept_means_the_configured_refresh_token(endpoint: TokenEndpoint) -> None:
    endpoint.answers.append((200, {"access_token": "access-1"}))
    assert AccessTokens(account(endpoint.url), load_rotated=lambda: None).current() == "access-1"
    assert endpoint.forms[0]["refresh_token"] == "refresh-1"


def store_down(*_: object) -> None:
    raise StoreError("database is locked")


def test_a_failed_save_is_logged_the_login_goes_on_and_the_next_rotation_is_saved(endpoint: TokenEndpoint) -> None:
    endpoint.answers += [
        (200, {"access_token": "access-1", "refresh_token": "refresh-2"}),
        (200, {"access_token": "access-2", "refresh_token": "refresh-3"}),
    ]
    saved: list[str] = []
    tokens = AccessTokens(account(endpoint.url), save_rotated=store_down)
    with capture_logs() as logs:
        assert tokens.current() == "access-1"
    assert [(entry["log_level"], entry["event"]) for entry in logs] == [
        ("warning", "rotated oauth refresh token not saved")
    ]
    assert logs[0]["error"] == "StoreError: database is locked"
    assert "refresh-2" not in str(logs)
    tokens.save_rotated = saved.append  # the database is back
    tokens.forget()
    assert tokens.current() == "access-2"
    assert endpoint.forms[1]["refresh_token"] == "refresh-2"  # the rotated token in memory, unsaved or not
    assert saved == ["refresh-3"]


def test_a_failed_load_is_logged_the_configured_token_used_and_the_load_retried_after_a_failed_refresh(
    endpoint: TokenEndpoint,
) -> None:
    endpoint.answers += [
        (400, {"error": "invalid_grant"}),  # the configured token was rotated away by an earlier process
        (200, {"access_token": "access-1"}),
    ]
    tokens = AccessTokens(account(endpoint.url), load_rotated=store_down)
    with capture_logs() as logs, pytest.raises(OAuthError, match="invalid_grant"):
        tokens.current()
    assert [(entry["log_level"], entry["event"]) for entry in logs] == [
        ("warning", "rotated oauth refresh token not loaded")
    ]
    assert endpoint.forms[0]["refresh_token"] == "refresh-1"
    tokens.load_rotated = lambda: "refresh-7"  # the database is back
    assert tokens.current() == "access-1"
    assert endpoint.forms[1]["refresh_token"] == "refresh-7"


def test_a_failed_load_does_not_stop_a_login_with_the_configured_token(endpoint: TokenEndpoint) -> None:
    endpoint.answers.append((200, {"access_token": "access-1"}))
    with capture_logs() as logs:
        assert AccessTokens(account(endpoint.url), load_rotated=store_down).current() == "access-1"
    assert [entry["event"] for entry in logs] == ["rotated oauth refresh token not loaded"]


def test_a_refused_login_makes_the_next_login_fetch_a_new_token(endpoint: TokenEndpoint) -> None:
    endpoint.answers += [(200, {"access_token": "revoked"}), (200, {"access_token": "fresh"})]
    tokens = AccessTokens(account(endpoint.url))
    assert tokens.current() == "revoked"
    tokens.forget()
    assert tokens.current() == "fresh"


def test_a_refused_refresh_says_why_and_counts_as_a_connection_failure(endpoint: TokenEndpoint) -> None:
    endpoint.answers.append((400, {"error": "invalid_grant", "error_description": "AADSTS70008: token expired"}))
    with pytest.raises(OAuthError, match="HTTP 400 invalid_grant: AADSTS70008") as refused:
        AccessTokens(account(endpoint.url)).current()
    # The poller backs off and reconnects on OSError, as after a dropped connection.
    assert isinstance(refused.value, OSError)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"token_type": "Bearer"}, "without an access_token"),
        (b"<html>sign in</html>", "other than JSON"),
        (["access"], "not an object"),
    ],
)
def test_a_useless_answer_is_an_error(endpoint: TokenEndpoint, answer: Any, message: str) -> None:
    endpoint.answers.append((200, answer))
    with pytest.raises(OAuthError, match=message):
        AccessTokens(account(endpoint.url)).current()


def test_an_unreachable_endpoint_is_an_error() -> None:
    closed = TokenEndpoint()
    url = closed.url
    closed.close()
    with pytest.raises(OAuthError, match="not reachable"):
        AccessTokens(account(url), timeout_s=5).current()


def test_without_a_refresh_token_the_configured_token_or_the_password_is_used() -> None:
    fixed = ImapAccount(mailbox="pomoc", host="h", username="u", oauth2_token="pasted-token")
    assert AccessTokens(fixed).current() == "pasted-token"
    assert AccessTokens(fixed.model_copy(update={"oauth2_token": "", "password": "p"})).current() == ""


def test_a_refresh_token_needs_an_endpoint_and_a_client() -> None:
    with pytest.raises(ValidationError, match="needs oauth2_token_url and oauth2_client_id"):
        ImapAccount(mailbox="pomoc", host="h", username="u", oauth2_refresh_token="r")


@pytest.mark.parametrize("url", ["http://login.example.com/token", "ftp://127.0.0.1/token"])
def test_the_token_endpoint_must_be_https_off_this_machine(url: str) -> None:
    with pytest.raises(ValidationError, match="must be https"):
        account(url)
    account("https://login.microsoftonline.com/tenant/oauth2/v2.0/token")  # accepted


class RefusingClient:
    """An IMAP client whose server refuses every XOAUTH2 login."""

    def __init__(self) -> None:
        self.tokens_tried: list[str] = []

    def oauth2_login(self, username: str, token: str) -> None:
        self.tokens_tried.append(token)
        raise IMAPClient.Error("AUTHENTICATE failed")

    def socket(self) -> Any:
        class NoTimeouts:
            def settimeout(self, seconds: float) -> None:
                pass

        return NoTimeouts()


def test_a_session_whose_login_is_refused_forgets_the_token(endpoint: TokenEndpoint) -> None:
    endpoint.answers += [(200, {"access_token": "revoked"}), (200, {"access_token": "fresh"})]
    tokens = AccessTokens(account(endpoint.url))
    client = RefusingClient()
    session = MailboxSession(client, tokens.account, timeouts=ImapTimeouts())
    with pytest.raises(IMAPClient.Error):
        session._login(tokens)
    with pytest.raises(IMAPClient.Error):
        session._login(tokens)
    assert client.tokens_tried == ["revoked", "fresh"]


# -- the account's poller keeps a rotated refresh token in the store ------------------------------------------------
async def never_called(raw: RawIntake) -> Outcome:
    raise AssertionError("no mail in these tests")


def poller_for(config: ImapAccount, store: Store) -> AccountPoller:
    return AccountPoller(
        config,
        submit=never_called,
        store=store,
        loop=asyncio.get_running_loop(),
        poll_interval_s=60.0,
        tuning=ImapTuning(),
    )


async def first_token(config: ImapAccount, store: Store) -> str:
    """What a freshly started poller (a restart, or another process that won the election) logs in with."""
    poller = poller_for(config, store)
    try:
        # The poller's own thread asks the token endpoint and, through the event loop, the store.
        return await asyncio.to_thread(poller.tokens.current)
    finally:
        poller.stop.close()


async def test_a_restarted_poller_refreshes_with_the_rotated_token_until_the_configuration_changes(
    store: Store, endpoint: TokenEndpoint
) -> None:
    endpoint.answers += [
        (200, {"access_token": "access-1", "refresh_token": "refresh-2"}),
        (200, {"access_token": "access-2", "refresh_token": "refresh-3"}),
        (200, {"access_token": "access-3"}),
        (200, {"access_token": "access-4"}),
    ]
    configured = account(endpoint.url)
    assert await first_token(configured, store) == "access-1"
    assert await first_token(configured, store) == "access-2"  # restarted
    assert await first_token(configured, store) == "access-3"  # and again: the latest rotation is the one kept
    # The operator puts a new refresh token in the configuration: it wins over the one kept from the old grant.
    assert await first_token(account(endpoint.url, oauth2_refresh_token="refresh-new"), store) == "access-4"
    assert [form["refresh_token"] for form in endpoint.forms] == ["refresh-1", "refresh-2", "refresh-3", "refresh-new"]


async def test_a_poller_with_a_fixed_token_or_a_password_asks_the_store_nothing(store: Store) -> None:
    fixed = ImapAccount(mailbox="pomoc", host="h", username="u", oauth2_token="pasted-token")
    poller = poller_for(fixed, store)
    try:
        assert poller.tokens.load_rotated is None
        assert poller.tokens.save_rotated is None
    finally:
        poller.stop.close()
