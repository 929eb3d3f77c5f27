"""The outbox dispatcher against real loopback peers: an SMTP relay sink, a Twilio stand-in, a webhook receiver."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sys
from datetime import timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import select, update

from gateway.config import Settings
from gateway.intake import Created
from gateway.outbox import queue
from gateway.outbox.dispatcher import Dispatcher, backoff
from gateway.outbox.senders import webhook_signature
from gateway.paths import TEMPLATES_DIR
from gateway.pipeline import submit
from gateway.steps import PipelineDeps
from gateway.store import tables as t
from tests.conftest import FixedClock
from tests.sinks import smtp_sink, twilio_stand_in
from tests.test_pipeline import email, rows, simple_mail


def settings_for(tmp_path: Path, **sections: dict[str, Any]) -> Settings:
    return Settings.model_validate({"storage": {"dir": str(tmp_path / "data")}, **sections})


def sms_intake(body: str = "Awaria 2214G-00417 umowa 40027719", sid: str = "SM1", sender: str = "+48601234567") -> Any:
    from gateway.intake import RawIntake
    from tests.test_pipeline import NOW

    content = json.dumps({"MessageSid": sid, "From": sender, "To": "+48122525600", "Body": body}).encode()
    return RawIntake(channel="sms", content=content, received_at=NOW)


async def test_without_relay_acknowledgement_is_an_eml_file(deps: PipelineDeps, tmp_path: Path) -> None:
    outcome = await submit(email(simple_mail()), deps)
    assert isinstance(outcome, Created)
    dispatcher = Dispatcher(store=deps.store, settings=settings_for(tmp_path), clock=deps.clock)
    assert await dispatcher.run_once() == 1
    [eml] = list((tmp_path / "data" / "outbox").glob("*.eml"))
    message = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    [row] = await rows(deps, t.outbox)
    assert message["Subject"].startswith(f"[{outcome.reference}] ")
    assert message["Message-ID"].strip("<>") == row["message_id"]
    assert message["In-Reply-To"] == "<abc123@example.pl>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["Content-Language"] == "pl"
    assert message["To"].addresses[0].addr_spec == "jan.kowalski@example.pl"
    assert row["status"] == "sent"
    [request] = await rows(deps, t.requests)
    assert request["status"] == "acknowledged"


async def test_relay_outage_delays_but_neither_loses_nor_duplicates(deps: PipelineDeps, tmp_path: Path) -> None:
    clock = deps.clock
    assert isinstance(clock, FixedClock)
    await submit(email(simple_mail()), deps)
    async with smtp_sink() as (_, port):
        pass  # the port is now closed: the relay is down
    dispatcher = Dispatcher(
        store=deps.store, settings=settings_for(tmp_path, relay={"host": "127.0.0.1", "port": port}), clock=clock
    )
    await dispatcher.run_once()
    [row] = await rows(deps, t.outbox)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert "unreachable" in row["last_error"]
    assert await dispatcher.run_once() == 0  # not due yet: backoff
    async with smtp_sink(port) as (sink, _):
        clock.now += timedelta(minutes=5)
        assert await dispatcher.run_once() == 1
        assert await dispatcher.run_once() == 0
        assert len(sink.messages) == 1
    [row] = await rows(deps, t.outbox)
    assert row["status"] == "sent"


async def test_refused_recipient_fails_permanently_and_falls_back_to_sms(deps: PipelineDeps, tmp_path: Path) -> None:
    raw = simple_mail(**{"tel. 603 447 120": "tel. 603 447 120"})
    await submit(email(raw), deps)
    async with smtp_sink() as (sink, port), twilio_stand_in() as (twilio, api_base):
        sink.refuse["jan.kowalski@example.pl"] = "550 5.1.1 No such user"
        settings = settings_for(
            tmp_path,
            relay={"host": "127.0.0.1", "port": port},
            twilio={"account_sid": "AC123", "auth_token": "tok", "api_base": api_base},
        )
        dispatcher = Dispatcher(store=deps.store, settings=settings, clock=deps.clock)
        await dispatcher.run_once()
        await dispatcher.run_once()
        await dispatcher.close()
    email_row, sms_row = await rows(deps, t.outbox)
    assert (email_row["kind"], email_row["status"]) == ("ack_email", "failed")
    assert (sms_row["kind"], sms_row["status"], sms_row["recipient"]) == ("ack_sms", "sent", "+48603447120")
    assert [m["To"] for m in twilio.sent] == ["+48603447120"]


async def test_sms_acknowledgement_through_twilio_library(deps: PipelineDeps, tmp_path: Path) -> None:
    outcome = await submit(sms_intake(), deps)
    assert isinstance(outcome, Created)
    async with twilio_stand_in() as (twilio, api_base):
        settings = settings_for(tmp_path, twilio={"account_sid": "AC123", "auth_token": "tok", "api_base": api_base})
        dispatcher = Dispatcher(store=deps.store, settings=settings, clock=deps.clock)
        assert await dispatcher.run_once() == 1
        await dispatcher.close()
    [sent] = twilio.sent
    assert (sent["To"], sent["From"], sent["account"]) == ("+48601234567", "+48122525600", "AC123")
    assert outcome.reference in sent["Body"]
    from gateway.ack import sms_segments

    assert sms_segments(sent["Body"]) <= 2


async def test_escalation_webhook_is_signed(deps: PipelineDeps, tmp_path: Path) -> None:
    received: list[tuple[bytes, dict[str, str]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((await request.read(), dict(request.headers)))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        hooked = PipelineDeps(**{**deps.__dict__, "escalation_webhook": url, "escalation_notify": ()})
        await submit(email(simple_mail(), mailbox="escalation"), hooked)
        settings = settings_for(tmp_path, escalation={"webhook_url": url, "webhook_secret": "shh"})
        await Dispatcher(store=deps.store, settings=settings, clock=deps.clock).run_once()
    finally:
        await runner.cleanup()
    [(body, headers)] = received
    assert json.loads(body)["reference"] == "HZ-2026-000001"
    assert headers["X-Hezo-Signature"] == webhook_signature("shh", headers["X-Hezo-Timestamp"], body)


async def test_expired_lease_is_sent_again_with_the_same_message_id(deps: PipelineDeps, tmp_path: Path) -> None:
    await submit(email(simple_mail()), deps)
    clock = deps.clock
    assert isinstance(clock, FixedClock)
    crashed = await queue.claim(deps.store, worker="dead", now=clock.now, lease=timedelta(minutes=2), limit=10)
    assert len(crashed) == 1
    dispatcher = Dispatcher(store=deps.store, settings=settings_for(tmp_path), clock=clock)
    assert await dispatcher.run_once() == 0  # the lease still holds
    clock.now += timedelta(minutes=3)
    assert await dispatcher.run_once() == 1
    [eml] = list((tmp_path / "data" / "outbox").glob("*.eml"))
    assert crashed[0].message_id and crashed[0].message_id in eml.read_text()


def test_backoff_grows_and_is_capped() -> None:
    import random

    rng = random.Random(1)
    delays = [backoff(n, rng).total_seconds() for n in range(20)]
    assert 4 <= delays[0] <= 6
    assert delays[3] > delays[1]
    assert max(delays) <= 3600 * 1.2


async def test_two_dispatchers_never_send_a_row_twice(deps: PipelineDeps, tmp_path: Path) -> None:
    for n in range(30):
        await submit(email(simple_mail(abc123=f"many{n}", **{"jan.kowalski": f"user{n}"})), deps)
    async with smtp_sink() as (sink, port):
        settings = settings_for(tmp_path, relay={"host": "127.0.0.1", "port": port})
        first = Dispatcher(store=deps.store, settings=settings, clock=deps.clock, worker="a")
        second = Dispatcher(store=deps.store, settings=settings, clock=deps.clock, worker="b")
        while sum(await asyncio.gather(first.run_once(), second.run_once())):
            pass
        await sink.wait_for(30)
    ids = [m["Message-ID"] for m in sink.messages]
    assert len(ids) == len(set(ids)) == 30
    async with deps.store.reading() as conn:
        statuses = {r.status for r in await conn.execute(select(t.outbox.c.status))}
    assert statuses == {"sent"}


async def test_sla_watch_warns_once_before_and_once_at_breach(deps: PipelineDeps, tmp_path: Path) -> None:
    from gateway.metrics import Metrics
    from gateway.outbox.sla_watch import warn_due

    clock = deps.clock
    assert isinstance(clock, FixedClock)
    await submit(email(simple_mail()), deps)
    async with deps.store.transaction() as tx:
        await tx.conn.execute(update(t.requests).values(response_due=clock.now + timedelta(minutes=40)))
    metrics = Metrics()

    async def check(minutes: int) -> list[tuple[str, str]]:
        return await warn_due(
            deps.store,
            now=clock.now + timedelta(minutes=minutes),
            warn_before=timedelta(minutes=15),
            notify=["desk@myhezo.pl"],
            metrics=metrics,
        )

    assert await check(0) == []
    assert await check(30) == [("HZ-2026-000001", "sla_due_soon")]
    assert await check(31) == []
    assert await check(41) == [("HZ-2026-000001", "sla_breached")]
    assert await check(90) == []
    kinds = [r["kind"] for r in await rows(deps, t.outbox)]
    assert kinds == ["ack_email", "sla_due_soon", "sla_breached"]


_DISPATCHER_PROCESS = """
import asyncio, sys
from gateway.config import Settings
from gateway.outbox.dispatcher import Dispatcher
from gateway.store import Store
async def main(url, schema, relay_port, worker):
    store = await Store.open(url, upgrade=False, pg_schema=schema)
    settings = Settings.model_validate({"relay": {"host": "127.0.0.1", "port": int(relay_port)}})
    dispatcher = Dispatcher(store=store, settings=settings, worker=worker)
    while await dispatcher.run_once():
        pass
    await dispatcher.close()
    await store.close()
