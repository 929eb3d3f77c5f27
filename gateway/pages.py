"""Shared plumbing of the HTML pages: the Jinja2 environment, the page language, security headers, static files."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from gateway.page_texts import TEXTS
from gateway.paths import TEMPLATES_DIR
from gateway.web import SETTINGS

WEB_TEMPLATES = TEMPLATES_DIR / "web"
STATIC_DIR = WEB_TEMPLATES / "static"
PAGES_FOLDER = web.AppKey("pages_folder", Path)
"""The folder of page templates and static files this app serves (`[web] templates_dir`/web, else the bundled)."""
WARSAW = ZoneInfo("Europe/Warsaw")
LANG_COOKIE = "hezo_lang"
PageLanguage = Literal["pl", "en"]

# No inline script or style anywhere: a value that slipped past escaping still cannot run. Forms post only to us,
# and no other site may frame a page (clickjacking of the "first contact" button or the login form).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # a signed portal link or a reference in a URL never leaves the site
    "X-Content-Type-Options": "nosniff",
}


@lru_cache(maxsize=4)
def environment(folder: Path = WEB_TEMPLATES) -> Environment:
    env = Environment(
        loader=FileSystemLoader(folder),
        # Every value on these pages comes from reporters (subjects, descriptions, names, raw mail): escaping is on
        # for every template, so a `<script>` in a description shows as text and never runs.
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,  # a misspelt variable fails the page loudly instead of showing a blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local_time"] = local_time
    return env


def local_time(value: datetime | None) -> str:
    return "—" if value is None else value.astimezone(WARSAW).strftime("%Y-%m-%d %H:%M")


def page_language(request: web.Request) -> PageLanguage:
    """Polish unless ?lang=en (or the cookie it left) asks for English."""
    chosen = request.query.get("lang") or request.cookies.get(LANG_COOKIE, "pl")
    return "en" if chosen == "en" else "pl"


def translator(language: PageLanguage) -> Any:
    def translate(key: str, **values: Any) -> str:
        entry = TEXTS.get(key)
        text = key if entry is None else entry[0 if language == "pl" else 1]
        return text.format(**values) if values else text

    return translate


def render(request: web.Request, template: str, context: Mapping[str, Any], *, status: int = 200) -> web.Response:
    language = page_language(request)
    body = (
        environment(request.app.get(PAGES_FOLDER, WEB_TEMPLATES))
        .get_template(template)
        .render({**context, "_": translator(language), "lang": language, "path": request.path})
    )
    response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
    response.headers["Cache-Control"] = "no-store"  # pages carry personal data and CSRF tokens
    if request.query.get("lang") in ("pl", "en"):
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


async def add_security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def install_page_support(app: web.Application) -> None:
    """Security headers on every answer, the page templates' folder and the static files; safe to call from
    several installers. A `[web] templates_dir` in the app's settings replaces the bundled web/ folder."""
    if add_security_headers not in app.on_response_prepare:
        app.on_response_prepare.append(add_security_headers)
    if PAGES_FOLDER not in app:
        own = app[SETTINGS].web.templates_dir if SETTINGS in app else None
        app[PAGES_FOLDER] = (own / "web").resolve() if own is not None else WEB_TEMPLATES
    if not any(getattr(r, "canonical", "") == "/static" for r in app.router.resources()):
        app.router.add_static("/static", app[PAGES_FOLDER] / "static")
