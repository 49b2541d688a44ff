"""AMP/ASCO/CAP 2017 tiers and ESCAT tiers per variant per tumour type.

AMP/ASCO/CAP: Li et al., J Mol Diagn 2017, PMID:27993330. Level A/B evidence in the patient's tumour type -> Tier I
(IA/IB); level A/B evidence in another tumour type, or level C -> Tier IIC; level D -> Tier IID; no evidence -> Tier III
(VUS); benign -> Tier IV. Therapeutic, prognostic and diagnostic evidence all count.
ESCAT: Mateo et al., Ann Oncol 2018, PMID:30137196. The curated tier applies in its tumour type; a target ranked
I/II in another tumour type is ESCAT III-A ("clinical benefit demonstrated in another tumour type").
Tumour types are OncoTree codes: evidence for NSCLC applies to LUAD (descendant), not the reverse.
"""

from pydantic import BaseModel, Field

from services.annotate.domain.knowledge import KbRecord
from services.annotate.domain.matching import RecordMatch
from services.common.oncotree import OncoTree

TIERED_EVIDENCE = {"predictive", "prognostic", "diagnostic"}
_BENIGN = {"benign", "likely_benign"}
_RESISTANCE = {"resistance", "reduced_sensitivity"}
ESCAT_ORDER = ["I-A", "I-B", "I-C", "II-A", "II-B", "III-A", "III-B", "IV-A", "IV-B", "V", "X"]


class EvidenceRef(BaseModel):
    """One knowledge-base record behind a call, with the level it contributes in this tumour type."""

    record_id: str
    source: str
    alteration: str
    disease: str | None
    tumor_types: list[str]
    evidence_type: str | None
    significance: str | None
    therapies: list[str]
    record_level: str | None
    applied_level: str
    same_tumour_type: bool
    matched_by: str
    citations: list[str]
    eu_status: str | None = None
    ema_authorised_on: str | None = None


class TierCall(BaseModel):
    amp_tier: str  # I, II, III, IV
    amp_level: str | None  # A-D
    escat_tier: str | None
    therapies_sensitive: list[str] = Field(default_factory=list)
    therapies_resistant: list[str] = Field(default_factory=list)
    therapies_other_tumour: list[str] = Field(default_factory=list)
    evidence: list[EvidenceRef] = Field(default_factory=list)
    citations: list[str] = Field(default_factory=list)
    discordance: str | None = None
    eu_status: str | None = None

    @property
    def amp_label(self) -> str:
        return f"{self.amp_tier}{self.amp_level or ''}" if self.amp_tier in {"I", "II"} else self.amp_tier


def applies_to(record: KbRecord, tumour: str, oncotree: OncoTree) -> bool:
    """True when the patient's tumour is the record's tumour type or a descendant, and not an excluded one."""
    if not any(oncotree.is_same_or_descendant(tumour, t) for t in record.tumor_types):
        return False
    return not any(oncotree.is_same_or_descendant(tumour, t) for t in record.tumor_types_excluded)


def _applied_level(record: KbRecord, same: bool) -> str | None:
    level = record.amp_level
    if level is None:
        return None
    if same:
        return level
    return "C" if level in {"A", "B", "C"} else "D"  # A/B elsewhere = AMP level C (Li et al. 2017, Table 3)


def _is_tiering_record(record: KbRecord) -> bool:
    if record.record_type == "variant" or record.direction == "does_not_support":
        return False
    return record.evidence_type in TIERED_EVIDENCE or record.significance in _BENIGN


def _escat(matches: list[RecordMatch], tumour: str, oncotree: OncoTree) -> str | None:
    tiers = []
    for m in matches:
        rec = m.record
        if not rec.escat_tier or rec.significance in _RESISTANCE:
            continue
        if applies_to(rec, tumour, oncotree):
            tiers.append(rec.escat_tier)
        elif rec.escat_tier.startswith(("I-", "II-")):
            tiers.append("III-A")
    return min(tiers, key=ESCAT_ORDER.index) if tiers else None


