"""The Jinja2 environment over the repository's templates/ folder."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from gateway.ack.context import DEFAULT_CONTACTS, AckContext, ServiceContacts, local_time, short_local_time
from gateway.paths import TEMPLATES_DIR
from gateway.schema import Language

DEFAULT_TEMPLATES_DIR = TEMPLATES_DIR


@lru_cache(maxsize=8)
def _environment(templates_dir: Path) -> Environment:
    return Environment(
        loader=FileSystemLoader(templates_dir),
        # HTML is escaped because subjects, names and serial numbers come from the reporter: without it a
        # `<script>` or a phishing link in a subject would become live markup in our own mail. Plain text is left
        # alone (escaping would only mangle it); any template whose kind is not known escapes too.
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "xml", "html.j2", "htm.j2", "xml.j2"),
            disabled_extensions=("txt", "txt.j2"),
            default_for_string=True,
            default=True,
        ),
        # A misspelt variable must fail the render (and the outbox retry), never send a half-empty message.
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Templates are read once per process (a restart picks up edits): checking every file's time stamp on every
        # acknowledgement was a measurable share of sending one.
        auto_reload=False,
    )


def render(
    name: str,
    ctx: AckContext,
    *,
    language: Language | None = None,
    templates_dir: Path | str | None = None,
    contacts: ServiceContacts = DEFAULT_CONTACTS,
    **extra: Any,
) -> str:
    """Render `ack/<language>/<name>` with the context, its times in Warsaw time, and the service contacts."""
    lang: Language = language or ctx.language
    directory = Path(templates_dir).resolve() if templates_dir is not None else DEFAULT_TEMPLATES_DIR
    template = _environment(directory).get_template(f"ack/{lang}/{name}")
    return template.render(
        ctx=ctx,
        tag=f"[{ctx.reference}]",
        received=local_time(ctx.received_at, lang),
        due=local_time(ctx.response_due, lang),
        due_short=short_local_time(ctx.response_due),
        contacts=contacts,
        **extra,
    )
