"""Exceptions for the unexpected. Expected outcomes (duplicate, follow-up, quarantined) are result values.

GatewayError
 ├── ConfigError         the configuration cannot be used; the message names the key
 ├── StoreError          the database failed; the intake was not stored (SMTP answers 451)
 │    └── StoreUnavailable  cannot reach the database at all
 └── NotFound            a reference, quarantine id or agent that does not exist
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base of the gateway's own exceptions."""


class ConfigError(GatewayError):
    """The configuration cannot be used; the message names the key and the bad value."""


class StoreError(GatewayError):
    """A database operation failed; nothing of the operation was committed."""


class StoreUnavailable(StoreError):
    """The database cannot be reached."""


class NotFound(GatewayError):
    """The thing asked for does not exist."""
