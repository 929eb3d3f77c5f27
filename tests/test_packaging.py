"""The wheel carries what an installed gateway needs (templates, default configuration, migrations), and a gateway
installed from it uses its own copies, wherever it is started from."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO_ROOT

INSTALLED_CHECK = """
import sys
from pathlib import Path

import gateway
from gateway.ack.templating import DEFAULT_TEMPLATES_DIR
from gateway.config import load_settings
from gateway.contracts.levels import default_levels
from gateway.pages import WEB_TEMPLATES
from gateway.store.migrate import MIGRATIONS_DIR

site = Path(sys.argv[1]).resolve()
for path in (Path(gateway.__file__), DEFAULT_TEMPLATES_DIR, WEB_TEMPLATES, MIGRATIONS_DIR):
    assert path.resolve().is_relative_to(site), f"{path} is not the installed copy"
assert (DEFAULT_TEMPLATES_DIR / "ack" / "pl" / "email.txt.j2").is_file()
assert (WEB_TEMPLATES / "desk.html").is_file()
assert load_settings().mailboxes, "the default configuration did not load"
assert "NBD_AHR" in default_levels()
"""


_NOT_SOURCE = (
    ".git",
    ".venv",
    "var",
    "build",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "test-artifacts",
)


def _files_under(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}


def test_the_wheel_carries_the_templates_configuration_and_migrations_and_the_installed_copy_uses_them(
    tmp_path: Path,
) -> None:
    dist, site, source = tmp_path / "dist", tmp_path / "site", tmp_path / "source"
    # Built from a copy: setuptools leaves build/ and *.egg-info in the folder it builds, and would reuse them.
    shutil.copytree(REPO_ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(*_NOT_SOURCE))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(source)]
    subprocess.run(build, check=True, capture_output=True, timeout=300)
    [wheel] = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        carried = set(archive.namelist())
    for folder in ("templates", "config"):
        wanted = {f"gateway/bundled/{folder}/{name}" for name in _files_under(REPO_ROOT / folder)}
        assert wanted <= carried, f"missing from the wheel: {sorted(wanted - carried)}"
    migrations = {f"gateway/migrations/{name}" for name in _files_under(REPO_ROOT / "gateway" / "migrations")}
    assert {name for name in migrations if name.endswith(".py")} <= carried

    install = [*pip, "install", "--no-deps", "--target", str(site), str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environment = {**os.environ, "PYTHONPATH": str(site), "HEZO_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/g.db"}
    checked = subprocess.run(
        [sys.executable, "-c", INSTALLED_CHECK, str(site)],
        cwd=elsewhere,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    upgraded = subprocess.run(
        [sys.executable, "-m", "gateway", "db", "upgrade"],
        cwd=elsewhere,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    assert (tmp_path / "g.db").is_file()
