"""Configuration from the environment: words, comma-separated lists, and JSON for lists of tables."""

from __future__ import annotations

import json

import pytest

from gateway.config import load_settings
from gateway.errors import ConfigError

ACCOUNTS = [
    {"mailbox": "pomoc", "host": "imap.example.pl", "username": "pomoc@myhezo.pl", "password": "tajne"},
    {"mailbox": "escalation", "host": "outlook.office365.com", "username": "esc@myhezo.pl", "oauth2_token": "t"},
]


def test_imap_accounts_come_from_one_json_variable() -> None:
    settings = load_settings(environ={"HEZO_IMAP__ENABLED": "true", "HEZO_IMAP__ACCOUNTS": json.dumps(ACCOUNTS)})
    assert settings.imap.enabled
    assert [(a.mailbox, a.host, a.username, a.port) for a in settings.imap.accounts] == [
        ("pomoc", "imap.example.pl", "pomoc@myhezo.pl", 993),
        ("escalation", "outlook.office365.com", "esc@myhezo.pl", 993),
    ]


def test_lists_of_words_are_still_comma_separated() -> None:
    settings = load_settings(environ={"HEZO_ESCALATION__NOTIFY": "a@myhezo.pl, b@myhezo.pl"})
    assert list(settings.escalation.notify) == ["a@myhezo.pl", "b@myhezo.pl"]


@pytest.mark.parametrize(
    ("value", "message"),
    [("pomoc@myhezo.pl", "expected a JSON list of objects"), ('{"host": "x"}', "expected a JSON list of objects")],
)
def test_an_accounts_variable_that_is_not_a_json_list_names_itself(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        load_settings(environ={"HEZO_IMAP__ACCOUNTS": value})
    assert "HEZO_IMAP__ACCOUNTS" in str(refused.value)


def test_an_account_without_a_host_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"imap\.accounts\.0\.host"):
        load_settings(environ={"HEZO_IMAP__ACCOUNTS": json.dumps([{"mailbox": "pomoc", "username": "u"}])})
