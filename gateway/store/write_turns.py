"""Gateway processes sharing one SQLite file take turns at writing through a lock file beside it.

Why: while one process holds SQLite's write lock, another one's BEGIN IMMEDIATE waits in SQLite's busy handler,
which sleeps and tries again (1, 2, 5, … up to 100 ms between tries). With `[serve] workers = 2` on SQLite the
processes spent over a third of the time asleep that way, and two processes took in no more mail than one. An
`flock` on a file next to the database queues them instead: the kernel wakes the next process the moment the
holder lets go. SQLite's own locking still decides what is safe; the turn only spares the sleeping.

A separate file, not the database: SQLite locks the database with POSIX record locks, and where flock is emulated
by record locks (NFS) the two would collide. The lock dies with its process, so a killed writer never blocks the
others; a process stopped while holding it (SIGSTOP, a debugger) makes the others wait until it goes on.
"""

from __future__ import annotations

import fcntl
import os

from sqlalchemy.engine import make_url


class WriteTurns:
    """Exclusive turns at writing one SQLite database, shared by every process that opens it this way."""

    def __init__(self, url: str) -> None:
        database = make_url(url).database
        self._path = f"{database}.lock" if database and database != ":memory:" else None
        self._fd: int | None = None
        self._held = False

    def take(self) -> None:
        """Wait for our turn (blocking: call it on the writer thread)."""
        if self._path is None:
            return  # an in-memory database belongs to this process alone
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._held = True

    def give_back(self) -> None:
        if self._held and self._fd is not None:
            self._held = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self.give_back()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
