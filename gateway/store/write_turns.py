"""Gateway processes sharing one SQLite file take turns at writing through a lock file beside it.

Why: while one process holds SQLite's write lock, another one's BEGIN IMMEDIATE waits in SQLite's busy handler,
which sleeps and tries again (1, 2, 5, … up to 100 ms between tries). With `[serve] workers = 2` on SQLite the
processes spent over a third of the time asleep that way, and two processes took in no more mail than one. An
`flock` on a file next to the database queues them instead: the kernel wakes the next process the moment the
holder lets go. SQLite's own locking still decides what is safe; the turn only spares the sleeping.

A separate file, not the database: SQLite locks the database with POSIX record locks, and where flock is emulated
by record locks (NFS) the two would collide. The lock dies with its process, so a killed writer never blocks the
others; a process stopped while holding it (SIGSTOP, a debugger) makes the others wait until it goes on.

The file holds nothing and is opened read-only (enough for flock), created with the database file's permissions so
that whoever may write the database (the service, an operator's command) may take a turn. Should it not open all
the same, or the file system has no flock, the process writes without turns (SQLite's own locking is all that
correctness needs) and says so once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat

from sqlalchemy.engine import make_url

from gateway.logs import get_logger

log = get_logger("gateway.store")


class WriteTurns:
    """Exclusive turns at writing one SQLite database, shared by every process that opens it this way."""

    def __init__(self, url: str) -> None:
        database = make_url(url).database
        self._database = database if database and database != ":memory:" else None
        self._fd: int | None = None
        self._opened_by = 0
        self._held = False

    def take(self) -> None:
        """Wait for our turn (blocking: call it on the writer thread)."""
        if self._fd is not None and self._opened_by != os.getpid():
            # Inherited through fork: the descriptor shares its lock with the parent's, so it is no turn of ours.
            os.close(self._fd)
            self._fd, self._held = None, False
        if self._fd is None and not self._open():
            return
        assert self._fd is not None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except OSError as exc:  # a file system without flock (ENOLCK, EOPNOTSUPP): SQLite's locking still holds
            self._give_up(exc)
            return
        self._held = True

    @property
    def held(self) -> bool:
        return self._held

    def _open(self) -> bool:
        if self._database is None:
            return False  # an in-memory database belongs to this process alone, as does one we cannot lock
        try:
            mode = stat.S_IMODE(os.stat(self._database).st_mode) & 0o666
        except OSError:
            mode = 0o644
        try:
            self._fd = os.open(f"{self._database}.lock", os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, mode)
            self._opened_by = os.getpid()
            with contextlib.suppress(OSError):  # the umask narrowed it, or the file is someone else's (as it may be)
                os.fchmod(self._fd, mode)
        except OSError as exc:
            self._give_up(exc)
            return False
        return True

    def _give_up(self, error: OSError) -> None:
        log.warning("no write turns: processes sharing this database wait in SQLite's busy handler", error=str(error))
        self._database = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def give_back(self) -> None:
        if self._held and self._fd is not None:
            self._held = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self.give_back()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
