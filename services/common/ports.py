"""The ports every service shares: publishing an event, the clock, and the case record (each case's state and
timeline, and the append-only audit trail), which all three services write (typing.Protocol interfaces).

Handlers depend on these; services.common.adapters holds the MongoDB implementation, tests/fakes the in-memory
one, and tests/contract runs one suite against both.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from contracts.events import Contract

Publish = Callable[[str, str, Contract], Awaitable[None]]
"""Publish a contract to a topic under a key; returns once the broker has acknowledged it."""

Clock = Callable[[], datetime]
"""The time now (timezone-aware, UTC)."""

Document = dict[str, Any]


class Effect(NamedTuple):
    """An effect to put in the audit trail once: its id (derived from the effect) and the entry's fields."""

    effect_id: str
    actor: str
    action: str
    case_id: str | None
    alert_id: str | None
    detail: dict[str, Any]


class CaseRecord(Protocol):
    """The shared case record: one document per case with a state that never goes backwards
    (services.common.case_state), its timeline, and the audit trail of who did what to which case."""

    async def open_case(self, case_id: str, fields: Document, on_insert: Document | None = None) -> Document:
        """Create the case if new, set `fields`, and `on_insert` only on creation; the case as stored after."""
        ...

    async def treating_site(self, case_id: str) -> str | None:
        """The treating site of an existing case (None: no such case)."""
        ...

    async def advance(self, case_id: str, result_key: str, published_at: datetime, steps: list[tuple[str, str]],
                      actor: str | None = None, case: Document | None = None) -> bool:
        """Move the case through `steps` ((stage, detail)) unless it is already further; each step on the timeline
        and in the audit trail once. True when this call moved the state."""
        ...

    async def add_step(self, case_id: str, result_key: str, step: str, detail: str) -> None:
        """Put a step that is not a state (delivered, escalated-1) on the timeline, once per result."""
        ...

    async def transfer(self, case_id: str, site_id: str, actor: str, note: str) -> str | None:
        """Move a case and its alerts to another treating site (audited); the site it was at, None: no case."""
        ...

    async def audit(self, actor: str, action: str, case_id: str | None, alert_id: str | None,
                    detail: dict[str, Any]) -> None:
        """Append one audit entry."""
        ...

    async def audit_once(self, effects: list[Effect]) -> None:
        """Append each effect's entry unless an earlier attempt recorded it (then it is left as it is)."""
        ...
