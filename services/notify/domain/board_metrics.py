"""The board's own numbers (pure): how many cases it received and reviewed, how many got a recommendation and how
many started the recommended therapy, and the median and 90th-percentile turnaround of each stage."""

import math
from typing import Any

from services.notify.domain.followup import RECOMMENDS_THERAPY

STAGE_PAIRS = (("received", "alerted"), ("alerted", "acknowledged"), ("acknowledged", "decided"),
               ("received", "decided"))
REVIEWED = ("acknowledged", "decided")


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (0-1) by the nearest-rank method; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]


def first_times(timeline: list[dict[str, Any]]) -> dict[str, Any]:
    first: dict[str, Any] = {}
    for step in sorted(timeline, key=lambda s: s["at"]):
        first.setdefault(step["stage"], step["at"])
    return first


def board_metrics(cases: list[dict[str, Any]], decisions: list[dict[str, Any]],
                  followups: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts and per-stage turnaround (seconds) of these cases, their decisions and follow-ups."""
    durations: dict[str, list[float]] = {f"{a}_to_{b}": [] for a, b in STAGE_PAIRS}
    reviewed = 0
    for case in cases:
        first = first_times(case.get("timeline") or [])
        reviewed += any(stage in first for stage in REVIEWED)
        for a, b in STAGE_PAIRS:
            if a in first and b in first:
                durations[f"{a}_to_{b}"].append(max((first[b] - first[a]).total_seconds(), 0.0))
    recommended = {d["case_id"] for d in decisions if d.get("outcome") in RECOMMENDS_THERAPY}
    started = {f["case_id"] for f in followups if f.get("therapy_started")}
    return {
        "received": len(cases), "reviewed": reviewed, "recommended": len(recommended),
        "therapy_started": len(started & recommended),
        "stages": {stage: {"n": len(values), "p50_s": percentile(values, 0.5), "p90_s": percentile(values, 0.9)}
                   for stage, values in durations.items()},
    }
