"""Deliveries and their attempts (pure): a delivery's id, an attempt's outcome, what a team stream shows."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AttemptOutcome:
    """One attempt: delivered or not, a sentence for the team, and whether trying again is pointless."""

    ok: bool
    detail: str
    final: bool = False


def delivery_id(alert_id: str, subscription_id: str) -> str:
    """The id of an alert's delivery to one subscription (the same for every retry and redelivery)."""
    return f"{alert_id}|{subscription_id}"


def stream_summary(alert: dict[str, Any]) -> dict[str, Any]:
    """What a dashboard shows for an alert (no patient identifiers)."""
    keys = ("case_id", "result_key", "treating_site", "tumor_type", "priority", "reasons", "findings", "raised_at")
    return {"alert_id": alert["_id"], **{k: alert.get(k) for k in keys}}
