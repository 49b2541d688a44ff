"""The normalised variant that ingest stores in MongoDB and annotate reads.

One shape for every caller and annotator: small variants (SNV, MNV, indel), copy-number
records (CNV) and structural variants / fusions (SV, BND). Field names contain no '.' and no
value is an array of arrays, so documents are valid for MongoDB and FerretDB alike.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict

VariantKind = Literal["snv", "mnv", "indel", "cnv", "sv", "fusion"]


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chrom: str
    pos: int
    ref: str
    alt: str
    kind: VariantKind
    filter: str = "PASS"
    # Annotation from VEP CSQ or SnpEff ANN (the most severe / canonical transcript).
    gene: str | None = None
    consequence: str | None = None
    transcript: str | None = None
    hgvsc: str | None = None
    hgvsp: str | None = None
    annotation_source: Literal["vep", "snpeff"] | None = None
    # Read evidence in the tumour sample.
    depth: int | None = None
    alt_depth: int | None = None
    vaf: float | None = None
    # Copy number and structural variants.
    end: int | None = None
    svtype: str | None = None
    svlen: int | None = None
    copy_number: float | None = None
    mate_chrom: str | None = None
    mate_pos: int | None = None
    partner_gene: str | None = None

    def key(self) -> str:
        """Stable identity of the variant within a result: chrom:pos:ref>alt."""
        return f"{self.chrom}:{self.pos}:{self.ref}>{self.alt}"
