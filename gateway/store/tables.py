"""Table definitions (SQLAlchemy Core). The Alembic migrations create exactly these; a test compares them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    literal_column,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData()

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for ids that grow for years.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Every timestamp is stored as UTC and read back aware. SQLite keeps no offset: an aware Warsaw time would
    be stored as its wall-clock reading and come back an hour or two off, so the conversion happens here, once."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps only aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(name: str, nullable: bool = False) -> Column[datetime]:
    return Column(name, UtcDateTime(), nullable=nullable)


raw_inputs = Table(
    "raw_inputs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("mailbox", String(32)),
    _ts("received_at"),
    Column("content", LargeBinary, nullable=False),  # verbatim bytes, so a request can be re-parsed
    Column("content_sha256", String(64), nullable=False),
    Column("envelope", JSON, nullable=False),  # MAIL FROM, RCPT TO, peer; webhook URL and headers
)

reference_counters = Table(
    "reference_counters",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last_number", Integer, nullable=False),
)

requests = Table(
    "requests",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("reference", String(20), nullable=False, unique=True),
    Column("channel", String(16), nullable=False),
    Column("mailbox", String(32)),
    Column("external_id", String(512), nullable=False),
    Column("status", String(16), nullable=False),
    Column("escalation", Boolean, nullable=False),
    Column("priority", String(16), nullable=False),
    Column("auto_submitted", Boolean, nullable=False),
    Column("reporter_email", String(320)),
    Column("reporter_phone", String(32)),
    _ts("received_at"),
    _ts("response_due", nullable=True),
    _ts("first_contact_at", nullable=True),
    _ts("sla_warned_at", nullable=True),  # desk warned: 15 minutes left (set once, by whichever process wins)
    _ts("sla_breached_at", nullable=True),  # desk warned: deadline passed without a first contact
    Column("contract_number", String(64)),  # the contract the entitlement step settled on
    Column("service_level", String(32)),
    _ts("verified_at", nullable=True),
    _ts("delivery_due", nullable=True),  # starts at `verified`: NBD / 8 h / 4 h of the level
    _ts("delivered_at", nullable=True),
    _ts("return_due", nullable=True),  # starts at `delivered`: 7 days to return the failed device
    _ts("return_reminded_at", nullable=True),  # day-5 reminder sent (claimed once)
    _ts("return_overdue_at", nullable=True),  # day-8 overdue flag raised (claimed once)
    _ts("updated_at"),
    Column("raw_input_id", Id, ForeignKey("raw_inputs.id"), nullable=False),
    Column("data", JSON, nullable=False),  # the ServiceRequest as JSON (reference filled in)
    UniqueConstraint("channel", "external_id", name="uq_requests_channel_external_id"),
)
Index("ix_requests_received_at", requests.c.received_at)
Index("ix_requests_reporter_phone", requests.c.reporter_phone)
Index("ix_requests_contract_number", requests.c.contract_number)
# What the SLA watch looks for on every pass. The index holds only such requests (one leaves it at its first
# contact), so a pass reads a handful of rows however long the history grows; without it, a scan of every request
# inside a write transaction.
AWAITING_FIRST_CONTACT = and_(requests.c.first_contact_at.is_(None), requests.c.auto_submitted.is_(False))
# The return watch looks for delivered replacements whose failed device is due back, on every pass.
Index("ix_requests_status_return_due", requests.c.status, requests.c.return_due)
# The desk's list and the API's `status=open`: requests not yet closed, newest first. Without an index of its own the
# newest-first walk reads every closed request of the history whenever fewer open ones exist than the page shows.
# The statuses are written as literals, not bound parameters: only then can a database tell that a query's condition
# is the partial index's own.
CLOSED_STATUSES = ("closed", "rejected")
OPEN_REQUEST = requests.c.status.not_in([literal_column(f"'{status}'") for status in CLOSED_STATUSES])
Index("ix_requests_open", requests.c.id, sqlite_where=OPEN_REQUEST, postgresql_where=OPEN_REQUEST)
# The same list for one channel: otherwise the unique (channel, external_id) index looks the better way in, and it
# holds every request of that channel ever, to be sorted.
Index(
    "ix_requests_open_by_channel",
    requests.c.channel,
    requests.c.id,
    sqlite_where=OPEN_REQUEST,
    postgresql_where=OPEN_REQUEST,
)
Index(
    "ix_requests_awaiting_first_contact",
    requests.c.response_due,
    sqlite_where=AWAITING_FIRST_CONTACT,
    postgresql_where=AWAITING_FIRST_CONTACT,
)

request_serials = Table(
    "request_serials",
    metadata,
    Column("request_id", Id, ForeignKey("requests.id"), primary_key=True),
    Column("serial", String(64), primary_key=True),
)
Index("ix_request_serials_serial", request_serials.c.serial)

contracts = Table(
    "contracts",
    metadata,
    Column("contract_number", String(64), primary_key=True),
    Column("customer", String(300), nullable=False),
    Column("partner", String(300), nullable=False),
    Column("service_level", String(32), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    _ts("updated_at"),
)

contract_serials = Table(
    "contract_serials",
    metadata,
    Column("serial", String(64), primary_key=True),
    Column("contract_number", String(64), ForeignKey("contracts.contract_number"), primary_key=True),
)
Index("ix_contract_serials_contract", contract_serials.c.contract_number)

contract_contacts = Table(
    "contract_contacts",
    metadata,
    Column("contract_number", String(64), ForeignKey("contracts.contract_number"), primary_key=True),
    Column("contact", String(320), primary_key=True),  # lower-case e-mail address or E.164 phone number
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("request_id", Id, ForeignKey("requests.id"), nullable=False),
    Column("raw_input_id", Id, ForeignKey("raw_inputs.id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("kind", String(24), nullable=False),  # initial, follow_up, recording, transcription, note
    Column("external_key", String(600), nullable=False),  # idempotency key of the input (dedupe)
    _ts("received_at"),
    Column("sender", String(320)),
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("data", JSON, nullable=False),
    UniqueConstraint("channel", "external_key", name="uq_messages_channel_external_key"),
)
Index("ix_messages_request_id", messages.c.request_id)

thread_ids = Table(
    "thread_ids",
    metadata,
    Column("message_id", String(512), primary_key=True),  # RFC 5322 Message-ID without <>
    Column("request_id", Id, ForeignKey("requests.id"), nullable=False),
    Column("direction", String(8), nullable=False),  # in | out
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("request_id", Id, ForeignKey("requests.id"), nullable=False),
    Column("message_row_id", Id, ForeignKey("messages.id"), nullable=False),
    Column("filename", String(512), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
)
Index("ix_attachments_request_id", attachments.c.request_id)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("request_id", Id, ForeignKey("requests.id"), nullable=False),
    Column("kind", String(32), nullable=False),  # ack_email, ack_sms, escalation_email, escalation_webhook, ...
    Column("status", String(16), nullable=False),  # pending, sending, sent, failed, skipped
    Column("recipient", String(1024), nullable=False),
    Column("message_id", String(512)),  # fixed when the row is created, so a resend is recognisable
    Column("payload", JSON, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    _ts("next_attempt_at"),
    Column("claimed_by", String(128)),
    _ts("claimed_until", nullable=True),
    Column("last_error", Text),
    _ts("created_at"),
    _ts("sent_at", nullable=True),
)
Index("ix_outbox_due", outbox.c.status, outbox.c.next_attempt_at)
Index("ix_outbox_request_id", outbox.c.request_id)
# The acknowledgement rate limit counts a recipient's recent rows in every intake transaction: without this index,
# a scan of the whole outbox, which only grows (the IMAP bench's 10,000 messages slowed down as it filled).
Index("ix_outbox_recipient_kind_created", outbox.c.recipient, outbox.c.kind, outbox.c.created_at)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("mailbox", String(32)),
    _ts("received_at"),
    Column("content", LargeBinary, nullable=False),
    Column("envelope", JSON, nullable=False),
    Column("error", Text, nullable=False),
    Column("status", String(16), nullable=False),  # held, released
    Column("reference", String(20)),  # set when a retry stored it
    _ts("created_at"),
    _ts("retried_at", nullable=True),
)

agents = Table(
    "agents",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", String(512), nullable=False),  # KDF output with its parameters (scrypt/argon2)
    Column("active", Boolean, nullable=False),
    _ts("created_at"),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(320), nullable=False),  # "agent:<name>" or "addr:<ip>": rate limits shared by all processes
    _ts("at"),
    Column("succeeded", Boolean, nullable=False),
)
Index("ix_login_attempts_key_at", login_attempts.c.key, login_attempts.c.at)

revoked_sessions = Table(
    "revoked_sessions",
    metadata,
    # An agent's session ended by logout: a copy of its cookie (another browser, a stolen one) is refused too.
    Column("sid", String(64), primary_key=True),
    _ts("expires_at"),  # when the cookie would have expired anyway: the row can be forgotten after that
)

imap_state = Table(
    "imap_state",
    metadata,
    Column("account", String(512), primary_key=True),  # host:port/username/folder
    Column("uidvalidity", BigInteger),
    Column("last_uid", BigInteger),
    _ts("updated_at"),
)

oauth_refresh_tokens = Table(
    "oauth_refresh_tokens",
    metadata,
    # The refresh token a provider rotated, so that a restart or another gateway process taking over the account
    # does not go back to a configured token the provider may have invalidated. It is a credential kept in plain
    # text, exactly as in the configuration file: the database needs the same protection as that file.
    Column("account", String(512), primary_key=True),  # the key of imap_state: host:port/username/folder
    # sha256 hex of the configured refresh token this one descends from: a new token put in the configuration
    # wins over a stored one. A hash, so the configured secret is not copied into the database a second time.
    Column("configured_sha256", String(64), nullable=False),
    Column("refresh_token", Text, nullable=False),
    _ts("updated_at"),
)

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("request_id", Id, ForeignKey("requests.id"), nullable=False),
    _ts("at"),
    Column("actor", String(128), nullable=False),
    Column("kind", String(32), nullable=False),  # created, follow_up, escalated, ack_skipped, contact, state, ...
    Column("detail", JSON, nullable=False),
)
Index("ix_events_request_id", events.c.request_id)
