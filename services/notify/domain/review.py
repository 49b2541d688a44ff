"""An alert's review lifecycle and escalation timing (pure).

status: open -> acknowledged -> decided. A decision may also close an alert nobody acknowledged
(the board met first). Escalation applies to urgent alerts still open: level n is due
n * escalation_after_s after the alert was raised, and there is one level per escalation contact.
"""

from datetime import datetime, timedelta

OPEN, ACKNOWLEDGED, DECIDED = "open", "acknowledged", "decided"
REVIEW_STATUSES = (OPEN, ACKNOWLEDGED, DECIDED)


def can_acknowledge(status: str) -> bool:
    """Only an open alert can be acknowledged (acknowledging twice is answered, not repeated)."""
    return status == OPEN


def can_decide(status: str) -> bool:
    """A decision closes an open or acknowledged alert; a decided one stays as decided."""
    return status in (OPEN, ACKNOWLEDGED)


def first_escalation_due(priority: str, raised_at: datetime, after_s: float) -> datetime | None:
    """When an alert first escalates if nobody acknowledges it; None for non-urgent alerts."""
    if priority != "urgent":
        return None
    return raised_at + timedelta(seconds=after_s)


def next_escalation_due(level_done: int, contacts: int, now: datetime, after_s: float) -> datetime | None:
    """After escalating to level `level_done`, when the next level is due; None when no contact is left."""
    if level_done >= contacts:
        return None
    return now + timedelta(seconds=after_s)
