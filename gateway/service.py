"""`hezo-gateway serve`: every enabled door, the outbox dispatcher and the HTTP app in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from gateway import api
from gateway.config import Settings
from gateway.contracts import return_watch
from gateway.intake import Created, FollowUp, Outcome, RawIntake
from gateway.logs import get_logger
from gateway.metrics import Metrics
from gateway.outbox import sla_watch
from gateway.outbox.dispatcher import Dispatcher
from gateway.pipeline import submit
from gateway.steps import PipelineDeps
from gateway.store import Store
from gateway.store.blobs import BlobStore
from gateway.web import RouteInstaller, build_app

if TYPE_CHECKING:
    from gateway.workers import Listeners

log = get_logger("gateway.service")

SHUTDOWN_GRACE_S = 30.0


def response_deadline(settings: Settings) -> Callable[[datetime, str], datetime | None]:
    from gateway.sla import due

    return lambda received_at, window: due(received_at, window, settings.sla.response_hours)  # type: ignore[arg-type]


def imap_ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """None: the system's trust store. A CA file: trust that CA as well (a private CA in front of the mail server)."""
    if not settings.imap.ca_file:
        return None
    return ssl.create_default_context(cafile=settings.imap.ca_file)


def route_installers() -> list[RouteInstaller]:
    from channels import console, hotline, portal, twilio
    from gateway import agents, desk
    from gateway.contracts import api as contracts_api

    return [
        api.install,
        contracts_api.install,
        twilio.install,
        hotline.install,
        portal.install,
        agents.install,
        console.install,
        desk.install,
    ]


@dataclass
class Gateway:
    """The running service; `start` binds everything, `stop` finishes in-flight work and releases it."""

    settings: Settings
    store: Store
    metrics: Metrics = field(default_factory=Metrics)
    deps: PipelineDeps = field(init=False)
    http_runner: web.AppRunner | None = None
    smtp_server: asyncio.Server | None = None
    smtp_handler: object | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    dispatcher: Dispatcher = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.dispatcher = Dispatcher(store=self.store, settings=s, metrics=self.metrics)
        self.deps = PipelineDeps(
            store=self.store,
            blobs=BlobStore(s.storage.dir),
            own_addresses=frozenset(s.mailboxes) | {s.relay.from_address.lower()},
            ack_domain=s.ack.domain,
            escalation_notify=tuple(s.escalation.notify),
            escalation_webhook=s.escalation.webhook_url,
            default_window=s.sla.default_window,
            response_due=response_deadline(s),
            ack_rate_limit_per_hour=s.ack.rate_limit_per_hour,
            observe=self._observe,
        )

    def _observe(self, raw: RawIntake, outcome: Outcome) -> None:
        self.metrics.observe_intake(raw, outcome)
        # Acknowledgements go out now, not at the next poll. A new request with nothing queued (its sender over the
        # rate limit, an automatic mail) gives the dispatcher no work: waking it would only cost a claim.
        if isinstance(outcome, FollowUp) or (isinstance(outcome, Created) and outcome.queued):
            self.dispatcher.wake()

    async def submit(self, raw: RawIntake) -> Outcome:
        return await submit(raw, self.deps)

    @property
    def http_port(self) -> int:
        assert self.http_runner is not None
        return int(self.http_runner.addresses[0][1])

    @property
    def smtp_port(self) -> int:
        assert self.smtp_server is not None
        return int(self.smtp_server.sockets[0].getsockname()[1])

    async def start(self, listeners: Listeners | None = None) -> None:
        """Binds the configured ports, or serves on `listeners` bound by the parent of several workers."""
        s = self.settings
        app = build_app(
            settings=s, store=self.store, deps=self.deps, metrics_=self.metrics, installers=route_installers()
        )
        self.http_runner = web.AppRunner(app, access_log=None)
        await self.http_runner.setup()
        if listeners is None:
            await web.TCPSite(self.http_runner, s.http.host, s.http.port).start()
        else:
            await web.SockSite(self.http_runner, listeners.http).start()
        if s.smtp.enabled:
            from channels.smtp import IntakeHandler, start_smtp_server

            handler = IntakeHandler(self.submit, s.mailboxes, s.smtp)
            self.smtp_handler = handler
            self.smtp_server = await start_smtp_server(
                handler, s.smtp, sock=listeners.smtp if listeners is not None else None
            )
        if s.imap.enabled and s.imap.accounts:
            from channels.imap import run_imap_pollers

            self.tasks.append(
                asyncio.create_task(
                    run_imap_pollers(s.imap, self.submit, self.store, self.stopping, ssl_context=imap_ssl_context(s)),
                    name="imap",
                )
            )
        self.tasks.append(asyncio.create_task(self.dispatcher.run(self.stopping), name="outbox"))
        self.tasks.append(
            asyncio.create_task(
                sla_watch.watch(
                    self.store,
                    stop=self.stopping,
                    warn_before=timedelta(minutes=s.sla.warn_before_minutes),
                    notify=s.escalation.notify,
                    metrics=self.metrics,
                    on_warning=self.dispatcher.wake,
                ),
                name="sla-watch",
            )
        )
        self.tasks.append(
            asyncio.create_task(
                return_watch.watch(
                    self.store,
                    stop=self.stopping,
                    notify=s.escalation.notify,
                    domain=s.ack.domain,
                    on_raised=self.dispatcher.wake,
                ),
                name="return-watch",
            )
        )
        log.info(
            "gateway started",
            http=f"{s.http.host}:{self.http_port}",
            smtp=f"{s.smtp.host}:{self.smtp_port}" if self.smtp_server else "off",
            imap=len(s.imap.accounts) if s.imap.enabled else "off",
            backend=self.store.backend,
        )

    async def stop(self) -> None:
        """Stop accepting, let in-flight intake finish (bounded), then release everything."""
        if self.smtp_server is not None:
            self.smtp_server.close()
            idle = getattr(self.smtp_handler, "idle", None)
            if isinstance(idle, asyncio.Event):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(idle.wait(), SHUTDOWN_GRACE_S)
        # Background loops finish their current pass (an acknowledgement being sent is completed) and then stop.
        self.stopping.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*self.tasks, return_exceptions=True), SHUTDOWN_GRACE_S)
        await self.dispatcher.close()
        if self.http_runner is not None:
            await self.http_runner.cleanup()
        log.info("gateway stopped")


async def serve(
    settings: Settings,
    *,
    ready: Callable[[Gateway], Awaitable[None]] | None = None,
    listeners: Listeners | None = None,
    migrate: bool = True,
) -> int:
    store = await Store.open(settings.database.url, upgrade=migrate)
    gateway = Gateway(settings=settings, store=store)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await gateway.start(listeners)
        if ready is not None:
            await ready(gateway)
        await stop.wait()
        log.info("shutting down")
    finally:
        await gateway.stop()
        await store.close()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    return 0
