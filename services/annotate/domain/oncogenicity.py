"""Oncogenicity of a variant: oncogenic / likely oncogenic from curated hotspots, knowledge-base records and
truncating variants in tumour suppressors; every other assessed variant is explicitly a VUS."""

from dataclasses import dataclass

from contracts.findings import LIKELY_ONCOGENIC, ONCOGENIC
from services.annotate.domain.knowledge import KnowledgeBase
from services.annotate.domain.matching import RecordMatch, VariantView

VUS = "vus"
# Knowledge-base records that speak for the variant itself (not for a gene-wide class).
_SPECIFIC = {"protein", "codon", "coordinates"}
_SUPPORTING = {"sensitivity", "resistance", "reduced_sensitivity", "poor_outcome", "better_outcome", "positive",
               "pathogenic", "likely_pathogenic", "gain_of_function", "loss_of_function", "oncogenic"}


@dataclass(frozen=True)
class Oncogenicity:
    call: str  # oncogenic | likely_oncogenic | vus
    basis: str


def classify(view: VariantView, matches: list[RecordMatch], kb: KnowledgeBase) -> Oncogenicity:
    """Curated oncogenicity first, then hotspots, KB evidence, truncating-in-TSG; else VUS."""
    curated = [m.record.oncogenicity for m in matches if m.record.source == "builtin" and m.record.oncogenicity]
    if ONCOGENIC in curated:
        return Oncogenicity(ONCOGENIC, "curated built-in biomarker")
    change = view.change
    if view.gene and change and change.kind == "missense" and change.start in kb.hotspots.get(view.gene, ()):
        source = next(h.source for h in kb.reference.hotspots if h.gene == view.gene)
        return Oncogenicity(ONCOGENIC, f"recurrent hotspot {view.gene} codon {change.start} ({source})")
    if curated:
        return Oncogenicity(LIKELY_ONCOGENIC, "curated built-in biomarker")
    if view.truncating and view.gene in kb.tumour_suppressors:
        return Oncogenicity(LIKELY_ONCOGENIC, f"truncating variant in tumour suppressor {view.gene} "
                                              f"({kb.reference.tumour_suppressor_source})")
    specific = [m for m in matches if m.matched_by in _SPECIFIC and m.record.direction != "does_not_support"
                and m.record.significance in _SUPPORTING]
    if specific:
        return Oncogenicity(LIKELY_ONCOGENIC, f"variant-level knowledge-base evidence ({specific[0].record.record_id})")
    if any(m.matched_by.startswith("class:") and m.record.match.kind in {"fusion", "amplification", "exon19_inframe_deletion",
                                                                        "exon20_insertion", "met_exon14_skipping"}
           for m in matches):
        return Oncogenicity(LIKELY_ONCOGENIC, "alteration class with knowledge-base evidence")
    return no_knowledge()


def no_knowledge() -> Oncogenicity:
    """The call for a variant no knowledge applies to."""
    return Oncogenicity(VUS, "no hotspot, curated or knowledge-base evidence: variant of unknown significance")
