"""Gating and plumbing shared by the tests that run real system components.

A missing component skips its tests on a developer machine, but under HEZO_REQUIRE_SYSTEM_TESTS=1 (set by CI)
it fails them, so a broken install cannot pass as a green run of skipped tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import pytest

REQUIRE_SYSTEM_TESTS_VARIABLE = "HEZO_REQUIRE_SYSTEM_TESTS"

# Daemon binaries live in sbin directories, which a non-root PATH often leaves out.
_EXTRA_BINARY_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")


class SystemCommandError(RuntimeError):
    """A system command failed; the message carries its output so the test report shows why."""


def system_tests_required() -> bool:
    return os.environ.get(REQUIRE_SYSTEM_TESTS_VARIABLE) == "1"


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the current test, or fail it when system tests are required."""
    if system_tests_required():
        pytest.fail(f"{reason} ({REQUIRE_SYSTEM_TESTS_VARIABLE}=1 forbids skipping system tests)", pytrace=False)
    pytest.skip(reason)


def require_binary(name_or_path: str, reason: str) -> str:
    """The absolute path of an executable; skips (or fails) the test when it is not installed."""
    search_path = os.pathsep.join([os.environ.get("PATH", os.defpath), *_EXTRA_BINARY_DIRS])
    found = shutil.which(name_or_path, path=search_path)
    if found is None:
        skip_or_fail(f"{name_or_path} not found: {reason}")
    return found


def running_as_root() -> bool:
    return os.geteuid() == 0


def require_root(reason: str) -> None:
    if not running_as_root():
        skip_or_fail(f"needs root: {reason}")


def run_command(argv: Sequence[str], *, timeout: float = 30.0, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a short-lived command, stdin closed, output captured; raise with the output when `check` and it fails."""
    completed = subprocess.run(
        list(argv), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and completed.returncode != 0:
        raise SystemCommandError(
            f"{' '.join(argv)} exited {completed.returncode}\nstdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
        )
    return completed


def reachable_tempdir(prefix: str) -> Path:
    """A new directory under the system temp dir that unprivileged daemon users can traverse.

    Daemons started as root drop to users such as `nobody` or `postfix`; pytest's own temp tree is private to its
    owner (mode 0700), so their files must live elsewhere. The caller removes it with `remove_tree`.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def log_tail(path: Path, lines: int = 30) -> str:
    """The end of a daemon's log, for error messages; empty when the log was never written."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def process_alive(pid: int) -> bool:
    """True while `pid` runs; a zombie counts as gone (a daemon's parent is init, which may reap it late)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = status.rsplit(")", 1)[-1].split()[0]  # the command name in parentheses may contain spaces
    return state not in {"Z", "X"}
