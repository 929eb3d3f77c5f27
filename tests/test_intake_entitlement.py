"""Entitlement inside the intake pipeline: registry lookups decide contract, window and deadline."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from gateway.contracts.registry import import_contracts
from gateway.intake import Created, RawIntake
from gateway.pipeline import submit
from gateway.sla import due
from gateway.steps import PipelineDeps
from gateway.store import tables as t
from tests.conftest import REPO_ROOT
from tests.test_pipeline import rows, simple_mail

FRIDAY_EVENING = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)


def mail(content: bytes) -> RawIntake:
    return RawIntake(channel="email", content=content, received_at=FRIDAY_EVENING, mailbox="pomoc")


def with_deadlines(deps: PipelineDeps) -> PipelineDeps:
    return dataclasses.replace(deps, response_due=lambda received, window: due(received, window, 1))  # type: ignore[arg-type]


async def test_a_covered_serial_alone_names_the_contract_and_its_window(deps: PipelineDeps, tmp_path: Path) -> None:
    await import_contracts(deps.store, REPO_ROOT / "config" / "contracts-example.csv")
    deps = with_deadlines(deps)
    raw = simple_mail(
        **{
            "S/N: 2214G-00417, umowa serwisowa nr 40027719": "S/N: 14JP512E0001",
            "jan.kowalski@example.pl": "it@szpital.example.pl",
        }
    )
    outcome = await submit(mail(raw), deps)
    assert outcome == Created("HZ-2026-000001", ())
    [request] = await rows(deps, t.requests)
    entitlement = request["data"]["entitlement"]
    assert (entitlement["status"], entitlement["contract_number"], entitlement["window"]) == (
        "entitled",
        "HZ/AHB/2025/0142",
        "24x7",
    )
    assert request["data"]["contract_numbers"] == ["HZ/AHB/2025/0142"]
    assert request["data"]["reporter_authorised"] is True
    assert request["contract_number"] == "HZ/AHB/2025/0142"
    # 24x7: answered at night, one hour after receipt, not on Monday morning.
    assert request["response_due"] == datetime(2026, 11, 27, 20, 0, tzinfo=UTC)


async def test_unknown_contract_keeps_the_8x5_window(deps: PipelineDeps) -> None:
    deps = with_deadlines(deps)
    await submit(mail(simple_mail()), deps)
    [request] = await rows(deps, t.requests)
    assert request["data"]["entitlement"]["status"] == "unknown_contract"
    assert request["data"]["reporter_authorised"] is None
    # Friday 20:00 Warsaw, 8x5: Monday 10:00 Warsaw.
    assert request["response_due"] == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


async def test_the_api_shows_entitlement_clocks_and_related_requests(deps: PipelineDeps) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from gateway import api
    from gateway.config import Settings
    from gateway.metrics import Metrics
    from gateway.web import build_app

    await submit(mail(simple_mail()), deps)
    await submit(mail(simple_mail(abc123="second", **{"Subject: ": "Subject: Znowu: "})), deps)
    settings = Settings.model_validate({"api": {"tokens": ["t"]}})
    app = build_app(settings=settings, store=deps.store, deps=deps, metrics_=Metrics(), installers=[api.install])
    async with TestClient(TestServer(app)) as client:
        body = await (await client.get("/api/v1/requests/HZ-2026-000002", headers={"Authorization": "Bearer t"})).json()
    assert set(body["sla"]) == {"response_due", "delivery_due", "return_due"}
    assert body["entitlement"]["status"] == "unknown_contract"
    assert [r["reference"] for r in body["related"]] == ["HZ-2026-000001"]
    assert "reporter_authorised" in body and "vendor_cases" in body


async def test_the_acknowledgement_names_the_contract_level_and_24x7_hours(deps: PipelineDeps, tmp_path: Path) -> None:
    await import_contracts(deps.store, REPO_ROOT / "config" / "contracts-example.csv")
    raw = simple_mail(**{"S/N: 2214G-00417, umowa serwisowa nr 40027719": "S/N: 14JP512E0001"})
    await submit(mail(raw), with_deadlines(deps))
    text = await acknowledgement_text(deps, tmp_path)
    assert "HZ/AHB/2025/0142" in text and "AHB_24X7_NBD" in text
    assert "24x7" in text
    assert "7 dni" in text  # a replacement level: the 7-day return obligation is stated


async def test_the_acknowledgement_says_an_unknown_contract_was_not_confirmed(
    deps: PipelineDeps, tmp_path: Path
) -> None:
    await submit(mail(simple_mail()), with_deadlines(deps))
    text = await acknowledgement_text(deps, tmp_path)
    assert "Nie potwierdziliśmy podanego numeru umowy" in text
    assert "8x5" in text


async def acknowledgement_text(deps: PipelineDeps, tmp_path: Path) -> str:
    from email import policy
    from email.message import EmailMessage
    from email.parser import BytesParser

    from gateway.config import Settings
    from gateway.outbox.dispatcher import Dispatcher

    settings = Settings.model_validate({"storage": {"dir": str(tmp_path / "data")}})
    await Dispatcher(store=deps.store, settings=settings, clock=deps.clock).run_once()
    [eml] = list((tmp_path / "data" / "outbox").glob("*.eml"))
    message = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text: str = body.get_content()
    return text
