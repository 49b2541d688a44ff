"""Interpretation memory: the network's earlier cases of a finding, another team's only as counts."""

from datetime import UTC, datetime

from services.notify.domain.memory import finding_memory

BRAF = [{"gene": "BRAF", "alteration": "p.V600E"}]
ALERTS = [
    {"_id": "a-now", "case_id": "C-NOW", "findings": BRAF},
    {"_id": "a-own-1", "case_id": "C-OWN-1", "findings": BRAF},
    {"_id": "a-own-2", "case_id": "C-OWN-2", "findings": BRAF + [{"gene": "TP53", "alteration": "p.R248Q"}]},
    {"_id": "a-other", "case_id": "C-OTHER", "findings": BRAF},
    {"_id": "a-egfr", "case_id": "C-EGFR", "findings": [{"gene": "EGFR", "alteration": "p.L858R"}]},
]
DECISIONS = [
    {"alert_id": "a-own-1", "case_id": "C-OWN-1", "team_id": "GENT", "outcome": "targeted_therapy",
     "recommendation": "dabrafenib + trametinib", "decided_at": datetime(2026, 10, 1, tzinfo=UTC)},
    {"alert_id": "a-own-2", "case_id": "C-OWN-2", "team_id": "GENT", "outcome": "clinical_trial",
     "recommendation": "trial NCT-X", "decided_at": datetime(2026, 11, 1, tzinfo=UTC)},
    {"alert_id": "a-other", "case_id": "C-OTHER", "team_id": "LEUVEN", "outcome": "targeted_therapy",
     "recommendation": "LEUVEN-SECRET", "decided_at": datetime(2026, 11, 15, tzinfo=UTC)},
]


def test_earlier_cases_are_counted_and_only_the_own_teams_decisions_shown():
    memory = finding_memory("BRAF", "p.V600E", "C-NOW", "GENT", ALERTS, DECISIONS)
    assert memory["cases"] == 3 and memory["decided_cases"] == 3  # not the case itself, not EGFR's
    assert memory["outcomes"] == {"targeted_therapy": 2, "clinical_trial": 1}
    assert [d["case_id"] for d in memory["latest_own"]] == ["C-OWN-2", "C-OWN-1"]  # newest first
    assert "LEUVEN" not in str(memory) and "C-OTHER" not in str(memory)


def test_a_finding_never_seen_before_counts_zero():
    memory = finding_memory("KRAS", "p.G12C", "C-NOW", "GENT", ALERTS, DECISIONS)
    assert memory == {"cases": 0, "decided_cases": 0, "outcomes": {}, "latest_own": []}
