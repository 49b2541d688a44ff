from contracts.variant import Variant
from services.annotate.domain.germline import flag
from services.annotate.domain.matching import VariantView, match_specific
from services.annotate.domain.tmb import compute_tmb, msi_high


def v(consequence="missense_variant", vaf=0.2, depth=100, filter="PASS", kind="snv", gene="TP53", hgvsp=None):
    return Variant(chrom="17", pos=7577120, ref="C", alt="T", kind=kind, filter=filter, gene=gene,
                   consequence=consequence, vaf=vaf, depth=depth, hgvsp=hgvsp)


def test_tmb_counts_only_eligible_coding_variants_per_megabase():
    variants = [v() for _ in range(12)] + [
        v("synonymous_variant"), v("intron_variant"), v(vaf=0.02), v(depth=10), v(filter="LowQual"),
        v(kind="cnv"), v("frameshift_variant", kind="indel"), v("splice_donor_variant"),
    ]
    result = compute_tmb(variants, panel_size_mb=1.4, tumor_only=False)
    assert result.counted == 14
    assert result.tmb_per_mb == 10.0 and result.tmb_high
    assert "VAF >= 0.05" in result.rule


def test_tumour_only_excludes_germline_like_allele_fractions():
    variants = [v(vaf=0.5), v(vaf=0.97), v(vaf=0.3)]
    assert compute_tmb(variants, 1.0, tumor_only=True).counted == 1
    assert compute_tmb(variants, 1.0, tumor_only=True).excluded_germline_like == 2
    assert compute_tmb(variants, 1.0, tumor_only=False).counted == 3


def test_tmb_just_below_ten_is_not_high():
    assert not compute_tmb([v() for _ in range(9)], 1.0, tumor_only=False).tmb_high


def test_msi_is_taken_as_reported():
    assert msi_high("MSI-H") and not msi_high("MSI-L") and not msi_high(None)


def germline(kb, variant, tumor_only=True):
    view = VariantView(variant, "GRCh38")
    return flag(view, match_specific(view, kb), kb, tumor_only)


def test_truncating_brca2_at_germline_like_vaf_in_tumour_only_is_flagged_for_referral(kb):
    result = germline(kb, v("stop_gained", vaf=0.48, gene="BRCA2", hgvsp="p.Lys3326Ter"))
    assert result is not None
    assert result.message == "BRCA2 K3326*: possible germline - refer to genetics"
    assert "germline" in result.message and "is germline" not in result.message
    assert "31050713" in result.source


def test_no_flag_below_vaf_threshold_with_matched_normal_or_for_missense(kb):
    assert germline(kb, v("stop_gained", vaf=0.12, gene="BRCA2", hgvsp="p.Lys3326Ter")) is None
    assert germline(kb, v("stop_gained", vaf=0.5, gene="BRCA2", hgvsp="p.Lys3326Ter"), tumor_only=False) is None
    assert germline(kb, v("missense_variant", vaf=0.5, gene="BRCA2", hgvsp="p.Asp2723His")) is None
    assert germline(kb, v("stop_gained", vaf=0.5, gene="KRAS", hgvsp="p.Gln22Ter")) is None


def test_ret_needs_a_known_activating_variant_not_truncation(kb):
    assert germline(kb, v(vaf=0.5, gene="RET", hgvsp="p.Met918Thr")) is not None
    assert germline(kb, v("stop_gained", vaf=0.5, gene="RET", hgvsp="p.Gln100Ter")) is None


def test_tmb_is_not_computable_without_consequence_annotation():
    from contracts.variant import Variant
    from services.annotate.domain.tmb import compute_tmb

    unannotated = [Variant(chrom="1", pos=100 + i, ref="C", alt="T", kind="snv", vaf=0.2, depth=100) for i in range(50)]
    result = compute_tmb(unannotated, panel_size_mb=1.0, tumor_only=False)
    assert result.tmb_per_mb is None and not result.tmb_high
    assert "no consequence annotation" in result.not_computable
