"""`serve` with several worker processes: shared sockets, shared session key, crashed workers started again."""

from __future__ import annotations

import contextlib
import os
import signal
import smtplib
import subprocess
import sys
import threading
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from gateway.config import ImapAccount, ImapSettings, ServeSettings, Settings, WebSettings
from gateway.schema import Mailbox
from gateway.store import Store
from gateway.store import tables as t
from gateway.workers import worker_settings
from tests.conftest import REPO_ROOT, postgres_admin, postgres_url
from tests.support.web_app import csrf_of
from tests.test_pipeline import simple_mail
from tests.test_serve import STARTUP_DEADLINE_S, wait_for_events
from tests.test_serve import start_gateway as start_serve

AGENT, PASSWORD = "anna", "dobre-haslo-2026"
WATCHDOG_S = 120
MAILBOXES: list[Mailbox] = ["pomoc", "escalation", "pomoc"]


def test_each_imap_account_is_polled_by_one_worker_and_every_worker_signs_sessions_alike() -> None:
    accounts = [
        ImapAccount(mailbox=mailbox, host="imap.example.pl", username=f"u{n}", password="p")
        for n, mailbox in enumerate(MAILBOXES)
    ]
    settings = Settings(
        imap=ImapSettings(enabled=True, accounts=accounts), serve=ServeSettings(workers=2), web=WebSettings()
    )
    first, second = (worker_settings(settings, index, "shared-key") for index in (0, 1))
    assert [a.username for a in first.imap.accounts] == ["u0", "u2"]
    assert [a.username for a in second.imap.accounts] == ["u1"]
    assert first.imap.enabled and second.imap.enabled
    assert first.web.session_secret == second.web.session_secret == "shared-key"
    assert first.smtp == second.smtp == settings.smtp
    # more workers than accounts: the rest poll nothing; IMAP switched off stays off everywhere
    third = worker_settings(settings.model_copy(update={"serve": ServeSettings(workers=4)}), 3, "k")
    assert (third.imap.enabled, third.imap.accounts) == (False, [])
    off = settings.model_copy(update={"imap": settings.imap.model_copy(update={"enabled": False})})
    assert not worker_settings(off, 0, "k").imap.enabled


