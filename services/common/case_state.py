"""Case states and the rule that a case's state never goes backwards (pure).

A case moves through the stages of each result it receives. Each transition carries an order
key "<published_at of the result>|<stage rank>|<result key>": a transition is applied only if its key
sorts after the case's current key, so a late or redelivered event for an older result or an earlier
stage can never move the case back, while a newer result (a new plasma draw, an amended
report) starts a new cycle. The key names its stage and result, so the state can always be
recovered from the highest key alone (`stage_of`).
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
    # a result whose QC failed and that no rule alerts on: annotation's last stage, like report_ready; appended so
    # the ranks in stored order keys keep their meaning
    "non_informative",
)
RANK = {stage: rank for rank, stage in enumerate(STAGES)}


def order_key(published_at: datetime, stage: str, result_key: str) -> str:
    """The sortable key of a transition to `stage` for result `result_key`, published at `published_at`."""
    if stage not in RANK:
        raise ValueError(f"unknown case stage {stage!r}")
    stamp = published_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{stamp}|{RANK[stage]:02d}|{result_key}"


def stage_of(key: str) -> tuple[str, str]:
    """(stage, result key) of the transition with order key `key`."""
    _, rank, result_key = key.split("|", 2)
    return STAGES[int(rank)], result_key


def timeline_key(result_key: str, stage: str) -> str:
    """What makes a timeline entry unique: one per (result, stage)."""
    return f"{result_key}|{stage}"


def timeline_entry(result_key: str, stage: str, at: datetime, detail: str) -> dict[str, object]:
    """One entry of a case's timeline."""
    return {"stage": stage, "result_key": result_key, "at": at, "detail": detail}
