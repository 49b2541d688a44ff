"""Amended results: compare the interpretation of result_version n-1 with version n.

Clinically meaningful changes: a Tier I/II finding added or removed, its AMP tier/level changed, a possible-germline
flag added or removed, TMB-high or MSI-H status changed, a new longitudinal event. VAF-only or depth-only changes,
Tier III/IV churn and re-wording are not meaningful, so they raise no new alert.
"""

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from services.annotate.domain.interpret import Interpretation


class ClinicalSnapshot(BaseModel):
    """The calls of one interpretation that decide whether an amendment matters."""

    actionable: dict[str, str] = Field(default_factory=dict, description="'GENE alteration' -> AMP label, Tier I/II only")
    germline: list[str] = Field(default_factory=list)
    tmb_high: bool = False
    msi_high: bool = False
    events: list[str] = Field(default_factory=list)


class AmendmentDiff(BaseModel):
    previous_version: int | None
    meaningful: bool
    changes: list[str]


def snapshot(interp: "Interpretation") -> ClinicalSnapshot:
    return ClinicalSnapshot(
        actionable={f"{f.gene} {f.alteration}": f.amp_label for f in interp.findings + interp.signature_findings
                    if f.amp_tier in {"I", "II"}},
        germline=sorted(f"{g.gene} {g.alteration}" for g in interp.germline_flags),
        tmb_high=bool(interp.tmb and interp.tmb.tmb_high), msi_high=interp.msi_high,
        events=sorted(f"{e.code} {e.track_key}" for e in interp.longitudinal_events),
    )


def compare(previous: ClinicalSnapshot, current: ClinicalSnapshot, previous_version: int | None = None) -> AmendmentDiff:
    """List the clinically meaningful differences; meaningful is True when there is at least one."""
    changes = []
    for name in sorted(current.actionable.keys() - previous.actionable.keys()):
        changes.append(f"added {name} ({current.actionable[name]})")
    for name in sorted(previous.actionable.keys() - current.actionable.keys()):
        changes.append(f"removed {name} (was {previous.actionable[name]})")
    for name in sorted(current.actionable.keys() & previous.actionable.keys()):
        if current.actionable[name] != previous.actionable[name]:
            changes.append(f"{name}: {previous.actionable[name]} -> {current.actionable[name]}")
    for label, before, after in (("possible germline", previous.germline, current.germline),
                                 ("longitudinal event", previous.events, current.events)):
        changes += [f"{label} added: {x}" for x in after if x not in before]
        changes += [f"{label} removed: {x}" for x in before if x not in after]
    if previous.tmb_high != current.tmb_high:
        changes.append(f"TMB-high {'now' if current.tmb_high else 'no longer'} met")
    if previous.msi_high != current.msi_high:
        changes.append(f"MSI-H {'now' if current.msi_high else 'no longer'} reported")
    return AmendmentDiff(previous_version=previous_version, meaningful=bool(changes), changes=changes)
