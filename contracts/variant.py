"""The normalised variant that ingest stores in MongoDB and annotate reads.

One shape for every caller and annotator: small variants (SNV, MNV, indel), copy-number
records (CNV) and structural variants / fusions (SV, BND). Field names contain no '.' and no
value is an array of arrays, so documents are valid for MongoDB and FerretDB alike.
"""

from typing import Any, Literal

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
    annotation_source: Literal["vep", "snpeff", "oncomine", "pave"] | None = None
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


# Every field with its default (None for the required ones, which the values always carry).
DEFAULTS: dict[str, Any] = {
    name: None if field.is_required() else field.default for name, field in Variant.model_fields.items()
}
# The fields-set shared by every trusted Variant (trusted_variant, ingest's C fast path): it already holds
# every field, so pydantic's `.add` on assignment is a no-op.
ALL_FIELDS_SET = set(Variant.model_fields)
_new = Variant.__new__
_set = object.__setattr__


def trusted_variant(values: dict[str, Any]) -> Variant:
    """A Variant from values oncorelay built and checked itself, every field present, without validation.

    Equivalent to `Variant.model_construct(**values)` (tests compare both with validated models) at a
    fraction of its cost, which dominated per-variant time in ingest's parser and annotate's reader.
    """
    variant = _new(Variant)
    _set(variant, "__dict__", values)
    _set(variant, "__pydantic_fields_set__", ALL_FIELDS_SET)
    _set(variant, "__pydantic_extra__", None)
    _set(variant, "__pydantic_private__", None)
    return variant


def stored_variant(document: dict[str, Any]) -> Variant:
    """A Variant from a stored variant document (its None fields left out when it was stored)."""
    return trusted_variant({**DEFAULTS, **document})

