"""`hezo-gateway calls import FILE.csv`: encodings, a broken row reported by line, a re-import creating nothing."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from channels.call_log import CallLogError, decode_call_log, import_calls, register_cli, run_calls_import
from gateway.config import Settings
from gateway.intake import Created, Outcome, RawIntake
from gateway.pipeline import submit
from gateway.steps import PipelineDeps
from gateway.store import reads
from gateway.store import tables as t
from tests.conftest import REPO_ROOT
from tests.test_twilio_signature import count_rows

DATA = REPO_ROOT / "tests" / "data" / "calls"
WINDOWS_1250 = DATA / "call-log-windows-1250.csv"
BROKEN = DATA / "call-log-broken-rows.csv"
EXAMPLE = REPO_ROOT / "docs" / "calls-example.csv"


async def test_a_windows_1250_call_log_is_read_with_its_polish_letters(deps: PipelineDeps) -> None:
    assert b"\xb3" in WINDOWS_1250.read_bytes()  # "ł" in Windows-1250: not valid UTF-8
    summary = await import_calls(WINDOWS_1250, lambda raw: submit(raw, deps))
    assert (summary.created, summary.duplicate, summary.failures) == (3, 0, [])
    async with deps.store.reading() as conn:
        first = await reads.request_by_reference(conn, "HZ-2026-000001")
        second = await reads.request_by_reference(conn, "HZ-2026-000002")
    assert first is not None and second is not None
    assert first.data["reporter"]["company"] == "Zakład Energetyczny Łódź S.A."
    assert first.data["serial_numbers"] == ["2214G-00417"]
    assert first.data["contract_numbers"] == ["40027719"]
    assert first.data["missing"] == []
    # No offset in the file: Warsaw local time (CET in November), and the moment the request was received.
    assert first.data["received_at"].startswith("2026-11-24T07:02:11")
    assert second.data["escalation"] is True
    assert second.data["reporter"]["name"] == "Grażyna Żółkiewska"


async def test_a_broken_row_is_reported_by_line_and_the_rest_import(deps: PipelineDeps) -> None:
    summary = await import_calls(BROKEN, lambda raw: submit(raw, deps))
    assert summary.created == 2
    lines = [line for line, _ in summary.failures]
    assert lines == [4, 5]  # the first row spans lines 2-3 (a quoted note on two lines)
    assert "expected 11 fields" in summary.failures[0][1]
    assert "started_at" in summary.failures[1][1]
    assert str(summary) == "4 rows: created 2, duplicate 0, follow-up 0, failed 2"
    async with deps.store.reading() as conn:
        first = await reads.request_by_reference(conn, "HZ-2026-000001")
    assert first is not None
    assert first.data["description"] == "Zasilacz nie działa.\nDioda PSU świeci na czerwono."


async def test_importing_the_same_file_again_creates_nothing(deps: PipelineDeps) -> None:
    await import_calls(WINDOWS_1250, lambda raw: submit(raw, deps))
    rows_before = await count_rows(deps, t.raw_inputs)
    again = await import_calls(WINDOWS_1250, lambda raw: submit(raw, deps))
    assert (again.created, again.duplicate, again.failures) == (0, 3, [])
    assert await count_rows(deps, t.raw_inputs) == rows_before
    assert await count_rows(deps, t.requests) == 3


async def test_each_row_keeps_its_source_and_line(deps: PipelineDeps) -> None:
    seen: list[RawIntake] = []

    async def keep(raw: RawIntake) -> Outcome:
        seen.append(raw)
        return await submit(raw, deps)

    await import_calls(BROKEN, keep)
    assert [dict(raw.envelope) for raw in seen] == [
        {"door": "calls-import", "file": BROKEN.name, "line": 2},
        {"door": "calls-import", "file": BROKEN.name, "line": 6},
    ]
    assert all(raw.channel == "phone" for raw in seen)


async def test_created_requests_are_handed_on_and_progress_is_counted(deps: PipelineDeps) -> None:
    created: list[str] = []

    async def on_created(outcome: Created) -> None:
        created.append(outcome.reference)

    progress = io.StringIO()
    summary = await import_calls(EXAMPLE, lambda raw: submit(raw, deps), on_created=on_created, progress=progress)
    assert summary.created == 2
    assert created == ["HZ-2026-000001", "HZ-2026-000002"]
    assert progress.getvalue() == "\rimporting calls-example.csv: 1/2\rimporting calls-example.csv: 2/2\n"


def test_utf8_with_a_bom_and_windows_1250_are_told_apart() -> None:
    assert decode_call_log("\ufeffcall_id;notes\nc-1;Łódź".encode()) == "call_id;notes\nc-1;Łódź"
    assert decode_call_log("call_id;notes\nc-1;Łódź".encode("cp1250")) == "call_id;notes\nc-1;Łódź"


async def test_a_file_without_the_required_columns_is_refused(tmp_path: Path, deps: PipelineDeps) -> None:
    path = tmp_path / "export.csv"
    path.write_text("id;caller;notes\n1;601234567;awaria\n", encoding="utf-8")
    with pytest.raises(CallLogError, match="call_id, started_at"):
        await import_calls(path, lambda raw: submit(raw, deps))
    with pytest.raises(CallLogError, match="cannot read"):
        await import_calls(tmp_path / "absent.csv", lambda raw: submit(raw, deps))


def test_the_command_is_registered_as_calls_import() -> None:
    parser = argparse.ArgumentParser()
    register_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["calls", "import", "log.csv"])
    assert args.file == Path("log.csv")
    assert callable(args.run)


async def test_the_command_prints_failures_by_line_and_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configured = Settings.model_validate(
        {
            "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"},
            "storage": {"dir": str(tmp_path / "data")},
        }
    )
    status = await run_calls_import(argparse.Namespace(file=BROKEN), configured)
    out, err = capsys.readouterr()
    assert status == 1
    assert out == "4 rows: created 2, duplicate 0, follow-up 0, failed 2\n"
    assert f"{BROKEN}:4: expected 11 fields" in err
    assert f"{BROKEN}:5: started_at" in err
    assert await run_calls_import(argparse.Namespace(file=EXAMPLE), configured) == 0
