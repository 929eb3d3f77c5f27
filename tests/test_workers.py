"""`serve` with several worker processes: shared sockets, shared session key, crashed workers started again."""

from __future__ import annotations

import os
import signal
import smtplib
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

import aiohttp

from gateway.config import ImapAccount, ImapSettings, Settings, WebSettings
from gateway.workers import worker_settings
from tests.conftest import REPO_ROOT
from tests.support.web_app import csrf_of
from tests.test_pipeline import simple_mail
from tests.test_serve import STARTUP_DEADLINE_S, _wait_for_event, start_gateway

AGENT, PASSWORD = "anna", "dobre-haslo-2026"


def test_imap_runs_in_worker_zero_only_and_every_worker_signs_sessions_alike() -> None:
    account = ImapAccount(mailbox="pomoc", host="imap.example.pl", username="u", password="p")
    settings = Settings(imap=ImapSettings(enabled=True, accounts=[account]), web=WebSettings(session_secret=""))
    first, second = (worker_settings(settings, index, "shared-key") for index in (0, 1))
    assert (first.imap.enabled, second.imap.enabled) == (True, False)
    assert first.web.session_secret == second.web.session_secret == "shared-key"
    assert first.smtp == second.smtp == settings.smtp


def _add_agent(tmp_path: Path) -> None:
    environment = {**os.environ, "HEZO_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"}
    subprocess.run(
        [sys.executable, "-m", "gateway", "agents", "add", AGENT],
        input=PASSWORD + "\n", cwd=REPO_ROOT, env=environment, text=True, check=True, capture_output=True,
    )  # fmt: skip


def _end(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()
    if process.stderr is not None:
        process.stderr.close()


def _started_workers(stream: IO[str], count: int) -> list[dict[str, Any]]:
    return [_wait_for_event(stream, "gateway started") for _ in range(count)]


def _send_mails(port: int, tags: list[str]) -> None:
    for tag in tags:  # one connection each, as MTAs deliver
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.sendmail("jan.kowalski@example.pl", ["pomoc@myhezo.pl"], simple_mail(abc123=tag))


def _stored_requests(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "gw.db") as db:
        return sorted(row[0] for row in db.execute("SELECT external_id FROM requests"))


async def test_two_workers_share_mail_and_sessions_and_come_back_after_being_killed(tmp_path: Path) -> None:
    _add_agent(tmp_path)
    process = start_gateway(tmp_path, HEZO_SERVE__WORKERS="2")
    try:
        assert process.stderr is not None
        parent = _wait_for_event(process.stderr, "workers started")
        http_port = int(parent["http"].rsplit(":", 1)[1])
        smtp_port = int(parent["smtp"].rsplit(":", 1)[1])
        assert {record["worker"] for record in _started_workers(process.stderr, 2)} == {0, 1}
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
            for _ in parent["pids"]:
                _wait_for_event(process.stderr, "worker exited, starting it again")
            assert {record["worker"] for record in _started_workers(process.stderr, 2)} == {0, 1}

            async with browser.get(desk, allow_redirects=False) as after_restart:
                assert after_restart.status == 200, "the session signed before the restart was refused"
                listing = await after_restart.text()
            _send_mails(smtp_port, ["after0"])
        assert listing.count("HZ-2026-") >= 6
        expected = sorted(f"{tag}@example.pl" for tag in [*(f"before{n}" for n in range(6)), "after0"])
        assert [key.split("#")[0] for key in _stored_requests(tmp_path)] == expected

        process.send_signal(signal.SIGTERM)
        _wait_for_event(process.stderr, "workers stopped")
        assert process.wait(timeout=STARTUP_DEADLINE_S) == 0
    finally:
        _end(process)


def test_a_worker_that_cannot_start_stops_the_gateway_with_an_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.pem")
    process = start_gateway(tmp_path, HEZO_SERVE__WORKERS="2", HEZO_SMTP__TLS_CERT=missing, HEZO_SMTP__TLS_KEY=missing)
    try:
        assert process.stderr is not None
        _wait_for_event(process.stderr, "worker keeps dying at start, stopping the gateway")
        assert process.wait(timeout=STARTUP_DEADLINE_S) == 1
    finally:
        _end(process)
