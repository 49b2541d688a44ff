"""Variant kinds, allele validation, breakend mates and genome-build checks (pure functions)."""

import re
from pathlib import Path

import pytest

from contracts.reasons import RejectionCode
from services.ingest.domain.classify import (
    GRCH37_LENGTHS,
    GRCH38_LENGTHS,
    check_build,
    fusion_partners,
    invalid_allele,
    parse_breakend,
    simple_ann_fusion,
    small_variant_kind,
    symbolic_kind,
)


def _header(path: Path) -> tuple[dict[str, int | None], list[str]]:
    lines = [line for line in path.read_text().splitlines() if line.startswith("##")]
    contigs = {}
    for line in lines:
        match = re.match(r"##contig=<ID=([^,>]+)(?:,length=(\d+))?", line)
        if match:
            contigs[match.group(1)] = int(match.group(2)) if match.group(2) else None
    return contigs, lines


@pytest.mark.parametrize(
    ("ref", "alt", "kind"),
    [("C", "T", "snv"), ("AC", "GT", "mnv"), ("ACAATT", "A", "indel"), ("G", "GCCCC", "indel")],
)
def test_small_variant_kind(ref, alt, kind):
    assert small_variant_kind(ref, alt) == kind


@pytest.mark.parametrize(
    ("ref", "alt", "problem"),
    [
        ("C", "T", None),
        ("acgtn", "N", None),
        ("N", "<DEL>", None),
        ("C", "]15:80623247]C", None),
        ("G", "A/T", "ALT 'A/T'"),  # vcf2maf test_varscan record 92
        ("*", "T", "REF '*'"),  # vcfpy issue-214
        ("", "AGCG", "REF ''"),  # DRAGEN SV record with an empty REF column
        ("<!doctype html>", "A", "REF"),
        ("C", "<DEL", "ALT '<DEL'"),
    ],
)
def test_invalid_allele(ref, alt, problem):
    result = invalid_allele(ref, alt)
    assert (result is None) if problem is None else (problem in result)


@pytest.mark.parametrize(
    ("alt", "mate"),
    [
        ("]15:80623247]C", ("15", 80623247)),  # DELLY (vcf2maf test_delly)
        ("[2:33141314[C", ("2", 33141314)),
        ("[chr1:179681965[T", ("chr1", 179681965)),  # DRAGEN SV
        ("T]chr3:191116229]", ("chr3", 191116229)),
        ("]chrB:123]AGTNNNNNCAT", ("chrB", 123)),  # VCF 4.5 with inserted sequence (bcftools norm.breakend)
        ("CAGTNNNNNCA[chrA:321[", ("chrA", 321)),
        ("N[HLA-A*01:01:01:01:120[", ("HLA-A*01:01:01:01", 120)),
        ("<DEL>", None),
        ("A.", None),
    ],
)
def test_parse_breakend(alt, mate):
    assert parse_breakend(alt) == mate


@pytest.mark.parametrize(
    ("alt", "svtype", "cnv_evidence", "fusion", "kind"),
    [
        ("<DEL>", "DEL", True, False, "cnv"),  # CNVkit: FOLD_CHANGE / FORMAT CN
        ("<DUP>", "DUP", False, False, "sv"),
        ("<CNV>", None, False, False, "cnv"),
        ("<AMP>", None, False, False, "cnv"),
        ("<DEL>", "CNV", False, False, "cnv"),
        ("<INV>", "INV", True, False, "sv"),
        ("]15:80623247]C", "BND", True, False, "sv"),
        ("[CHR17:29650805[N", "BND", False, True, "fusion"),
    ],
)
def test_symbolic_kind(alt, svtype, cnv_evidence, fusion, kind):
    assert symbolic_kind(alt, svtype, cnv_evidence, fusion) == kind


def test_fusion_partners_from_caller_info():
    assert fusion_partners("EML4", "ALK") == ("EML4", "ALK")
    assert fusion_partners("EML4::ALK", None) == ("EML4", "ALK")
    assert fusion_partners("TMPRSS2--ERG", None) == ("TMPRSS2", "ERG")
    assert fusion_partners("NF1", "NF1") is None
    assert fusion_partners("NF1", None) is None


