"""Settings: read once at start-up from TOML plus HEZO_<SECTION>__<KEY> overrides, validated into one frozen object.

Nothing else in the gateway reads the environment; the settings object is passed down explicitly.
"""

from __future__ import annotations

import json
import os
import tomllib
import typing
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gateway.errors import ConfigError
from gateway.paths import CONFIG_DIR, TEMPLATES_DIR
from gateway.schema import Mailbox

DEFAULT_CONFIG = CONFIG_DIR / "gateway.toml"
ENV_PREFIX = "HEZO_"
_DEFAULT_MAILBOXES: dict[str, Mailbox] = {"pomoc@myhezo.pl": "pomoc", "escalation@myhezo.pl": "escalation"}


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class DatabaseSettings(_Section):
    url: str = "sqlite+aiosqlite:///var/gateway.db"

    @field_validator("url")
    @classmethod
    def _known_backend(cls, url: str) -> str:
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return url


class StorageSettings(_Section):
    dir: Path = Path("var/data")


class SmtpSettings(_Section):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=2525, ge=0, le=65535)
    hostname: str = "mx.myhezo.pl"
    max_message_bytes: int = Field(default=33_554_432, gt=0)
    max_recipients: int = Field(default=10, gt=0)
    max_connections_per_peer: int = Field(default=20, gt=0)
    max_concurrent_messages: int = Field(default=4, gt=0)
    # Message data all sessions together may hold (received, waiting or being stored); past it: 452, retry later.
    max_receiving_bytes: int = Field(default=134_217_728, gt=0)
    idle_timeout_s: float = Field(default=300, gt=0)
    tls_cert: str = ""
    tls_key: str = ""
    auth_users: dict[str, str] = Field(default_factory=dict)
    require_starttls: bool = False  # refuse MAIL before STARTTLS (only when tls_cert/tls_key are set)
    auth_require_tls: bool = True  # offer AUTH only inside TLS

    @model_validator(mode="after")
    def _room_for_the_largest_message(self) -> SmtpSettings:
        if self.max_receiving_bytes < self.max_message_bytes:
            raise ValueError(
                f"max_receiving_bytes ({self.max_receiving_bytes}) must be at least max_message_bytes "
                f"({self.max_message_bytes}), or a message of the allowed size could never be received"
            )
        return self


_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


class ImapAccount(_Section):
    mailbox: Mailbox
    host: str
    port: int = Field(default=993, ge=1, le=65535)
    ssl: bool = True
    username: str
    password: str = ""
    oauth2_token: str = ""  # a fixed XOAUTH2 access token (they expire: prefer the refresh-token keys below)
    oauth2_refresh_token: str = ""  # with the token URL and client id: access tokens are fetched and renewed
    oauth2_token_url: str = ""  # e.g. https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token
    oauth2_client_id: str = ""
    oauth2_client_secret: str = ""  # empty for public clients
    oauth2_scope: str = ""  # e.g. https://outlook.office365.com/IMAP.AccessAsUser.All offline_access
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    quarantine_folder: str = "Quarantine"

    @model_validator(mode="after")
    def _refresh_needs_an_endpoint(self) -> ImapAccount:
        if not self.oauth2_refresh_token:
            return self
        if not self.oauth2_token_url or not self.oauth2_client_id:
            raise ValueError("oauth2_refresh_token needs oauth2_token_url and oauth2_client_id")
        url = urllib.parse.urlsplit(self.oauth2_token_url)
        # The refresh token and client secret travel in the request: never in clear text off this machine.
        if url.scheme != "https" and not (url.scheme == "http" and url.hostname in _LOOPBACK_HOSTS):
            raise ValueError(f"oauth2_token_url must be https (got {self.oauth2_token_url!r})")
        return self


class ImapSettings(_Section):
    enabled: bool = False
    ca_file: str = ""  # extra CA to trust for the IMAP servers (a private CA); empty = the system trust store
    poll_interval_s: float = Field(default=30, gt=0)
    accounts: list[ImapAccount] = Field(default_factory=list)


class HttpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str = "http://127.0.0.1:8080"
    max_body_bytes: int = Field(default=26_214_400, gt=0)


class ApiSettings(_Section):
    tokens: list[str] = Field(default_factory=list)


class RelaySettings(_Section):
    host: str = ""
    port: int = Field(default=25, ge=1, le=65535)
    from_address: str = Field(default="pomoc@myhezo.pl", alias="from")
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout_s: float = Field(default=30, gt=0)


class TwilioSettings(_Section):
    account_sid: str = ""
    auth_token: str = ""
    from_number: str = "+48122525600"
    api_base: str = ""
    hotline_number: str = "+48122525600"
    escalation_number: str = "+48122525502"
    engineers_number: str = ""  # IVR choice 0 dials this inside the service window; empty = voicemail only
    engineers_window: Literal["8x5", "24x7"] = "8x5"


class PortalSettings(_Section):
    tokens: list[str] = Field(default_factory=list)  # bearer tokens of the myHEZO.pl portal
    max_attachment_bytes: int = Field(default=10_485_760, gt=0)
    link_secret: str = ""  # HMAC key of the signed links the portal hands its logged-in users
    link_max_age_s: int = Field(default=3600, gt=0)


