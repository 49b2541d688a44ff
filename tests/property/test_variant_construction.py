"""The unvalidated Variant constructors ingest and annotate use on their hot paths build exactly the
model that pydantic validation builds from the same values."""

from hypothesis import given
from hypothesis import strategies as st

from contracts.variant import Variant, stored_variant, trusted_variant
from services.ingest.adapters.vcf.loader import variant_document

optional_text = st.one_of(st.none(), st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=12))
variants = st.builds(
    Variant,
    chrom=st.sampled_from(["chr1", "7", "chrX"]), pos=st.integers(1, 10**9),
    ref=st.text("ACGT", min_size=1, max_size=5), alt=st.text("ACGT", min_size=1, max_size=5),
    kind=st.sampled_from(["snv", "mnv", "indel", "cnv", "sv", "fusion"]), filter=st.sampled_from(["PASS", "LowQual"]),
    gene=optional_text, hgvsp=optional_text, consequence=optional_text,
    depth=st.one_of(st.none(), st.integers(0, 10**5)), vaf=st.one_of(st.none(), st.floats(0, 1)),
    copy_number=st.one_of(st.none(), st.floats(0, 50)), partner_gene=optional_text,
)


@given(variants)
def test_a_stored_document_comes_back_as_the_validated_model(variant):
    rebuilt = stored_variant(variant_document(variant))
    assert rebuilt == variant
    assert rebuilt.model_dump() == variant.model_dump()
    assert rebuilt.key() == variant.key()


@given(variants)
def test_trusted_construction_equals_model_construct(variant):
    values = variant.model_dump()
    assert trusted_variant(dict(values)).model_dump() == Variant.model_construct(**values).model_dump() == values
