"""What a new knowledge base changes in a stored interpretation (pure): the calls, old and new side by side,
and whether the triage decision changed (review needed or not, priority, reasons), which raises a new alert."""

from pydantic import BaseModel, Field

from services.annotate.domain.interpret import Interpretation


class KnowledgeChange(BaseModel):
    """The difference a knowledge-base update made to one result's interpretation."""

    old_kb: str
    new_kb: str
    calls: list[str] = Field(default_factory=list, description="'GENE alteration: old -> new' per changed call")
    decision_changed: bool
    decision: str = ""

    @property
    def summary(self) -> str:
        calls = "; ".join(self.calls) or "no call changed"
        return f"Knowledge changed under this case (kb {self.old_kb} -> {self.new_kb}): {calls}"


def _calls(interp: Interpretation) -> dict[str, str]:
    """variant key -> AMP tier label of every listed finding (signatures included)."""
    return {f.variant_key: f.amp_label for f in interp.signature_findings + interp.findings}


def _names(interp: Interpretation) -> dict[str, str]:
    return {f.variant_key: f"{f.gene} {f.alteration}" for f in interp.signature_findings + interp.findings}


def knowledge_change(old: Interpretation, new: Interpretation) -> KnowledgeChange | None:
    """None when the new interpretation says the same; else what changed."""
    before, after = _calls(old), _calls(new)
    names = {**_names(old), **_names(new)}
    calls = [f"{names[key]}: {before.get(key, 'not listed')} -> {after.get(key, 'not listed')}"
             for key in sorted(before.keys() | after.keys(), key=lambda k: names[k])
             if before.get(key) != after.get(key)]
    old_codes = sorted(r.code for r in old.triage.reasons)
    new_codes = sorted(r.code for r in new.triage.reasons)
    changed = (old.triage.needs_review != new.triage.needs_review or old.triage.priority != new.triage.priority
               or old_codes != new_codes)
    if not calls and not changed:
        return None
    decision = (f"{old.triage.status} ({old.triage.priority or '-'}) -> {new.triage.status} "
                f"({new.triage.priority or '-'})") if changed else ""
    return KnowledgeChange(old_kb=old.kb_version, new_kb=new.kb_version, calls=calls, decision_changed=changed,
                           decision=decision)
