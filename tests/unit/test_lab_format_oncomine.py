"""Thermo Fisher Oncomine / Ion Reporter VCFs (real files, FNL-MoCha/moma): FUNC read as a Python literal
(never evaluated as code), CNV (<CNV>, FORMAT CN) and fusion records in the same file, and hotspots that Ion
Reporter genotypes as reference (GT 0/0, PASS) not taken for variants."""

from pathlib import Path

import pysam
import pytest

from services.ingest.adapters.vcf.loader import open_vcf
from services.ingest.domain.oncomine import func_annotation, func_entries

ONCOMINE = Path(__file__).resolve().parents[3] / "shared" / "data" / "lab-outputs" / "oncomine-fnl-mocha-moma"


def test_func_is_read_as_a_literal_and_mapped_to_the_annotation_fields():
    entries = func_entries("[{'gene':'NFE2L2','coding':'c.101G>A','transcript':'NM_006164.4','function':'missense',"
                           "'protein':'p.Arg34Gln','origAlt':'T'}]")
    annotation = func_annotation(entries, "T")
    assert (annotation.gene, annotation.consequence, annotation.hgvsc, annotation.hgvsp, annotation.transcript) == (
        "NFE2L2", "missense_variant", "c.101G>A", "p.Arg34Gln", "NM_006164.4")
    assert func_annotation(func_entries("[{'gene':'JAK1','function':'synonymous','protein':'p.(=)'}]"), "C").hgvsp is None


@pytest.mark.parametrize("hostile", ["__import__('os').system('true')", "[{'gene': (lambda: 1)()}]",
                                     "[" * 5000, "{'gene': 'X'}", "[1, 2]", 42, None])
def test_a_func_that_is_not_a_list_of_literal_dicts_is_ignored_never_run(hostile):
    assert func_entries(hostile) == [] or all(isinstance(e, dict) for e in func_entries(hostile))
    assert func_annotation(func_entries(hostile), "A") is None


def _variants(name: str, tmp_path: Path) -> list:
    bgzf = tmp_path / f"{name}.gz"
    pysam.tabix_compress(str(ONCOMINE / name), str(bgzf), force=True)
    with open_vcf(str(bgzf), "GRCh37", 64 * 1024) as reader:
        assert reader.header_summary["annotation"] == "oncomine"
        return list(reader.variants())


def test_the_oncomine_comprehensive_assay_export(tmp_path):
    variants = _variants("oca.vcf", tmp_path)
    by_kind = {kind: [v for v in variants if v.kind == kind] for kind in {v.kind for v in variants}}
    snvs = [v for v in by_kind["snv"] if v.filter == "PASS"]
    assert snvs and all(v.annotation_source == "oncomine" and v.gene for v in snvs)
    nfe2l2 = next(v for v in snvs if v.gene == "NFE2L2" and v.hgvsp == "p.Arg34Gln")
    assert nfe2l2.consequence == "missense_variant" and nfe2l2.vaf is not None
    reference_genotyped = {(r.chrom, r.pos) for r in pysam.VariantFile(str(ONCOMINE / "oca.vcf"))
                           if r.alts and not r.alts[0].startswith("<") and "[" not in r.alts[0] and "]" not in r.alts[0]
                           and r.samples[0]["GT"] == (0, 0)}
    assert reference_genotyped and not reference_genotyped & {(v.chrom, v.pos) for v in variants}
    cnvs = [v for v in variants if v.copy_number is not None]
    assert len(cnvs) > 50 and any(v.gene == "MYCL" for v in cnvs)
    fusions = [v for v in variants if v.kind in ("fusion", "breakend", "sv")]
    assert fusions


def test_a_plain_torrent_suite_vcf_without_func_reads_as_before(tmp_path):
    bgzf = tmp_path / "tvc.vcf.gz"
    pysam.tabix_compress(str(ONCOMINE / "0CFDXX_IonXpress_079.vcf"), str(bgzf), force=True)
    with open_vcf(str(bgzf), "GRCh37", 64 * 1024) as reader:
        assert reader.header_summary["annotation"] is None
        assert list(reader.variants())
