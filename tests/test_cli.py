"""The command line contract (DESIGN.md, "Command line")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.test_pipeline import DATA


def gateway(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, env=env
    )


def test_parse_prints_one_line_per_file_in_order_and_exits_1_on_a_bad_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.eml"
    result = gateway(
        "parse",
        "--channel",
        "email",
        "--mailbox",
        "escalation",
        str(DATA / "simple.eml"),
        str(missing),
        str(DATA / "simple.eml"),
    )
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3
    assert lines[0]["channel"] == "email" and lines[0]["mailbox"] == "escalation" and lines[0]["escalation"] is True
    assert lines[0]["reference"] is None
    assert lines[1] == {"file": str(missing), "error": lines[1]["error"]} and lines[1]["error"]
    assert lines[2]["serial_numbers"] == ["2214G-00417"]


def test_parse_of_a_portal_file_that_is_not_json_is_an_error_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = gateway("parse", "--channel", "portal", str(bad))
    assert result.returncode == 1
    assert "JSON" in json.loads(result.stdout)["error"]


def test_sla_due_prints_warsaw_rfc3339() -> None:
    result = gateway("sla", "due", "--received-at", "2026-12-23T16:30:00+01:00", "--window", "8x5")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2026-12-28T09:30:00+01:00"


def test_bad_configuration_names_the_key(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "HEZO_SMTP__PORT": "not-a-port", "HEZO_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/x.db"}
    result = gateway("db", "upgrade", env=env)
    assert result.returncode == 1
    assert "smtp.port" in result.stderr


def test_requests_list_and_show(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "HEZO_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/x.db", "HEZO_LOG__FORMAT": "json"}
    assert gateway("db", "upgrade", env=env).returncode == 0
    assert gateway("requests", "list", "--json", env=env).stdout == ""
    shown = gateway("requests", "show", "HZ-2026-000001", env=env)
    assert shown.returncode == 1 and "no request" in shown.stderr
