"""A case as its MTB sees it: findings, tiers, evidence, history and turnaround (pure)."""

from datetime import datetime
from typing import Any

from services.notify.domain.fhir import latest_findings

TURNAROUND = (("received", "alerted"), ("alerted", "delivered"), ("alerted", "acknowledged"),
              ("alerted", "decided"), ("received", "decided"))


def turnaround(timeline: list[dict[str, Any]]) -> dict[str, float]:
    """Seconds between the first occurrences of timeline steps, e.g. {'alerted_to_acknowledged_s': 812.4}."""
    first: dict[str, datetime] = {}
    for step in sorted(timeline, key=lambda s: s["at"]):
        first.setdefault(step["stage"], step["at"])
    return {f"{a}_to_{b}_s": round((first[b] - first[a]).total_seconds(), 3)
            for a, b in TURNAROUND if a in first and b in first}


def case_summary(docs: dict[str, Any]) -> dict[str, Any]:
    """The case summary the clinician API returns (no patient pseudonym)."""
    case = docs.get("case") or {}
    alerts = docs.get("alerts") or []
    findings, source = latest_findings(docs)
    timeline = case.get("timeline") or []
    return {
        "case_id": case.get("_id") or (alerts[0]["case_id"] if alerts else None),
        "treating_site": case.get("treating_site") or (alerts[0]["treating_site"] if alerts else None),
        "tumor_type": case.get("tumor_type") or source.get("tumor_type"),
        "state": case.get("state"),
        "findings": findings,
        "tmb_per_mb": source.get("tmb_per_mb"),
        "msi_status": source.get("msi_status"),
        "reasons": source.get("reasons", []),
        "kb_version": source.get("kb_version"),
        "alerts": [{k: a.get(k) for k in ("_id", "priority", "status", "delivery_status", "raised_at", "acknowledged_at",
                                          "acknowledged_by", "acknowledged_note", "decided_at", "escalation_level",
                                          "result_key", "reasons")}
                   for a in alerts],
        "decisions": [{k: v for k, v in d.items() if k != "_id"} for d in docs.get("decisions") or []],
        "timeline": [{k: s.get(k) for k in ("stage", "result_key", "at", "detail")} for s in timeline],
        "history": [{k: a.get(k) for k in ("at", "actor", "action", "alert_id")} for a in docs.get("audit") or []],
        "turnaround": turnaround(timeline),
    }
