"""Longitudinal liquid biopsy (MRD) per pseudonymous patient: variants tracked across specimens over time.

Events (codes are stable, used by triage rules):
- molecular_relapse: a variant detected in an earlier specimen, not detected in every plasma specimen since
  (at least one whose limit of detection, when reported, could have seen it), is detected again now (ctDNA
  reappearance; Tie et al., Sci Transl Med 2016 on ctDNA MRD). "Not detected" is never "negative".
- ctdna_rise: ctDNA allele fraction of a variant detected in the previous plasma specimen rises by >= rise_factor
  (default 2.0) to at least min_vaf (default 0.005), so single-read noise at the detection limit does not alert.
- emergent_resistance: a variant absent at baseline (earliest specimen) that matches a curated resistance context
  for the tumour type while the patient is on one of its therapies (knowledge/biomarkers.yaml resistance_contexts).
"""

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from services.annotate.domain.knowledge import ResistanceContext
from services.annotate.domain.protein import parse_protein, short_form
from services.common.oncotree import OncoTree


class ObservedVariant(BaseModel):
    track_key: str = Field(description="GENE:protein (or GENE:chrom:pos:ref>alt) so calls from different labs align")
    gene: str | None = None
    alteration: str
    vaf: float | None = None


class SpecimenObservation(BaseModel):
    specimen_id: str
    type: Literal["tissue", "plasma"]
    collected_on: date
    result_key: str | None = None
    variants: list[ObservedVariant] = Field(default_factory=list)
    untracked_count: int = Field(0, description="plain VUS left out of `variants` (beyond the tracking limit)")
    lod_vaf: float | None = Field(None, description="the assay's limit of detection (allele fraction), when reported")

    def find(self, key: str) -> ObservedVariant | None:
        return next((v for v in self.variants if v.track_key == key), None)


class PatientHistory(BaseModel):
    """Earlier specimens of one patient (the current result is not included)."""

    patient_pseudonym: str
    specimens: list[SpecimenObservation] = Field(default_factory=list)


class LongitudinalSettings(BaseModel):
    rise_factor: float = 2.0
    min_vaf: float = 0.005


class LongitudinalEvent(BaseModel):
    code: Literal["molecular_relapse", "ctdna_rise", "emergent_resistance"]
    track_key: str
    gene: str | None
    alteration: str
    summary: str
    vaf_before: float | None = None
    vaf_now: float | None = None
    specimen_ids: list[str] = Field(default_factory=list)
    source: str | None = None


def track_key(gene: str | None, hgvsp: str | None, fallback: str) -> str:
    """Identity of a variant across specimens: gene + 1-letter protein change, else gene + genomic key."""
    protein = short_form(hgvsp)
    return f"{gene}:{protein}" if gene and protein else f"{gene or '?'}:{fallback}"


def _relapse(obs: ObservedVariant, prior: list[SpecimenObservation], current: SpecimenObservation) -> LongitudinalEvent | None:
    detected = [s for s in prior if s.find(obs.track_key)]
    if not detected or current.type != "plasma":
        return None
    last = max(detected, key=lambda s: s.collected_on)
    found = last.find(obs.track_key)
    assert found is not None  # `detected` holds only the specimens that found it
    before = found.vaf
    # a specimen "not detected" in counts only if it could have seen the variant: its limit of detection (when
    # reported) at or below the allele fraction the variant had when last detected
    since = [s for s in prior if s.collected_on > last.collected_on and s.type == "plasma"
             and (s.lod_vaf is None or before is None or s.lod_vaf <= before)]
    if not since:
        return None
    limits = sorted({s.lod_vaf for s in since if s.lod_vaf is not None})
    lod = f" (limit of detection {', '.join(f'{100 * x:g}%' for x in limits)})" if limits else ""
    return LongitudinalEvent(
        code="molecular_relapse", track_key=obs.track_key, gene=obs.gene, alteration=obs.alteration, vaf_now=obs.vaf,
        vaf_before=before,
        summary=(f"{obs.gene} {obs.alteration} detected again (VAF {obs.vaf:.3f}) after being not detected{lod} in "
                 f"{len(since)} plasma specimen(s) since {last.collected_on.isoformat()}: possible molecular relapse"),
        specimen_ids=[last.specimen_id, *(s.specimen_id for s in since), current.specimen_id],
    )