def _sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.system)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database the gateway's own processes open from settings alone: on PostgreSQL a database per test."""
    if request.param == "sqlite":
        yield _sqlite_url(tmp_path)
        return
    server = postgres_url()
    name = f"workers_{uuid.uuid4().hex[:12]}"
    admin = await postgres_admin(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield server.rsplit("/", 1)[0] + f"/{name}"
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _add_agent(tmp_path: Path, database_url: str) -> None:
    environment = {**os.environ, "HEZO_DATABASE__URL": database_url}
    subprocess.run(
        [sys.executable, "-m", "gateway", "agents", "add", AGENT],
        input=PASSWORD + "\n", cwd=REPO_ROOT, env=environment, text=True, check=True, capture_output=True,
    )  # fmt: skip


def start_gateway(tmp_path: Path, database_url: str = "", **env: str) -> subprocess.Popen[str]:
    """As test_serve's, in a process group of its own: the watchdog and the clean-up can end every worker too."""
    return start_serve(tmp_path, database_url, own_process_group=True, **env)


def _kill_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def ended(process: subprocess.Popen[str]) -> Iterator[None]:
    """Whatever happens: the parent and any worker left killed, so nothing outlives the test."""
    try:
        yield
    finally:
        _kill_group(process)
        process.wait()
        if process.stderr is not None:
            process.stderr.read()
            process.stderr.close()


@contextmanager
def watchdog(process: subprocess.Popen[str]) -> Iterator[None]:
    """A wait for a log line that never comes must not hang the suite: after a deadline the parent and its workers
    are killed, the log ends and the wait fails."""
    timer = threading.Timer(WATCHDOG_S, _kill_group, (process,))
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _send_mails(port: int, tags: list[str]) -> None:
    for tag in tags:  # one connection each, as MTAs deliver
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.sendmail("jan.kowalski@example.pl", ["pomoc@myhezo.pl"], simple_mail(abc123=tag))


async def _stored_requests(database_url: str) -> list[str]:
    store = await Store.open(database_url, upgrade=False)
    try:
        async with store.reading() as conn:
            return sorted((await conn.execute(select(t.requests.c.external_id))).scalars())
    finally:
        await store.close()


async def test_two_workers_share_mail_and_sessions_and_come_back_after_being_killed(
    tmp_path: Path, database_url: str
) -> None:
    process = start_gateway(tmp_path, database_url, HEZO_SERVE__WORKERS="2")
    assert process.stderr is not None
    with watchdog(process), ended(process):
        started = wait_for_events(process.stderr, {"workers started": 1, "gateway started": 2})
        assert {record["worker"] for record in started["gateway started"]} == {0, 1}
        [parent] = started["workers started"]
        _add_agent(tmp_path, database_url)  # after the start: the parent has created the schema
        http_port = int(parent["http"].rsplit(":", 1)[1])
        smtp_port = int(parent["smtp"].rsplit(":", 1)[1])
        desk = f"http://127.0.0.1:{http_port}/desk/"
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            page = await (await browser.get(f"http://127.0.0.1:{http_port}/agent/login")).text()
            form = {"csrf_token": csrf_of(page), "name": AGENT, "password": PASSWORD, "next": "/desk/"}
            async with browser.post(f"http://127.0.0.1:{http_port}/agent/login", data=form) as logged_in:
                assert logged_in.status == 200 and logged_in.url.path == "/desk/"
            _send_mails(smtp_port, [f"before{n}" for n in range(6)])

            # Every worker dies at once; the parent starts new ones, which are new processes: only a session key
            # kept by the parent lets them accept the cookie signed before.
            for pid in parent["pids"]:
                os.kill(pid, signal.SIGKILL)
            restarted = wait_for_events(process.stderr, {"worker exited, starting it again": 2, "gateway started": 2})
            assert {record["worker"] for record in restarted["gateway started"]} == {0, 1}

            async with browser.get(desk, allow_redirects=False) as after_restart:
                assert after_restart.status == 200, "the session signed before the restart was refused"
                listing = await after_restart.text()
            _send_mails(smtp_port, ["after0"])
        assert listing.count("HZ-2026-") >= 6
        expected = sorted(f"{tag}@example.pl" for tag in [*(f"before{n}" for n in range(6)), "after0"])
        assert [key.split("#")[0] for key in await _stored_requests(database_url)] == expected

        process.send_signal(signal.SIGTERM)
        wait_for_events(process.stderr, {"workers stopped": 1})
        assert process.wait(timeout=STARTUP_DEADLINE_S) == 0


def test_workers_stop_when_their_parent_is_killed(tmp_path: Path) -> None:
    process = start_gateway(tmp_path, HEZO_SERVE__WORKERS="2")
    assert process.stderr is not None
    with watchdog(process), ended(process):
        wait_for_events(process.stderr, {"workers started": 1, "gateway started": 2})
        process.kill()  # SIGKILL: the parent can forward nothing
        stopped = wait_for_events(process.stderr, {"the parent process is gone, stopping": 2, "gateway stopped": 2})
        assert {record["worker"] for record in stopped["gateway stopped"]} == {0, 1}
        process.wait()
        # The log pipe ends only when every process holding it has exited: no worker outlives its parent.
        assert "gateway started" not in process.stderr.read()


def test_a_worker_that_cannot_start_stops_the_gateway_with_an_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.pem")
    process = start_gateway(tmp_path, HEZO_SERVE__WORKERS="2", HEZO_SMTP__TLS_CERT=missing, HEZO_SMTP__TLS_KEY=missing)
    assert process.stderr is not None
    with watchdog(process), ended(process):
        wait_for_events(process.stderr, {"worker keeps dying at start, stopping the gateway": 1})
        assert process.wait(timeout=STARTUP_DEADLINE_S) == 1


def _intakes_counted(http_port: int, scrapes: int) -> set[float]:
    """`hezo_intake_total` of e-mail created, as each of `scrapes` scrapes (new connections) reports it."""
    seen = set()
    for _ in range(scrapes):
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=10) as response:
            text = response.read().decode()
        values = [
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("hezo_intake_total{") and 'channel="email"' in line and 'outcome="created"' in line
        ]
        seen.add(sum(values))
    return seen


def test_metrics_add_up_every_worker_and_survive_their_restart(tmp_path: Path) -> None:
    process = start_gateway(tmp_path, _sqlite_url(tmp_path), HEZO_SERVE__WORKERS="2")
    assert process.stderr is not None
    with watchdog(process), ended(process):
        started = wait_for_events(process.stderr, {"workers started": 1, "gateway started": 2})
        [parent] = started["workers started"]
        http_port = int(parent["http"].rsplit(":", 1)[1])
        smtp_port = int(parent["smtp"].rsplit(":", 1)[1])
        _send_mails(smtp_port, [f"counted{n}" for n in range(5)])
        # Whichever worker took a mail and whichever answers the scrape: the gateway's total.
        assert _intakes_counted(http_port, scrapes=6) == {5.0}

        for pid in parent["pids"]:
            os.kill(pid, signal.SIGKILL)
        wait_for_events(process.stderr, {"worker exited, starting it again": 2, "gateway started": 2})
        # New processes that have counted nothing yet: the dead workers' counts still add in.
        assert _intakes_counted(http_port, scrapes=4) == {5.0}
        _send_mails(smtp_port, ["counted5"])
        assert _intakes_counted(http_port, scrapes=4) == {6.0}

        process.send_signal(signal.SIGTERM)
        wait_for_events(process.stderr, {"workers stopped": 1})
        assert process.wait(timeout=STARTUP_DEADLINE_S) == 0