def _holds_every_bundled_file(folder: Path | None, subfolder: str, what: str) -> Path | None:
    """`folder` when it holds every file the gateway brings under `subfolder` (same relative paths), else an error."""
    if folder is None:
        return None
    bundled = TEMPLATES_DIR / subfolder
    needed = sorted(path.relative_to(TEMPLATES_DIR).as_posix() for path in bundled.rglob("*") if path.is_file())
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing:
        raise ValueError(f"{folder} lacks {what}: {', '.join(missing)}")
    return folder


class WebSettings(_Section):
    session_secret: str = ""  # signs agent session cookies; empty = a random key per start (sessions end on restart)
    session_max_age_s: int = Field(default=28_800, gt=0)
    cookie_secure: bool = False  # set true behind HTTPS
    login_attempts_per_15min: int = Field(default=5, gt=0)
    # A folder of your own page templates and static files (web/…, web/static/…), in place of the ones that come
    # with the gateway: a wheel's copies live inside the installed package. It must hold every file those have.
    templates_dir: Path | None = None

    @field_validator("templates_dir")
    @classmethod
    def _holds_every_page(cls, folder: Path | None) -> Path | None:
        return _holds_every_bundled_file(folder, "web", "pages and static files the web doors serve")


class EscalationSettings(_Section):
    notify: list[str] = Field(default_factory=list)
    webhook_url: str = ""
    webhook_secret: str = ""


class SlaSettings(_Section):
    default_window: Literal["8x5", "24x7"] = "8x5"
    response_hours: float = Field(default=1, gt=0)
    warn_before_minutes: float = Field(default=15, ge=0)


class AckSettings(_Section):
    domain: str = "myhezo.pl"
    rate_limit_per_hour: int = Field(default=10, ge=0)
    # A folder of your own acknowledgement templates (ack/<language>/…), in place of the ones that come with the
    # gateway: a wheel's copies live inside the installed package. It must hold every template those have.
    templates_dir: Path | None = None

    @field_validator("templates_dir")
    @classmethod
    def _holds_every_template(cls, folder: Path | None) -> Path | None:
        return _holds_every_bundled_file(folder, "ack", "templates the gateway sends")


class ServeSettings(_Section):
    # Gateway processes on this machine (see gateway/workers.py); one process uses about one core.
    workers: int = Field(default=1, ge=1, le=64)


class LogSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "json", "console"] = "auto"


class Settings(_Section):
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    mailboxes: dict[str, Mailbox] = Field(default_factory=lambda: dict(_DEFAULT_MAILBOXES))
    imap: ImapSettings = Field(default_factory=ImapSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    relay: RelaySettings = Field(default_factory=RelaySettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    portal: PortalSettings = Field(default_factory=PortalSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    sla: SlaSettings = Field(default_factory=SlaSettings)
    ack: AckSettings = Field(default_factory=AckSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)

    @field_validator("mailboxes")
    @classmethod
    def _lower_addresses(cls, mailboxes: dict[str, Mailbox]) -> dict[str, Mailbox]:
        return {address.strip().lower(): name for address, name in mailboxes.items()}

    def mailbox_address(self, mailbox: Mailbox) -> str:
        """The address of a mailbox (the first configured one), used as From of what we send for it."""
        return next((a for a, m in self.mailboxes.items() if m == mailbox), self.relay.from_address)


def _list_item_type(section: type[BaseModel], key: str) -> Any:
    """The item type of a list field of `section` (None when `key` is not a list field)."""
    field = section.model_fields.get(key)
    if field is None or typing.get_origin(field.annotation) is not list:
        return None
    return typing.get_args(field.annotation)[0]


def _env_list(name: str, value: str, item_type: Any) -> list[Any]:
    """A list from one environment variable: comma-separated words, or JSON for a list of tables (IMAP accounts)."""
    if not (isinstance(item_type, type) and issubclass(item_type, BaseModel)):
        return [item.strip() for item in value.split(",") if item.strip()]
    try:
        items = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{name}: expected a JSON list of objects ({exc})") from exc
    if not isinstance(items, list):
        raise ConfigError(f"{name}: expected a JSON list of objects")
    return items


def _apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section_name, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        field = Settings.model_fields.get(section_name)
        if field is None:
            raise ConfigError(f"{name}: no configuration section [{section_name}]")
        section = data.setdefault(section_name, {})
        section_type = field.annotation
        key = "from" if section_name == "relay" and key == "from" else key
        item_type = (
            _list_item_type(section_type, key)
            if isinstance(section_type, type) and issubclass(section_type, BaseModel)
            else None
        )
        section[key] = value if item_type is None else _env_list(name, value, item_type)


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        lines.append(f"{key}: {item['msg']} (got {item.get('input')!r})")
    return "invalid configuration: " + "; ".join(lines)


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read, override and validate; raises ConfigError naming the bad key."""
    config_path = path or DEFAULT_CONFIG
    try:
        data: dict[str, Any] = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"configuration file not found: {config_path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path}: not valid TOML: {exc}") from exc
    _apply_env(data, os.environ if environ is None else environ)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from exc