asyncio.run(main(*sys.argv[1:]))
"""


@pytest.mark.system
async def test_two_dispatcher_processes_on_postgresql_send_each_row_once(tmp_path: Path) -> None:
    from gateway.store import Store
    from gateway.store.blobs import BlobStore
    from tests.conftest import REPO_ROOT, _drop_schema, _postgres_schema, postgres_url

    url = postgres_url()
    schema = await _postgres_schema(url)
    store = await Store.open(url, pg_schema=schema)
    try:
        deps = PipelineDeps(store=store, blobs=BlobStore(tmp_path), own_addresses=frozenset(), ack_domain="myhezo.pl")
        for n in range(60):
            await submit(email(simple_mail(abc123=f"proc{n}", **{"jan.kowalski": f"user{n}"})), deps)
        async with smtp_sink() as (sink, port):
            children = [
                await asyncio.create_subprocess_exec(
                    sys.executable, "-c", _DISPATCHER_PROCESS, url, schema, str(port), f"proc-{n}", cwd=REPO_ROOT
                )
                for n in range(2)
            ]
            assert [await child.wait() for child in children] == [0, 0]
            await sink.wait_for(60)
        ids = [m["Message-ID"] for m in sink.messages]
        assert len(ids) == len(set(ids)) == 60
        async with store.reading() as conn:
            by_worker = {r.status for r in await conn.execute(select(t.outbox.c.status))}
        assert by_worker == {"sent"}
    finally:
        await store.close()
        await _drop_schema(url, schema)


async def test_the_dispatcher_is_woken_only_when_an_intake_queued_something(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.service import Gateway
    from gateway.store import Store
    from tests.test_pipeline import email, simple_mail

    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    try:
        gateway = Gateway(settings=Settings.model_validate({"storage": {"dir": str(tmp_path / "data")}}), store=store)
        wakes: list[str] = []
        monkeypatch.setattr(gateway.dispatcher, "wake", lambda: wakes.append("wake"))
        automatic = simple_mail(**{"MIME-Version": "Auto-Submitted: auto-replied\nMIME-Version", "abc123": "auto"})
        assert isinstance(await gateway.submit(email(automatic)), Created)
        assert wakes == []  # stored, nothing to send
        assert isinstance(await gateway.submit(email(simple_mail())), Created)
        assert wakes == ["wake"]  # its acknowledgement goes out now
    finally:
        await store.close()


def templates_of_our_own(folder: Path) -> Path:
    """A copy of the gateway's acknowledgement templates, the Polish e-mail marked as ours."""
    shutil.copytree(TEMPLATES_DIR / "ack", folder / "ack")
    email_text = folder / "ack" / "pl" / "email.txt.j2"
    email_text.write_text("Szablon serwisu partnerskiego.\n" + email_text.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


async def test_acknowledgements_come_from_the_configured_templates_folder(deps: PipelineDeps, tmp_path: Path) -> None:
    ours = templates_of_our_own(tmp_path / "templates")
    outcome = await submit(email(simple_mail()), deps)
    assert isinstance(outcome, Created)
    settings = settings_for(tmp_path, ack={"templates_dir": str(ours)})
    assert await Dispatcher(store=deps.store, settings=settings, clock=deps.clock).run_once() == 1
    [eml] = list((tmp_path / "data" / "outbox").glob("*.eml"))
    message = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    text = message.get_body(preferencelist=("plain",))
    assert text is not None and text.get_content().startswith("Szablon serwisu partnerskiego.")


def test_a_templates_folder_must_hold_every_template_the_gateway_sends(tmp_path: Path) -> None:
    ours = templates_of_our_own(tmp_path / "templates")
    (ours / "ack" / "en" / "sms.txt.j2").unlink()
    with pytest.raises(ValidationError, match=re.escape("ack/en/sms.txt.j2")):
        settings_for(tmp_path, ack={"templates_dir": str(ours)})
    with pytest.raises(ValidationError, match="lacks templates"):
        settings_for(tmp_path, ack={"templates_dir": str(tmp_path / "nowhere")})
