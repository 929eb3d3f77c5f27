"""The IMAP door's pure decisions: where a message goes after its outcome, how fetches are batched, how long to wait
before the next attempt, and what a fetched message becomes. No I/O here, so every rule is tested on its own."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from gateway.config import ImapAccount
from gateway.intake import Created, Duplicate, FollowUp, Outcome, Quarantined, RawIntake

Destination = Literal["processed", "quarantine"]


@dataclass(frozen=True)
class ImapTimeouts:
    """Seconds allowed for each network step; a step that takes longer counts as a dropped connection."""

    connect_s: float = 15.0
    login_s: float = 30.0
    select_s: float = 30.0
    fetch_s: float = 120.0
    move_s: float = 120.0
    idle_s: float = 30.0
    """For entering and leaving IDLE (the wait inside IDLE is bounded by `ImapTuning.idle_renew_s`)."""
    submit_s: float = 120.0
    """For the pipeline to store one message; past it the message stays in place and is retried later."""


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: attempt n waits a random time in [0, min(cap, base * 2**n)], never
    less than `floor_s` so a tight failure loop cannot hammer a server. Jitter spreads the reconnects of several
    gateway processes after a server restart."""

    base_s: float = 1.0
    cap_s: float = 300.0
    floor_s: float = 0.1

    def ceiling(self, attempt: int) -> float:
        # The exponent is clamped so a long outage cannot overflow the float.
        return float(min(self.cap_s, self.base_s * 2 ** min(attempt, 32)))

    def delay(self, attempt: int, draw: Callable[[float, float], float] = random.uniform) -> float:
        return max(self.floor_s, draw(0.0, self.ceiling(attempt)))


@dataclass(frozen=True)
class ImapTuning:
    """Knobs of the poller that are not per-account settings; the defaults suit a hosted mailbox."""

    timeouts: ImapTimeouts = field(default_factory=ImapTimeouts)
    backoff: Backoff = field(default_factory=Backoff)
    batch_max_count: int = 500
    """Messages per FETCH and per MOVE: one MOVE per message is ~75x slower than one per batch of 500."""
    batch_max_bytes: int = 64 * 1024 * 1024
    """Bounds the memory of one fetched batch: a few 30 MB mails fill it long before 500 do."""
    submit_window: int = 16
    """Messages of a batch handed to the pipeline at once: their commits can be shared, and the event loop still
    gets to the other doors between them."""
    use_idle: bool = True
    """False polls every poll interval even where the server offers IDLE (for servers whose IDLE misbehaves)."""
    idle_renew_s: float = 25 * 60
    """IDLE is re-issued before servers drop it (29 minutes, RFC 2177); also capped by the poll interval."""
    election_retry_s: float = 15.0
    """How often a process that lost the election asks again (the winner may have died)."""
    lease_check_s: float = 30.0
    """How often the winner checks that its database session, and so its advisory lock, is still there."""


def account_key(account: ImapAccount) -> str:
    """The account's name in imap_state and in logs: one per mailbox folder on one server."""
    return f"{account.host}:{account.port}/{account.username}/{account.folder}"


def destination_of(outcome: Outcome) -> Destination:
    """Stored, duplicate and follow-up mail is done with; mail the parser could not read goes where a person looks."""
    match outcome:
        case Created() | Duplicate() | FollowUp():
            return "processed"
        case Quarantined():
            return "quarantine"


def folder_for(destination: Destination, account: ImapAccount) -> str:
    return account.processed_folder if destination == "processed" else account.quarantine_folder


def plan_batches(sizes: Mapping[int, int], *, max_count: int, max_bytes: int) -> list[list[int]]:
    """Split UIDs (ascending) into fetch batches of at most `max_count` messages and `max_bytes` bytes; a single
    message larger than `max_bytes` gets a batch of its own rather than never being fetched."""
    if max_count < 1 or max_bytes < 1:
        raise ValueError("batch limits must be positive")
    batches: list[list[int]] = []
    current: list[int] = []
    current_bytes = 0
    for uid in sorted(sizes):
        size = max(0, sizes[uid])
        if current and (len(current) >= max_count or current_bytes + size > max_bytes):
            batches.append(current)
            current, current_bytes = [], 0
        current.append(uid)
        current_bytes += size
    if current:
        batches.append(current)
    return batches


@dataclass
class Sorted:
    """UIDs of one batch by where they go once their outcome is committed."""

    processed: list[int] = field(default_factory=list)
    quarantine: list[int] = field(default_factory=list)

    def add(self, uid: int, outcome: Outcome) -> None:
        (self.processed if destination_of(outcome) == "processed" else self.quarantine).append(uid)

    def moves(self, account: ImapAccount) -> list[tuple[str, list[int]]]:
        """(folder, uids) pairs to move, skipping empty ones."""
        pairs = [
            (folder_for("processed", account), self.processed),
            (folder_for("quarantine", account), self.quarantine),
        ]
        return [(folder, uids) for folder, uids in pairs if uids]

    def all_uids(self) -> Iterable[int]:
        return [*self.processed, *self.quarantine]


def raw_intake(account: ImapAccount, *, uid: int, uidvalidity: int, content: bytes, received_at: datetime) -> RawIntake:
    """A fetched message as the pipeline takes it: the bytes exactly as the server gave them."""
    return RawIntake(
        channel="email",
        content=content,
        received_at=received_at,
        mailbox=account.mailbox,
        envelope={
            "door": "imap",
            "account": account_key(account),
            "folder": account.folder,
            "uid": uid,
            "uidvalidity": uidvalidity,
        },
    )
