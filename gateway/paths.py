"""Where the files that come with the gateway are: the templates and the default configuration.

In a checkout they are the repository's `templates/` and `config/` folders, edited in place: `gateway/bundled/`
links to them. A wheel carries copies of both under `gateway/bundled/`, so an installed gateway finds them too.
"""

from __future__ import annotations

from pathlib import Path

_BUNDLED = Path(__file__).resolve().parent / "bundled"
TEMPLATES_DIR = (_BUNDLED / "templates").resolve()
CONFIG_DIR = (_BUNDLED / "config").resolve()
