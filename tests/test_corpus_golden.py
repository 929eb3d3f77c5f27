"""The golden corpus: every case under tests/corpus parsed and compared with its line in expected.jsonl.

Cases are named after the problem they show; the `note` on each line says the catch. Identifiers are compared as
sets (order is not part of the expectation), reporter_phone only where the line has one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.schema import Channel, Mailbox
from parsers import parse_bytes

CORPUS = Path(__file__).parent / "corpus"
_CHANNEL_OF_FOLDER: dict[str, tuple[Channel, Mailbox | None]] = {
    "email/pomoc": ("email", "pomoc"),
    "email/escalation": ("email", "escalation"),
    "portal": ("portal", None),
    "phone": ("phone", None),
    "sms": ("sms", None),
}
RECEIVED_AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _cases() -> list[dict[str, Any]]:
    lines = (CORPUS / "expected.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize("expected", _cases(), ids=lambda case: str(case["case"]))
def test_case_parses_to_expected_values(expected: dict[str, Any]) -> None:
    channel, mailbox = _CHANNEL_OF_FOLDER[expected["case"].rsplit("/", 1)[0]]
    raw = (CORPUS / expected["case"]).read_bytes()

    request = parse_bytes(raw, channel=channel, mailbox=mailbox, received_at=RECEIVED_AT).request

    assert set(request.serial_numbers) == set(expected["serial_numbers"]), expected["note"]
    assert set(request.contract_numbers) == set(expected["contract_numbers"]), expected["note"]
    assert request.escalation is expected["escalation"], expected["note"]
    assert request.language == expected["language"], expected["note"]
    assert request.auto_submitted is expected["auto_submitted"], expected["note"]
    assert request.follow_up_of == expected["follow_up_of"], expected["note"]
    if "reporter_phone" in expected:
        assert request.reporter.phone == expected["reporter_phone"], expected["note"]


def test_every_case_file_has_an_expected_line() -> None:
    listed = {case["case"] for case in _cases()}
    on_disk = {str(path.relative_to(CORPUS)) for path in CORPUS.rglob("*") if path.suffix in (".eml", ".json")}
    assert on_disk == listed
