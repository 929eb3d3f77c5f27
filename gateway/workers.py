"""`serve` with `[serve] workers = N`: N gateway processes on one machine, sharing the listening sockets.

Why: one process runs its doors, parser and writer under one interpreter lock, so it uses about one core whatever
the machine has. Processes share nothing in memory; everything they must agree on is already in the database
(reference counters, duplicates, rate limits, outbox claims, watchers' claims), the same guarantee that lets
gateways on several hosts share PostgreSQL. On SQLite the processes take turns at the write lock (a lock file, see
gateway/store/write_turns.py), each with its own group commit. /metrics adds up every worker's counts.

How: the parent applies migrations once, binds the SMTP and HTTP sockets, then forks the workers before any event
loop or thread exists. Every worker accepts on the same sockets (the kernel hands each connection to one of them).
Each IMAP account is polled by one worker only (two pollers on one mailbox would fetch and move the same
messages). Sessions of agents are signed with a key all workers share (a random one per start when none is
configured). The parent restarts a
worker that dies, forwards SIGTERM/SIGINT to all of them and exits when they have stopped. Should the parent itself
die (SIGKILL, OOM killer), the workers notice (the pipe it held open reads end-of-file) and stop too: no orphan
keeps serving on a port nobody manages.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from gateway.config import Settings
from gateway.logs import get_logger
from gateway.metrics import forget_process, share_between_processes

log = get_logger("gateway.workers")

LISTEN_BACKLOG = 511
# A worker that dies this soon after its start, this many times in a row, is not started again: the cause (a bad
# certificate path, a database that refuses us) will not go away by itself, and the parent exits non-zero instead.
QUICK_DEATH_S = 10.0
QUICK_DEATHS_TOLERATED = 3


@dataclass(frozen=True)
class Listeners:
    """Sockets bound and listening before the workers start; a worker serves on these instead of binding."""

    http: socket.socket
    smtp: socket.socket | None

    @property
    def http_port(self) -> int:
        return int(self.http.getsockname()[1])

    @property
    def smtp_port(self) -> int | None:
        return None if self.smtp is None else int(self.smtp.getsockname()[1])


def bind_listeners(settings: Settings) -> Listeners:
    def listen(host: str, port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family, backlog=LISTEN_BACKLOG)
        sock.setblocking(False)
        return sock

    http = listen(settings.http.host, settings.http.port)
    smtp = listen(settings.smtp.host, settings.smtp.port) if settings.smtp.enabled else None
    return Listeners(http=http, smtp=smtp)


def worker_settings(settings: Settings, index: int, session_secret: str) -> Settings:
    """What worker `index` runs with: its share of the IMAP accounts, the shared session key.

    Each account is polled by exactly one worker (two pollers on one mailbox would fetch and move the same
    messages); with several accounts (pomoc@ and escalation@) they are dealt out, so their mailboxes are read in
    parallel.
    """
    web = settings.web.model_copy(update={"session_secret": session_secret})
    mine = [account for n, account in enumerate(settings.imap.accounts) if n % settings.serve.workers == index]
    imap = settings.imap.model_copy(update={"accounts": mine, "enabled": settings.imap.enabled and bool(mine)})
    return settings.model_copy(update={"web": web, "imap": imap})


def _stop_when_parent_dies(parent_alive: int) -> None:
    """Once the loop runs: SIGTERM to ourselves (the graceful stop) when the parent's end of the pipe is closed."""
    loop = asyncio.get_running_loop()

    def parent_gone() -> None:
        loop.remove_reader(parent_alive)
        log.error("the parent process is gone, stopping")
        os.kill(os.getpid(), signal.SIGTERM)

    loop.add_reader(parent_alive, parent_gone)


def _run_worker(settings: Settings, listeners: Listeners, index: int, parent_alive: int) -> int:
    """The body of a forked worker; never returns to the parent's code."""
    import structlog

    from gateway.service import serve

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)  # the parent's handlers; serve() installs the loop's own
    structlog.contextvars.bind_contextvars(worker=index)

    async def ready(_gateway: object) -> None:
        _stop_when_parent_dies(parent_alive)

    try:
        return asyncio.run(serve(settings, listeners=listeners, migrate=False, ready=ready))
    except Exception:
        log.exception("worker failed")
        return 1


@dataclass
class _Worker:
    index: int
    pid: int
    started: float
    quick_deaths: int = 0


def run_workers(settings: Settings, *, on_listening: Callable[[Listeners], None] | None = None) -> int:
    """Runs `settings.serve.workers` gateway processes until SIGTERM/SIGINT; 0 when all of them stopped cleanly."""
    from gateway.store import Store

    async def migrate() -> None:
        store = await Store.open(settings.database.url)
        await store.close()

    asyncio.run(migrate())  # once, here: several processes migrating at once would race
    listeners = bind_listeners(settings)
    # Nothing is ever written: the workers only watch for the end-of-file that the parent's death causes.
    parent_alive, parent_holds = os.pipe()
    # Each worker counts in files here; /metrics adds them up (see gateway/metrics.py). Fresh for every start, so
    # that counts of an earlier run are not added in.
    metrics_folder = Path(tempfile.mkdtemp(prefix="hezo-metrics-"))
    shared_secret = settings.web.session_secret or secrets.token_hex(32)
    stopping = False
    workers: dict[int, _Worker] = {}

    def start(index: int, quick_deaths: int = 0) -> None:
        pid = os.fork()
        if pid == 0:
            os.close(parent_holds)
            share_between_processes(metrics_folder)
            code = _run_worker(worker_settings(settings, index, shared_secret), listeners, index, parent_alive)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        workers[pid] = _Worker(index, pid, time.monotonic(), quick_deaths)

    def stop_all(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in workers:
            os.kill(pid, signal.SIGTERM)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop_all)
    for index in range(settings.serve.workers):
        start(index)
    log.info(
        "workers started",
        workers=settings.serve.workers,
        pids=sorted(workers),
        http=f"{settings.http.host}:{listeners.http_port}",
        smtp=f"{settings.smtp.host}:{listeners.smtp_port}" if listeners.smtp else "off",
    )
    if on_listening is not None:
        on_listening(listeners)
    failed = False
    while workers:
        pid, status = os.wait()
        worker = workers.pop(pid, None)
        if worker is None:
            continue
        forget_process(pid, metrics_folder)
        code = os.waitstatus_to_exitcode(status)
        if stopping:
            failed = failed or code != 0
            continue
        quick = time.monotonic() - worker.started < QUICK_DEATH_S
        deaths = worker.quick_deaths + 1 if quick else 0
        if deaths >= QUICK_DEATHS_TOLERATED:
            log.error("worker keeps dying at start, stopping the gateway", worker=worker.index, exit_code=code)
            failed = True
            stop_all(signal.SIGTERM, None)
            continue
        log.error("worker exited, starting it again", worker=worker.index, pid=pid, exit_code=code)
        start(worker.index, deaths)
    shutil.rmtree(metrics_folder, ignore_errors=True)
    log.info("workers stopped")
    return 1 if failed else 0