def discordance(amp_tier: str, amp_level: str | None, escat: str | None, resistance_only: bool) -> str | None:
    """A note when AMP and ESCAT disagree in a way an MTB should see."""
    if amp_tier == "I" and resistance_only:
        return "AMP Tier I rests on resistance evidence; ESCAT ranks targets for matched therapy, not resistance markers."
    if escat is None:
        return None
    escat_main = escat.split("-")[0]
    if amp_tier == "I" and escat_main not in {"I"}:
        return (f"AMP Tier I{amp_level or ''} but ESCAT {escat}: an approval or guideline supports use in this tumour "
                "type while ESCAT ranks the evidence lower (often ranked before the approval).")
    if amp_tier == "II" and escat_main == "I":
        return f"AMP Tier II{amp_level or ''} but ESCAT {escat}: ESCAT ranks this target higher than AMP evidence level."
    return None


def tier(matches: list[RecordMatch], tumour: str, oncotree: OncoTree) -> TierCall:
    """AMP tier/level, ESCAT tier, therapies and evidence for one variant in one tumour type."""
    evidence: list[EvidenceRef] = []
    for m in matches:
        rec = m.record
        if not _is_tiering_record(rec):
            continue
        same = applies_to(rec, tumour, oncotree)
        if not same and (rec.significance in _RESISTANCE or rec.lineage_specific):
            continue  # AMP level C elsewhere is a therapy that works in another tumour type, not its resistance
        level = "benign" if rec.significance in _BENIGN else _applied_level(rec, same)
        if level is None:
            continue
        evidence.append(EvidenceRef(
            record_id=rec.record_id, source=rec.source, alteration=rec.alteration, disease=rec.disease,
            tumor_types=rec.tumor_types, evidence_type=rec.evidence_type, significance=rec.significance,
            therapies=rec.therapies, record_level=rec.amp_level, applied_level=level, same_tumour_type=same,
            matched_by=m.matched_by, citations=rec.citations, eu_status=rec.eu_status,
            ema_authorised_on=next((a.date for a in rec.approvals if a.agency == "EMA"), None),
        ))
    levels = [e.applied_level for e in evidence if e.applied_level != "benign"]
    if levels:
        best = min(levels)
        amp_tier = "I" if best in {"A", "B"} else "II"
    elif evidence:
        best, amp_tier = None, "IV"
    else:
        best, amp_tier = None, "III"
    evidence.sort(key=lambda e: (e.applied_level, not e.same_tumour_type, e.source != "builtin", e.record_id))
    top = [e for e in evidence if e.applied_level == best]
    resistance_only = bool(top) and all(e.significance in _RESISTANCE for e in top)
    escat = _escat(matches, tumour, oncotree)
    return TierCall(
        amp_tier=amp_tier, amp_level=best, escat_tier=escat,
        therapies_sensitive=_therapies(evidence, same=True, resistance=False),
        therapies_resistant=_therapies(evidence, same=True, resistance=True),
        therapies_other_tumour=[t for t in _therapies(evidence, same=False, resistance=False)
                                if t not in _therapies(evidence, same=True, resistance=False)],
        evidence=evidence, citations=sorted({c for e in evidence for c in e.citations}),
        discordance=discordance(amp_tier, best, escat, resistance_only),
        eu_status=eu_context(top),
    )


EU_STATUS_LABELS = {"ema_authorised": "EMA-authorised", "fda_only": "FDA only, not EMA-authorised",
                    "guideline_only": "guideline only, no approval"}


def eu_context(top: list[EvidenceRef]) -> str | None:
    """What a European board can prescribe on the strongest evidence in the patient's tumour type: EMA-authorised
    (with the date) when any row is, else FDA only, else guideline only; None when no row says (CIViC evidence)."""
    statuses = [e for e in top if e.same_tumour_type and e.eu_status and e.significance not in _RESISTANCE]
    for status in ("ema_authorised", "fda_only", "guideline_only"):
        rows = [e for e in statuses if e.eu_status == status]
        if rows:
            dates = sorted(e.ema_authorised_on for e in rows if e.ema_authorised_on)
            return EU_STATUS_LABELS[status] + (f" (since {dates[0]})" if dates else "")
    return None


def _therapies(evidence: list[EvidenceRef], same: bool, resistance: bool) -> list[str]:
    out: list[str] = []
    for e in evidence:
        if e.same_tumour_type != same or e.evidence_type != "predictive" or e.applied_level not in {"A", "B", "C"}:
            continue
        if (e.significance in _RESISTANCE) != resistance or e.significance not in _RESISTANCE | {"sensitivity"}:
            continue
        out.extend(t for t in e.therapies if t not in out)
    return out

