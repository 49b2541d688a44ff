"""Case states and the rule that a case's state never goes backwards (pure).

A case moves through the stages of each result it receives. Each transition carries an order
key "<published_at of the result>|<stage rank>": a transition is applied only if its key sorts
after the case's current key, so a late or redelivered event for an older result or an earlier
stage can never move the case back, while a newer result (a new plasma draw, an amended
report) starts a new cycle.
"""

from datetime import UTC, datetime

STAGES: tuple[str, ...] = (
    "received",
    "ingested",
    "annotated",
    "report_ready",
    "review_required",
    "alerted",
    "acknowledged",
    "decided",
)
RANK = {stage: rank for rank, stage in enumerate(STAGES)}


def order_key(published_at: datetime, stage: str) -> str:
    """The sortable key of a transition to `stage` for a result published at `published_at`."""
    if stage not in RANK:
        raise ValueError(f"unknown case stage {stage!r}")
    stamp = published_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{stamp}|{RANK[stage]:02d}"
