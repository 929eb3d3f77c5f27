"""`hezo-gateway serve` as a real process: starts, is ready, takes mail, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import IO, Any

from tests.conftest import REPO_ROOT
from tests.test_pipeline import simple_mail

STARTUP_DEADLINE_S = 30


def wait_for_events(stream: IO[str], wanted: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
    """Reads JSON log lines until each event has appeared as often as wanted, in whatever order the processes
    wrote them (a worker may log before its parent does)."""
    found: dict[str, list[dict[str, Any]]] = {event: [] for event in wanted}
    seen = []
    for line in stream:
        seen.append(line)
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record.get("event") in found:
            found[record["event"]].append(record)
        if all(len(found[event]) >= count for event, count in wanted.items()):
            return found
    raise AssertionError(f"the gateway's log ended before {wanted}:\n{''.join(seen)}")


def _wait_for_event(stream: IO[str], event: str) -> dict[str, Any]:
    """Reads JSON log lines until `event` appears (the readiness signal; no sleeping)."""
    return wait_for_events(stream, {event: 1})[event][0]


def start_gateway(
    tmp_path: Path, database_url: str = "", *, own_process_group: bool = False, **env: str
) -> subprocess.Popen[str]:
    """`own_process_group`: so that a test can end the gateway and every worker process it started at once."""
    environment = {
        **os.environ,
        "HEZO_DATABASE__URL": database_url or f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}",
        "HEZO_STORAGE__DIR": str(tmp_path / "data"),
        "HEZO_HTTP__PORT": "0",
        "HEZO_SMTP__PORT": "0",
        "HEZO_LOG__FORMAT": "json",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve"],
        cwd=REPO_ROOT,
        env=environment,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=own_process_group,
    )


def test_serve_is_ready_takes_mail_and_exits_zero_on_sigterm(tmp_path: Path) -> None:
    process = start_gateway(tmp_path, HEZO_API__TOKENS="t1")
    try:
        assert process.stderr is not None
        started = _wait_for_event(process.stderr, "gateway started")
        http_port = int(started["http"].rsplit(":", 1)[1])
        smtp_port = int(started["smtp"].rsplit(":", 1)[1])
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/readyz", timeout=10) as ready:
            assert ready.status == 200
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
            smtp.sendmail("jan.kowalski@example.pl", ["pomoc@myhezo.pl"], simple_mail())
        request = urllib.request.Request(
            f"http://127.0.0.1:{http_port}/api/v1/requests", headers={"Authorization": "Bearer t1"}
        )
        with urllib.request.urlopen(request, timeout=10) as listing:
            assert [i["reference"] for i in json.load(listing)["items"]] == ["HZ-2026-000001"]
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=10) as metrics:
            assert b'hezo_intake_total{channel="email",outcome="created"} 1.0' in metrics.read()
        process.send_signal(signal.SIGTERM)
        _wait_for_event(process.stderr, "gateway stopped")
        assert process.wait(timeout=STARTUP_DEADLINE_S) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
