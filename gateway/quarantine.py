"""Replaying a quarantined input once the parser (or the input) has been fixed."""

from __future__ import annotations

from gateway.errors import NotFound
from gateway.intake import Created, Duplicate, FollowUp, Quarantined, RawIntake
from gateway.pipeline import submit
from gateway.steps import PipelineDeps
from gateway.store import reads
from gateway.store.reads import utc
from parsers import ParseError, parse_bytes


async def retry(deps: PipelineDeps, quarantine_id: int) -> str:
    """Parse and store a held input again; it stays held (and this says why) while it still cannot be parsed."""
    async with deps.store.reading() as conn:
        item = await reads.quarantine_item(conn, quarantine_id)
    if item is None or item["status"] != "held":
        raise NotFound(f"no held quarantine item {quarantine_id}")
    received_at = utc(item["received_at"])
    assert received_at is not None
    raw = RawIntake(
        channel=item["channel"],
        content=item["content"],
        received_at=received_at,
        mailbox=item["mailbox"],
        envelope=item["envelope"],
    )
    try:
        parse_bytes(raw.content, channel=raw.channel, mailbox=raw.mailbox, received_at=received_at)
    except ParseError as exc:
        return f"still cannot be parsed: {exc}"
    outcome = await submit(raw, deps)
    match outcome:
        case Created(reference=ref) | Duplicate(reference=ref) | FollowUp(reference=ref):
            async with deps.store.transaction() as tx:
                await tx.release_quarantine(quarantine_id, reference=ref, at=deps.clock())
            return f"stored as {ref}"
        case Quarantined(error=error):
            return f"still cannot be parsed: {error}"
