"""Hartwig PURPLE somatic VCFs annotated by PAVE (pure): the INFO `IMPACT` field (Number=10: Gene, Transcript,
CanonicalEffect, CanonicalCodingEffect, SpliceRegion, HgvsCodingImpact, HgvsProteinImpact, OtherReportableEffects,
WorstCodingEffect, GenesAffected) mapped to the gene, consequence, transcript and HGVS other annotations give."""

from typing import Any

from services.ingest.domain.annotation import Annotation, clean_hgvs

FIELDS = 10


def impact_annotation(value: Any) -> Annotation | None:
    """The canonical transcript's annotation of an IMPACT value (None without a gene: intergenic)."""
    parts = list(value) if isinstance(value, (tuple, list)) else str(value or "").split(",")
    if len(parts) < FIELDS - 3 or not parts[0]:
        return None
    effects = [e for e in str(parts[2]).split("&") if e]
    return Annotation(source="pave", gene=parts[0], consequence=effects[0] if effects else None,
                      transcript=parts[1] or None, hgvsc=clean_hgvs(parts[5] or None),
                      hgvsp=clean_hgvs(parts[6] or None))
