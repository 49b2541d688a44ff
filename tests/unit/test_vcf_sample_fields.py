"""Tumour sample identification and read counts per caller (pure functions, values as pysam hands them over)."""

import pytest

from services.ingest.domain.sample_fields import ReadCounts, pick_tumour_sample, read_counts


@pytest.mark.parametrize(
    ("samples", "header", "tumour"),
    [
        (["GS120180", "GS120240"], ["##normal_sample=GS120180", "##tumor_sample=GS120240"], "GS120240"),
        (["NORMAL", "TUMOR"], [], "TUMOR"),  # vcf2maf test_mutect: normal column first
        (["TUMOR", "NORMAL"], [], "TUMOR"),  # test_muse: tumour first
        (["normal", "tumor"], [], "tumor"),
        (["N1", "T1_TUMOUR"], [], "T1_TUMOUR"),
        (["DNA_NORMAL", "DNA_TUMOR", "RNA_TUMOR"], [], "DNA_TUMOR"),  # RADIA
        (["c-tumor2", "c-normal"], [], "c-tumor2"),
        (["S1", "S2"], ["##normal_sample=S1"], "S2"),
        (["HCC1395T.sorted.somatic.call"], [], "HCC1395T.sorted.somatic.call"),
        (["NA00001", "NA00002", "NA00003"], [], None),
        (["A", "B"], ["##tumor_sample=C"], None),  # named sample absent: no guess
        ([], [], None),
    ],
)
def test_pick_tumour_sample(samples, header, tumour):
    assert pick_tumour_sample(samples, header) == tumour


def test_mutect2_uses_format_af_ad_dp():
    # ngs-bits SomaticQC_in9 record 1, tumour column: 0/1:29,27:0.467:56
    counts = read_counts({"AD": (29, 27), "AF": (0.4670000076293945,), "DP": 56}, 0, "C", "A")
    assert counts == ReadCounts(depth=56, alt_depth=27, vaf=0.467)


def test_mutect1_fa_is_the_allele_fraction():
    # vcf2maf test_mutect record 1, TUMOR: 0:175,30:.:206:0.146 (GT:AD:BQ:DP:FA)
    counts = read_counts({"AD": (175, 30), "DP": 206, "FA": (0.146,)}, 0, "C", "G")
    assert counts == ReadCounts(206, 30, 0.146)


def test_per_allele_af_including_ref_is_indexed_past_ref():
    # RADIA writes AF for REF and ALT: 95,11 / 0.9,0.1
    assert read_counts({"AD": (95, 11), "AF": (0.9, 0.1), "DP": 106}, 0, "C", "T").vaf == pytest.approx(0.1)


def test_second_alt_of_a_multiallelic_site():
    counts = read_counts({"AD": (10, 5, 15), "AF": (0.167, 0.5), "DP": 30}, 1, "A", "T")
    assert counts == ReadCounts(30, 15, 0.5)


def test_strelka_snv_vaf_from_tier1_counts():
    # vcf2maf test_strelka record 2, TUMOR: DP 58, AU 56,57, GU 2,2 (G>A)
    fmt = {"DP": 58, "AU": (56, 57), "CU": (0, 0), "GU": (2, 2), "TU": (0, 0)}
    counts = read_counts(fmt, 0, "G", "A")
    assert (counts.depth, counts.alt_depth) == (58, 56)
    assert counts.vaf == pytest.approx(56 / 58)


def test_strelka_indel_vaf_from_tar_tir():
    # test_strelka 2:102626146 CG>C, TUMOR: DP 89, TAR 19,19, TIR 57,58
    counts = read_counts({"DP": 89, "TAR": (19, 19), "TIR": (57, 58)}, 0, "CG", "C")
    assert (counts.depth, counts.alt_depth) == (89, 57)
    assert round(counts.vaf, 3) == 0.75


def test_varscan_freq_percent_string():
    # vcf2maf test_varscan record 1, TUMOR: 0/1:.:91:56:35:38.46%:31,25,16,19
    counts = read_counts({"DP": 91, "RD": 56, "AD": 35, "FREQ": "38.46%", "DP4": "31,25,16,19"}, 0, "A", "G")
    assert counts == ReadCounts(91, 35, pytest.approx(0.3846))


def test_varscan_dp4_when_ad_missing():
    counts = read_counts({"FREQ": "48.7%", "DP4": "31,28,33,23"}, 0, "A", "G")
    assert counts == ReadCounts(115, 56, pytest.approx(0.487))


def test_plain_ad_gives_vaf_over_allele_depths():
    # vcf2maf test_muse record 1, TUMOR: 0/1:11:9,2
    counts = read_counts({"DP": 11, "AD": (9, 2)}, 0, "G", "T")
    assert counts.depth == 11 and counts.alt_depth == 2
    assert round(counts.vaf, 3) == 0.182


def test_pcgr_adt_dpt_strings():
    # pcgr T001-BRCA record 1: DPT 144, ADT "112,32" (declared Number=. String: pysam splits it)
    for adt in (("112", "32"), ("112,32",), "112,32"):
        counts = read_counts({"DPT": 144, "ADT": adt}, 0, "C", "T")
        assert counts.alt_depth == 32 and counts.depth == 144
        assert round(counts.vaf, 3) == 0.222


def test_depth_only_reports_no_vaf_rather_than_guessing():
    # cnvkit vcf-het-no-altcount.vcf: GT:DP only
    assert read_counts({"DP": 40}, 0, "A", "G") == ReadCounts(40, None, None)


def test_missing_values_do_not_crash():
    assert read_counts({"AD": (None, 21), "DP": None}, 0, "A", "G") == ReadCounts(None, 21, None)
    assert read_counts({"AD": (None,), "AF": (None,)}, 0, "A", "G").vaf is None
