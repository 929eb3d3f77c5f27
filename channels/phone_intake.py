"""How the events of one phone call reach the pipeline: the first one opens the request, the rest follow it up.

Twilio talks to us several times per call (the call, the menu choice, the recording, the transcription), each
time with the same CallSid. The pipeline stores one input per (channel, external id), so:
  - the first event is submitted as a call record with call_id = CallSid: it creates the request, and a Twilio
    retry of it is a Duplicate;
  - every later event is submitted as a call record with call_id = "<CallSid>:<event>" and follow_up_of = the
    reference stored for the CallSid, so it becomes a message of the same request (a retry: Duplicate), and an
    escalation choice escalates that request the way any escalating follow-up does.
If the first event was never stored (the database was down while the caller was being answered), the later event
opens the request itself, so no call is lost.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from channels.call_lookup import link_likely_follow_up, reference_of_input
from gateway.errors import StoreError
from gateway.intake import Duplicate, Outcome, RawIntake
from gateway.pipeline import submit
from gateway.steps import PipelineDeps


def call_intake(record: Mapping[str, Any], *, received_at: datetime, envelope: Mapping[str, Any]) -> RawIntake:
    """A call record as the pipeline takes it: the JSON object, verbatim, as the raw content."""
    content = json.dumps(record, ensure_ascii=False).encode("utf-8")
    return RawIntake(channel="phone", content=content, received_at=received_at, envelope=dict(envelope))


async def submit_call_event(
    deps: PipelineDeps,
    *,
    call_sid: str,
    event: str | None,
    record: Mapping[str, Any],
    received_at: datetime,
    envelope: Mapping[str, Any],
) -> Outcome:
    """Store one event of a call; `event` is None for the call itself, else a name unique within the call."""
    if event is not None:
        try:
            async with deps.store.reading() as conn:
                reference = await reference_of_input(conn, "phone", call_sid)
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"cannot look up call {call_sid}: {exc}") from exc
        if reference is not None:
            return await _follow_up(deps, call_sid, event, reference, record, received_at, envelope)
    opening = call_intake({**record, "call_id": call_sid}, received_at=received_at, envelope=envelope)
    outcome = await submit(opening, deps)
    await link_likely_follow_up(deps.store, outcome, deps.clock)
    if event is not None and isinstance(outcome, Duplicate):
        # Stored meanwhile by the call's own first webhook: this event still belongs to it as a follow-up.
        return await _follow_up(deps, call_sid, event, outcome.reference, record, received_at, envelope)
    return outcome


async def _follow_up(
    deps: PipelineDeps,
    call_sid: str,
    event: str,
    reference: str,
    record: Mapping[str, Any],
    received_at: datetime,
    envelope: Mapping[str, Any],
) -> Outcome:
    # follow_up_of is read by parsers.forms.parse_phone like the HZ tag of an SMS body.
    payload = {**record, "call_id": f"{call_sid}:{event}", "follow_up_of": reference}
    return await submit(call_intake(payload, received_at=received_at, envelope=envelope), deps)