def test_simple_ann_fusion_needs_two_different_genes():
    assert simple_ann_fusion(["BND|FUSION|NF1-EVI2A||"]) == ("NF1", "EVI2A")
    assert simple_ann_fusion(["BND|FUSION|RB1-RB1||"]) is None
    assert simple_ann_fusion(["DEL|EXON_DEL|NF1||"]) is None


def test_reference_lengths_are_the_real_assemblies():
    assert GRCH37_LENGTHS["1"] == 249250621 and GRCH38_LENGTHS["1"] == 248956422
    assert GRCH37_LENGTHS["X"] == 155270560 and GRCH38_LENGTHS["X"] == 156040895
    assert all(GRCH37_LENGTHS[c] != GRCH38_LENGTHS[c] for c in GRCH38_LENGTHS)


def test_grch37_contigs_declared_as_grch38_is_a_build_mismatch(shared_data):
    contigs, lines = _header(shared_data / "bcftools/split-vep.5.vcf")  # contig 1, length 249250621
    problem = check_build(contigs, lines, "GRCh38")
    assert problem is not None and problem[0] is RejectionCode.GENOME_BUILD_MISMATCH
    assert "249250621" in problem[1] and "GRCh37" in problem[1]
    assert check_build(contigs, lines, "GRCh37") is None


def test_grch38_contigs_pass_as_grch38(shared_data):
    contigs, lines = _header(shared_data / "bcftools/split-vep.6.vcf")
    assert check_build(contigs, lines, "GRCh38") is None
    assert check_build(contigs, lines, "GRCh37")[0] is RejectionCode.GENOME_BUILD_MISMATCH


def test_hg19_with_alt_and_random_contigs(shared_data):
    # Despite the MANIFEST saying GRCh38, this Mutect2 file carries ucsc.hg19 contigs (incl. chrM 16571).
    contigs, lines = _header(shared_data / "ngs-bits/SomaticQC_in9.mutect2_tumor_normal.vcf")
    assert "chr1_gl000191_random" in contigs
    assert check_build(contigs, lines, "GRCh37") is None
    assert check_build(contigs, lines, "GRCh38")[0] is RejectionCode.GENOME_BUILD_MISMATCH


def test_reference_line_is_evidence_when_there_are_no_contigs(shared_data):
    _, lines = _header(shared_data / "vcf2maf/test_mutect.vcf")  # ##reference=...GRCh37.74...fa
    assert check_build({}, lines, "GRCh38")[0] is RejectionCode.GENOME_BUILD_MISMATCH
    assert check_build({}, lines, "GRCh37") is None
    assert check_build({}, ["##reference=file:///ref/hs37d5.fa"], "GRCh38")[0] is RejectionCode.GENOME_BUILD_MISMATCH
    assert check_build({}, ["##assembly=GRCh38"], "GRCh38") is None


def test_a_liftover_chain_line_is_not_build_evidence():
    lines = ["##liftOverChainFile=/chains/hg19Tohg38.over.chain.gz"]
    assert check_build({}, lines, "GRCh38") is None


def test_unknown_contigs_and_missing_lengths_pass():
    contigs = {"chrUn_KI270302v1": 2274, "HLA-A*01:01:01:01": 3503, "chr1": None, "chrEBV": 171823}
    assert check_build(contigs, [], "GRCh38") is None
    assert check_build({}, [], "GRCh37") is None
    assert check_build({"MT": 16569}, [], "GRCh38") is None  # rCRS is shared by b37 and GRCh38


def test_a_primary_chromosome_of_neither_build_is_a_contig_mismatch(shared_data):
    contigs, lines = _header(shared_data / "pysam/example_vcf43.vcf")  # contig 20 of B36: 62435964
    problem = check_build(contigs, lines, "GRCh37")
    assert problem is not None and problem[0] is RejectionCode.CONTIG_MISMATCH
    assert "62435964" in problem[1]
