"""`submit(raw)`: the one entry point of every door. The order of the steps is read top to bottom below.

Before the commit, any failure of parsing quarantines the raw input (replayable); a store failure raises
StoreError so the door can ask the sender to retry. After the commit, nothing here can fail the intake: sending
is the outbox dispatcher's job.

The pure steps of a large input run in a worker thread: a 13 MB text mail takes two seconds to parse, and on the
event loop every other session, request and acknowledgement would wait for it. A small input is prepared on the
loop, where it costs less than the hand-over to a thread would.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from gateway import steps
from gateway.errors import StoreError
from gateway.intake import Outcome, Quarantined, RawIntake
from gateway.logs import get_logger
from gateway.steps import Intake, PipelineDeps
from gateway.store import WriteTx

# Pure steps, before any database work.
PREPARE: tuple[Callable[[Intake, PipelineDeps], Intake | Outcome], ...] = (
    steps.parse_input,
    steps.derive_external_key,
    steps.compute_response_due,
    steps.keep_attachment_bytes,
)

PREPARE_IN_THREAD_FROM_BYTES = 64 * 1024
"""Inputs this large or larger are prepared in a worker thread (see the module docstring)."""

# Steps inside the one intake transaction, in order; the last one writes.
IN_TRANSACTION: tuple[Callable[[Intake, PipelineDeps, WriteTx], Awaitable[Intake | Outcome]], ...] = (
    steps.find_duplicate,
    steps.link_follow_up,
    steps.check_entitlement,
    steps.plan_outbox,
    steps.persist,
)

log = get_logger("gateway.intake")

# A concurrent writer may store the same input between our lookup and our insert; a second pass then finds it.
_ATTEMPTS = 2


async def submit(raw: RawIntake, deps: PipelineDeps) -> Outcome:
    with structlog.contextvars.bound_contextvars(channel=raw.channel):
        return await _submit(raw, deps)


def _prepare(raw: RawIntake, deps: PipelineDeps) -> Intake | Outcome:
    prepared = Intake(raw=raw)
    for prepare in PREPARE:
        result = prepare(prepared, deps)
        if not isinstance(result, Intake):
            return result
        prepared = result
    return prepared


async def _submit(raw: RawIntake, deps: PipelineDeps) -> Outcome:
    if len(raw.content) < PREPARE_IN_THREAD_FROM_BYTES:
        prepared = _prepare(raw, deps)
    else:
        prepared = await asyncio.to_thread(_prepare, raw, deps)  # the thread sees the bound log context too
    if not isinstance(prepared, Intake):
        return await _finish(prepared, raw, deps, external_id=None)
    structlog.contextvars.bind_contextvars(external_id=prepared.external_key)
    for attempt in range(_ATTEMPTS):
        try:
            outcome = await _in_transaction(prepared, deps)
        except IntegrityError:
            if attempt + 1 == _ATTEMPTS:
                raise StoreError("conflicting concurrent writes did not settle") from None
            continue
        except (SQLAlchemyError, OSError) as exc:
            log.warning("intake not stored", error=str(exc))
            raise StoreError(f"intake not stored: {exc}") from exc
        break
    return await _finish(outcome, raw, deps, external_id=prepared.external_key)


async def _in_transaction(intake: Intake, deps: PipelineDeps) -> Outcome:
    async def steps_in_order(tx: WriteTx) -> Outcome:
        current = intake
        for step in IN_TRANSACTION:
            result = await step(current, deps, tx)
            if not isinstance(result, Intake):
                return result
            current = result
        raise AssertionError("persist always returns an outcome")

    return await deps.store.run_in_transaction(steps_in_order)


async def _finish(outcome: Outcome, raw: RawIntake, deps: PipelineDeps, *, external_id: str | None) -> Outcome:
    if isinstance(outcome, Quarantined) and outcome.quarantine_id == 0:
        outcome = dataclasses.replace(outcome, quarantine_id=await steps.quarantine(raw, outcome.error, deps))
    reference = getattr(outcome, "reference", None)
    log.info(
        "intake",
        outcome=type(outcome).__name__.lower(),
        reference=reference,
        external_id=external_id,
        error=getattr(outcome, "error", None),
    )
    deps.observe(raw, outcome)
    return outcome
