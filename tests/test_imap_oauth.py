"""XOAUTH2 access tokens fetched with a refresh token from a token endpoint (a real HTTP server on loopback)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from imapclient import IMAPClient
from pydantic import ValidationError

from channels.imap_oauth import AccessTokens, OAuthError
from channels.imap_policy import ImapTimeouts
from channels.imap_session import MailboxSession
from gateway.config import ImapAccount


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
