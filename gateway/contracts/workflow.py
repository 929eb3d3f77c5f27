"""The service workflow: received → acknowledged → verified → dispatched → delivered → returned → closed,
and rejected from any open state. Which moves are allowed is a pure decision (`plan_move`); `move_state` applies
one move to a stored request and records it as an event.

Verification starts the delivery clock of the contract's level (SEED.md: "measured from the moment the validity of
the service request is accepted"); delivery starts the 7-day clock for returning the failed device.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

from sqlalchemy import select, update

from gateway.contracts.levels import ServiceLevel, ServiceLevels
from gateway.store import Store
from gateway.store import tables as t
from gateway.store.reads import utc

State = Literal["received", "acknowledged", "verified", "dispatched", "delivered", "returned", "closed", "rejected"]
STATES: tuple[State, ...] = get_args(State)
FINAL_STATES: frozenset[str] = frozenset({"closed", "rejected"})
RETURN_PERIOD = timedelta(days=7)  # SEED.md: "return the damaged device within 7 days"

# Forward moves; `rejected` is allowed from every state not in FINAL_STATES.
_NEXT: dict[str, frozenset[str]] = {
    "received": frozenset({"acknowledged", "verified"}),
    "acknowledged": frozenset({"verified"}),
    "verified": frozenset({"dispatched", "closed"}),  # closed: solved without replacement hardware
    "dispatched": frozenset({"delivered"}),
    "delivered": frozenset({"returned"}),
    "returned": frozenset({"closed"}),
}


def next_states(current: str) -> list[str]:
    """The states a request in `current` may move to, in workflow order (what the desk offers)."""
    allowed = set(_NEXT.get(current, frozenset()))
    if current not in FINAL_STATES:
        allowed.add("rejected")
    return [state for state in STATES if state in allowed]


@dataclass(frozen=True)
class Clocks:
    """What a move needs to know about the request now."""

    status: str
    service_level: str | None
    verified_at: datetime | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class Move:
    """An allowed move: the request columns to set (beside status and updated_at)."""

    from_state: str
    to_state: State
    changes: dict[str, datetime | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Refusal:
    reason: str


def _refusal_for_order(current: str, to_state: str) -> str:
    if to_state == current:
        return f"the request is already {current}"
    if current in FINAL_STATES:
        return f"the request is {current}; nothing follows"
    if to_state in ("dispatched", "delivered", "returned") and current in ("received", "acknowledged"):
        return f"cannot be {to_state} before it is verified"
    if to_state == "closed" and current in ("dispatched", "delivered"):
        return "cannot be closed before the failed device is returned"
    allowed = sorted(_NEXT.get(current, frozenset()) | {"rejected"})
    return f"cannot move from {current} to {to_state}; allowed: {', '.join(allowed)}"


def _utc(moment: datetime | None) -> datetime | None:
    # SQLite keeps the wall time of an aware datetime and drops its offset: only UTC may reach the database.
    return moment.astimezone(UTC) if moment is not None else None


def plan_move(clocks: Clocks, to_state: str, *, now: datetime, level: ServiceLevel | None) -> Move | Refusal:
    """Whether `to_state` may follow the request's status, and which clocks the move starts (in UTC)."""
    now = now.astimezone(UTC)
    if to_state not in STATES:
        return Refusal(f"unknown state {to_state!r}; states: {', '.join(STATES)}")
    current = clocks.status
    allowed = to_state == "rejected" and current not in FINAL_STATES
    if not allowed and to_state not in _NEXT.get(current, frozenset()):
        return Refusal(_refusal_for_order(current, to_state))
    state: State = to_state  # narrowed by the check against STATES above
    if state == "verified":
        # The delivery clock of the level; a level without hardware (TAC_OS) or an unknown one has none.
        delivery_due = level.delivery_due(now) if level else None
        return Move(current, state, {"verified_at": now, "delivery_due": _utc(delivery_due)})
    if state == "dispatched" and level is not None and not level.replacement:
        return Refusal(f"level {level.code} includes no replacement equipment to dispatch")
    if state == "delivered":
        return Move(current, state, {"delivered_at": now, "return_due": now + RETURN_PERIOD})
    return Move(current, state)


@dataclass(frozen=True)
class MoveResult:
    outcome: Literal["moved", "refused", "not_found"]
    reference: str
    from_state: str | None = None
    to_state: str | None = None
    reason: str = ""
    clocks: dict[str, datetime | None] = field(default_factory=dict)  # the clocks this move set

    def as_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "outcome": self.outcome,
            "from": self.from_state,
            "to": self.to_state,
            "reason": self.reason or None,
            **{name: value.isoformat() if value else None for name, value in self.clocks.items()},
        }


async def move_state(
    store: Store, reference: str, to_state: str, *, actor: str, note: str, now: datetime, levels: ServiceLevels
) -> MoveResult:
    """Apply one move to a stored request: update its row and record an event (actor, at, from, to, note)."""
    r = t.requests.c
    now = now.astimezone(UTC)
    async with store.transaction() as tx:
        query = select(r.id, r.status, r.service_level, r.verified_at, r.delivered_at).where(r.reference == reference)
        if store.backend == "postgresql":
            query = query.with_for_update()
        row = (await tx.conn.execute(query)).first()
        if row is None:
            return MoveResult("not_found", reference, reason=f"no request {reference}")
        clocks = Clocks(row.status, row.service_level, utc(row.verified_at), utc(row.delivered_at))
        planned = plan_move(clocks, to_state, now=now, level=levels.find(row.service_level))
        if isinstance(planned, Refusal):
            return MoveResult("refused", reference, row.status, to_state, planned.reason)
        # Conditional on the status we read: SQLite has no row lock, and a second writer must not skip a state.
        changed = await tx.conn.execute(
            update(t.requests)
            .where(r.id == row.id, r.status == row.status)
            .values({"status": planned.to_state, "updated_at": now, **planned.changes})
        )
        if not changed.rowcount:
            return MoveResult("refused", reference, row.status, to_state, "the request changed meanwhile; try again")
        detail: dict[str, Any] = {"from": planned.from_state, "to": planned.to_state, "note": note}
        detail.update({name: value.isoformat() if value else None for name, value in planned.changes.items()})
        await tx.insert_event(request_id=row.id, at=now, actor=actor, kind="state", detail=detail)
    return MoveResult("moved", reference, planned.from_state, planned.to_state, clocks=planned.changes)
