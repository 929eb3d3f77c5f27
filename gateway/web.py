"""The aiohttp application: health, readiness, metrics, and the places other modules add their routes."""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from gateway.config import Settings
from gateway.logs import get_logger
from gateway.metrics import Metrics
from gateway.steps import PipelineDeps
from gateway.store import Store

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
DEPS = web.AppKey("deps", PipelineDeps)
METRICS = web.AppKey("metrics", Metrics)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RouteInstaller = Callable[[web.Application], None]

log = get_logger("gateway.web")


def json_response(data: Any, *, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda v: json.dumps(v, ensure_ascii=False, default=str))


def json_error(status: int, message: str, **extra: Any) -> web.Response:
    return json_response({"error": message, **extra}, status=status)


def _bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def check_api_token(request: web.Request) -> web.Response | None:
    """None when the bearer token is valid; otherwise the 401 (none given) or 403 (wrong one) to answer."""
    token = _bearer_token(request)
    if token is None:
        response = json_error(401, "missing bearer token (Authorization: Bearer <token>)")
        response.headers["WWW-Authenticate"] = 'Bearer realm="hezo-gateway"'
        return response
    # compare_digest on every configured token: the time taken does not tell how much of a token was right.
    valid = [hmac.compare_digest(token.encode(), t.encode()) for t in request.app[SETTINGS].api.tokens]
    return None if any(valid) else json_error(403, "token not accepted")


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """API clients get JSON errors and never a stack trace; the trace goes to the log."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if not request.path.startswith("/api/") or exc.status < 400:
            raise
        return json_error(exc.status, exc.reason)
    except Exception:
        log.exception("unhandled error", path=request.path, method=request.method)
        if request.path.startswith("/api/"):
            return json_error(500, "internal error; the gateway logged the details")
        raise web.HTTPInternalServerError(text="internal error") from None


async def healthz(_request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    ready = await request.app[STORE].ready()
    return json_response({"status": "ready" if ready else "not ready", "database": ready}, status=200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def build_app(
    *, settings: Settings, store: Store, deps: PipelineDeps, metrics_: Metrics, installers: Iterable[RouteInstaller]
) -> web.Application:
    app = web.Application(middlewares=[errors_as_json], client_max_size=settings.http.max_body_bytes)
    app[SETTINGS] = settings
    app[STORE] = store
    app[DEPS] = deps
    app[METRICS] = metrics_
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    for install in installers:
        install(app)
    return app
