"""Password hashes for agents and SMTP relay accounts: scrypt from the standard library, parameters kept per hash."""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import os
import sys

# scrypt (RFC 7914): memory-hard, so a stolen table is expensive to brute-force on GPUs. N=2^15, r=8 costs 32 MiB
# and about a tenth of a second per check here; the parameters are stored with each hash, so raising them later
# leaves old hashes verifiable. hashlib releases the interpreter lock while it computes, so a check in a worker
# thread does not stall the event loop.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SCRYPT_MAXMEM = 64 * 1024 * 1024
PREFIX = "scrypt$"
# Checked against when an account does not exist, so a missing account costs the same time as a wrong password.
DUMMY_HASH = "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    salt = os.urandom(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=SCRYPT_MAXMEM, dklen=32)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(key)}"


def verify_password(password: str | bytes, stored: str) -> bool:
    secret = password.encode() if isinstance(password, str) else password
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        key = hashlib.scrypt(secret, salt=_unb64(salt), n=int(n), r=int(r), p=int(p), maxmem=SCRYPT_MAXMEM, dklen=32)
    except ValueError:
        return False
    return hmac.compare_digest(key, _unb64(expected))


def is_hash(value: str) -> bool:
    return value.startswith(PREFIX) and value.count("$") == 5


def read_new_password(stdin_is_tty: bool | None = None) -> str:
    """Asked twice at a terminal (never echoed); the first line of stdin otherwise (for provisioning scripts)."""
    if sys.stdin.isatty() if stdin_is_tty is None else stdin_is_tty:
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Repeat password: "):
            raise ValueError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")
