"""Possible germline findings in tumour-only sequencing, for referral to genetics.

ESMO Precision Medicine Working Group (Mandelker et al., Ann Oncol 2019, PMID:31050713; Kuzbari et al., Ann Oncol
2023): tumour-detected pathogenic / likely pathogenic variants in hereditary cancer genes warrant germline testing;
a high variant allele fraction raises the likelihood. We flag: tumour-only assay, gene in the hereditary list,
pathogenic class (truncating for loss-of-function genes, listed activating variants for RET, or a knowledge-base
pathogenic/likely-pathogenic predisposing record) and VAF >= threshold (0.30, knowledge/biomarkers.yaml).
Wording is always "possible germline - refer to genetics", never a statement of germline status.
"""

from pydantic import BaseModel

from services.annotate.domain.knowledge import KnowledgeBase
from services.annotate.domain.matching import RecordMatch, VariantView

WORDING = "possible germline - refer to genetics"
_PATHOGENIC = {"pathogenic", "likely_pathogenic"}


class GermlineFlag(BaseModel):
    variant_key: str
    gene: str
    alteration: str
    vaf: float
    basis: str
    message: str
    source: str


def _pathogenic_basis(view: VariantView, matches: list[RecordMatch], kb: KnowledgeBase) -> str | None:
    assert view.gene is not None  # flag() calls this only for a gene in kb.hereditary
    gene = kb.hereditary[view.gene]
    if gene.mechanism == "lof" and view.truncating:
        return "truncating variant in a loss-of-function hereditary cancer gene"
    if view.protein and view.protein in gene.germline_proteins:
        return f"known hereditary activating variant {view.gene} {view.protein}"
    for m in matches:
        rec = m.record
        if (rec.evidence_type == "predisposing" and rec.significance in _PATHOGENIC
                and rec.direction != "does_not_support" and m.matched_by in {"protein", "coordinates"}):
            return f"knowledge-base {rec.significance.replace('_', ' ')} record {rec.record_id}"
    return None


def flag(view: VariantView, matches: list[RecordMatch], kb: KnowledgeBase, tumor_only: bool,
         vaf_threshold: float | None = None) -> GermlineFlag | None:
    """A referral flag for a possible germline variant, or None."""
    v = view.variant
    threshold = kb.reference.germline_vaf_threshold if vaf_threshold is None else vaf_threshold
    if not tumor_only or view.gene not in kb.hereditary or v.vaf is None or v.vaf < threshold:
        return None
    basis = _pathogenic_basis(view, matches, kb)
    if basis is None:
        return None
    return GermlineFlag(
        variant_key=v.key(), gene=view.gene, alteration=view.label, vaf=v.vaf,
        basis=f"{basis}; VAF {v.vaf:.2f} >= {threshold:.2f} in tumour-only sequencing",
        message=f"{view.gene} {view.label}: {WORDING}", source=kb.reference.hereditary_source,
    )
