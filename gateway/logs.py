"""Structured logs: JSON lines when not on a terminal; each record bound to channel, external id and reference."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog


def configure_logging(level: str = "INFO", fmt: str = "auto") -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: Any = structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


def _stderr_logger(*_args: Any) -> structlog.WriteLogger:
    # Looked up at use, not at configuration: stdout belongs to the commands' results (`parse`, `calls import`).
    # WriteLogger writes a line and its newline in one call (print() makes two), so the lines of several worker
    # processes sharing one stderr never run into each other.
    return structlog.WriteLogger(file=sys.stderr)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


if not structlog.is_configured():
    configure_logging()
