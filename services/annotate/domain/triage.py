"""MTB triage from a rule set kept as data (knowledge/triage_rules.yaml), versioned and recorded in every decision.

`decide` applies rules to the facts of one case; `replay` re-runs stored cases through a new rule set and reports
which decisions would change, before the rules go live.
"""

from collections import defaultdict
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

RULES_PATH = Path(__file__).resolve().parent.parent / "knowledge" / "triage_rules.yaml"
PRIORITY_RANK = {"urgent": 0, "routine": 1, "info": 2}


class Condition(BaseModel):
    """The fixed condition vocabulary; every given key must hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    amp_tier_in: list[str] | None = None
    germline_flag: bool | None = None
    longitudinal_event_in: list[str] | None = None
    tmb_high: bool | None = None
    msi_high: bool | None = None
    amendment_meaningful: bool | None = None
    non_informative: bool | None = None


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    code: str
    when: Condition
    priority: Literal["urgent", "routine", "info"]
    reason: str
    source: str


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str
    rules: list[Rule]

    @classmethod
    def load(cls, path: str | Path = RULES_PATH) -> "RuleSet":
        """Read and validate a rules YAML; unknown condition keys are errors."""
        return cls.model_validate(yaml.safe_load(Path(path).read_text()))


class FindingFact(BaseModel):
    gene: str
    alteration: str
    amp_tier: str
    amp_label: str


class CaseFacts(BaseModel):
    """What triage looks at, extracted from an Interpretation (storable for replay)."""

    case_id: str
    result_key: str | None = None
    findings: list[FindingFact] = Field(default_factory=list)
    germline: list[str] = Field(default_factory=list)
    events: list[dict[str, str]] = Field(default_factory=list)
    tmb_per_mb: float | None = None
    tmb_high: bool = False
    msi_high: bool = False
    amendment_meaningful: bool = False
    amendment_changes: list[str] = Field(default_factory=list)
    non_informative: bool = False
    qc_reasons: list[str] = Field(default_factory=list)


class TriageReason(BaseModel):
    rule_id: str
    code: str
    summary: str


class TriageDecision(BaseModel):
    needs_review: bool
    status: Literal["needs_review", "report_ready", "non_informative"]
    priority: Literal["urgent", "routine", "info"] | None
    reasons: list[TriageReason]
    ruleset_version: str


def holds(cond: Condition, facts: CaseFacts) -> bool:
    """All keys given in the condition hold for these facts."""
    checks = []
    if cond.amp_tier_in is not None:
        checks.append(any(f.amp_tier in cond.amp_tier_in for f in facts.findings))
    if cond.germline_flag is not None:
        checks.append(bool(facts.germline) == cond.germline_flag)
    if cond.longitudinal_event_in is not None:
        checks.append(any(e["code"] in cond.longitudinal_event_in for e in facts.events))
    if cond.tmb_high is not None:
        checks.append(facts.tmb_high == cond.tmb_high)
    if cond.msi_high is not None:
        checks.append(facts.msi_high == cond.msi_high)
    if cond.amendment_meaningful is not None:
        checks.append(facts.amendment_meaningful == cond.amendment_meaningful)
    if cond.non_informative is not None:
        checks.append(facts.non_informative == cond.non_informative)
    return bool(checks) and all(checks)


def _summary(rule: Rule, facts: CaseFacts) -> str:
    tiers = rule.when.amp_tier_in or []
    codes = rule.when.longitudinal_event_in or []
    values = defaultdict(str, {
        "findings": "; ".join(f"{f.gene} {f.alteration} ({f.amp_label})" for f in facts.findings if f.amp_tier in tiers),
        "germline": "; ".join(facts.germline),
        "events": "; ".join(e["summary"] for e in facts.events if e["code"] in codes),
        "tmb": f"{facts.tmb_per_mb:g}" if facts.tmb_per_mb is not None else "?",
        "msi": "MSI-H" if facts.msi_high else "",
        "changes": "; ".join(facts.amendment_changes),
        "qc": "; ".join(facts.qc_reasons),
    })
    return rule.reason.format_map(values)


def decide(facts: CaseFacts, rules: RuleSet) -> TriageDecision:
    """Needs-review decision with reasons and the highest priority of the matched rules. A non-informative
    result (QC failed) is never report-ready, whether or not a rule alerts on it."""
    matched = [r for r in rules.rules if holds(r.when, facts)]
    if not matched:
        return TriageDecision(needs_review=False, status="non_informative" if facts.non_informative else "report_ready",
                              priority=None, reasons=[], ruleset_version=rules.version)
    priority = min((r.priority for r in matched), key=PRIORITY_RANK.__getitem__)
    reasons = [TriageReason(rule_id=r.id, code=r.code, summary=_summary(r, facts)) for r in matched]
    return TriageDecision(needs_review=True, status="needs_review", priority=priority, reasons=reasons,
                          ruleset_version=rules.version)


class ReplayChange(BaseModel):
    case_id: str
    result_key: str | None
    before: TriageDecision
    after: TriageDecision
    change: str


def _describe(before: TriageDecision, after: TriageDecision) -> str | None:
    parts = []
    if before.needs_review != after.needs_review:
        parts.append("alert raised" if after.needs_review else "alert no longer raised")
    elif before.priority != after.priority:
        parts.append(f"priority {before.priority} -> {after.priority}")
    old, new = {r.code for r in before.reasons}, {r.code for r in after.reasons}
    if old != new:
        parts.append(f"reasons +{sorted(new - old)} -{sorted(old - new)}")
    return "; ".join(parts) or None


def replay(cases: list[CaseFacts], old_rules: RuleSet, new_rules: RuleSet) -> list[ReplayChange]:
    """Decisions that differ between two rule sets (alert raised/dropped, priority, reason codes)."""
    changes = []
    for facts in cases:
        before, after = decide(facts, old_rules), decide(facts, new_rules)
        if (description := _describe(before, after)):
            changes.append(ReplayChange(case_id=facts.case_id, result_key=facts.result_key, before=before,
                                        after=after, change=description))
    return changes