def _rise(obs: ObservedVariant, prior: list[SpecimenObservation], current: SpecimenObservation,
          settings: LongitudinalSettings) -> LongitudinalEvent | None:
    plasma = [s for s in prior if s.type == "plasma"]
    if current.type != "plasma" or not plasma or obs.vaf is None:
        return None
    previous = max(plasma, key=lambda s: s.collected_on)
    before = previous.find(obs.track_key)
    if before is None or not before.vaf or obs.vaf < settings.min_vaf or obs.vaf < settings.rise_factor * before.vaf:
        return None
    return LongitudinalEvent(
        code="ctdna_rise", track_key=obs.track_key, gene=obs.gene, alteration=obs.alteration,
        vaf_before=before.vaf, vaf_now=obs.vaf, specimen_ids=[previous.specimen_id, current.specimen_id],
        summary=(f"{obs.gene} {obs.alteration} ctDNA VAF rose {obs.vaf / before.vaf:.1f}-fold "
                 f"({before.vaf:.3f} -> {obs.vaf:.3f}; threshold x{settings.rise_factor:g})"),
    )


def context_matches(context: ResistanceContext, obs: ObservedVariant) -> bool:
    """Does an observed variant fall within a resistance context's gene and protein/codon list?"""
    if obs.gene != context.gene:
        return False
    protein = obs.track_key.split(":", 1)[1]
    if protein in context.match.proteins:
        return True
    change = parse_protein(protein)
    return bool(change and change.kind == "missense" and change.start in context.match.codons)


def _on_therapy(context: ResistanceContext, therapies: list[str]) -> bool:
    taking = " ".join(therapies).lower()
    return any(drug.lower() in taking for drug in context.therapies)


def _resistance(obs: ObservedVariant, baseline: SpecimenObservation, contexts: list[ResistanceContext], tumour: str,
                therapies: list[str], oncotree: OncoTree, current: SpecimenObservation) -> LongitudinalEvent | None:
    if baseline.find(obs.track_key):
        return None
    for ctx in contexts:
        in_tumour = any(oncotree.is_same_or_descendant(tumour, t) for t in ctx.tumor_types)
        if in_tumour and _on_therapy(ctx, therapies) and context_matches(ctx, obs):
            return LongitudinalEvent(
                code="emergent_resistance", track_key=obs.track_key, gene=obs.gene, alteration=obs.alteration,
                vaf_now=obs.vaf, specimen_ids=[baseline.specimen_id, current.specimen_id], source=ctx.source,
                summary=f"new {ctx.summary} (absent at baseline {baseline.collected_on.isoformat()}): emergent resistance",
            )
    return None


def detect(history: PatientHistory | None, current: SpecimenObservation, tumour: str, therapies: list[str],
           contexts: list[ResistanceContext], oncotree: OncoTree,
           settings: LongitudinalSettings | None = None) -> list[LongitudinalEvent]:
    """Relapse, ctDNA rise and emergent-resistance events of the current specimen against the patient's history."""
    settings = settings or LongitudinalSettings()
    prior = sorted((s for s in (history.specimens if history else []) if s.specimen_id != current.specimen_id
                    and s.collected_on <= current.collected_on), key=lambda s: s.collected_on)
    if not prior:
        return []
    events: list[LongitudinalEvent] = []
    for obs in current.variants:
        for event in (_relapse(obs, prior, current), _rise(obs, prior, current, settings),
                      _resistance(obs, prior[0], contexts, tumour, therapies, oncotree, current)):
            if event:
                events.append(event)
    return events
