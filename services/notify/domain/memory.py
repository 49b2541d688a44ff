"""Interpretation memory (pure): for a finding, how often the network saw the same gene and alteration in the
same tumour type before, and what boards recommended then. Another team's cases count only anonymously: its
decisions show as outcome counts, never their case, text or team; the team's own latest decisions in full."""

from collections import Counter
from typing import Any

LATEST = 3


def finding_memory(gene: str, alteration: str, case_id: str, team_id: str, alerts: list[dict[str, Any]],
                   decisions: list[dict[str, Any]]) -> dict[str, Any]:
    """What the network remembers of `gene` `alteration` in the tumour type the alerts were read for."""
    seen = {a["_id"]: a for a in alerts if a.get("case_id") != case_id and any(
        f.get("gene") == gene and f.get("alteration") == alteration for f in a.get("findings") or [])}
    cases = {a["case_id"] for a in seen.values()}
    decided = [d for d in decisions if d.get("alert_id") in seen]
    own = sorted((d for d in decided if d.get("team_id") == team_id), key=lambda d: str(d.get("decided_at")),
                 reverse=True)
    return {
        "cases": len(cases),
        "decided_cases": len({d["case_id"] for d in decided}),
        "outcomes": dict(Counter(d["outcome"] for d in decided).most_common()),
        "latest_own": [{k: d.get(k) for k in ("case_id", "outcome", "recommendation", "decided_at")}
                       for d in own[:LATEST]],
    }
