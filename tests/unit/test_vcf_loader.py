"""The pysam adapter on real files from ../shared/data: what is accepted, what each variant says, and why
bad files are rejected (reason code plus the record number a lab engineer needs)."""

import gzip
import shutil
from collections.abc import Generator
from pathlib import Path

import pytest

from contracts.reasons import RejectionCode
from contracts.variant import Variant
from services.ingest.adapters.vcf.loader import open_vcf, variant_document
from services.ingest.domain.rejection import VcfRejected

MAX_INFO = 64 * 1024


def read_all(path: Path, build: str = "GRCh37", max_info: int = MAX_INFO) -> tuple[list[Variant], dict, str | None]:
    with open_vcf(str(path), build, max_info) as reader:
        variants = list(reader.variants())
        return variants, reader.header_summary, reader.tumour_sample


def rejection(path: Path, build: str = "GRCh37", max_info: int = MAX_INFO) -> VcfRejected:
    with pytest.raises(VcfRejected) as caught:
        read_all(path, build, max_info)
    return caught.value


# --- callers and their read evidence ---------------------------------------------------------------


def test_mutect2_tumour_from_header_and_vaf_from_af(shared_data):
    variants, header, tumour = read_all(shared_data / "ngs-bits/SomaticQC_in9.mutect2_tumor_normal.vcf")
    assert tumour == "GS120240"  # ##tumor_sample, second column
    assert header["samples"] == ["GS120180", "GS120240"]
    assert len(variants) == 32
    first = variants[0]
    assert (first.chrom, first.pos, first.ref, first.alt, first.kind) == ("chr1", 40777372, "C", "A", "snv")
    assert (first.depth, first.alt_depth, first.vaf) == (56, 27, 0.467)
    assert first.filter == "PASS"


def test_mutect1_normal_first_column_order(shared_data):
    variants, _, tumour = read_all(shared_data / "vcf2maf/test_mutect.vcf")
    assert tumour == "TUMOR" and len(variants) == 500
    first = variants[0]
    assert (first.pos, first.filter, first.depth, first.alt_depth, first.vaf) == (2453125, "REJECT", 206, 30, 0.146)


def test_muse_tumour_first_and_tiered_filters(shared_data):
    variants, _, tumour = read_all(shared_data / "vcf2maf/test_muse.vcf")
    assert tumour == "TUMOR" and len(variants) == 434
    first = variants[0]
    assert (first.filter, first.depth, first.alt_depth, round(first.vaf, 3)) == ("Tier1", 11, 2, 0.182)
    assert {v.filter for v in variants} >= {"PASS", "Tier1"}


def test_strelka_tier_counts(shared_data):
    variants, _, tumour = read_all(shared_data / "vcf2maf/test_strelka.vcf")
    assert tumour == "TUMOR" and len(variants) == 240
    by_pos = {v.pos: v for v in variants}
    snv = by_pos[35944648]  # G>A, TUMOR AU 56, GU 2, DP 58
    assert (snv.depth, snv.alt_depth, round(snv.vaf, 3)) == (58, 56, 0.966)
    indel = by_pos[102626146]  # CG>C, TUMOR TAR 19, TIR 57, DP 89
    assert (indel.kind, indel.depth, indel.alt_depth, round(indel.vaf, 3)) == ("indel", 89, 57, 0.75)


def test_varscan_percent_freq_then_invalid_allele_at_record_92(shared_data):
    """Real VarScan output: record 92 has ALT 'A/T', which is not a VCF allele."""
    with open_vcf(str(shared_data / "vcf2maf/test_varscan.vcf"), "GRCh37", MAX_INFO) as reader:
        stream = reader.variants()
        first = next(stream)
        assert (first.depth, first.alt_depth, round(first.vaf, 4)) == (91, 35, 0.3846)
        with pytest.raises(VcfRejected) as caught:
            for _ in stream:
                pass
    assert caught.value.code is RejectionCode.INVALID_ALLELE
    assert "record 92" in caught.value.message and "A/T" in caught.value.message


def test_pcgr_tcga_sample_with_tumour_specific_keys(shared_data):
    variants, header, tumour = read_all(shared_data / "pcgr/T001-BRCA.grch38.vcf.gz", "GRCh38")
    assert tumour == "TCGA-A2-A04W-01A-31D-A10Y-09_TCGA-A2-A04W-10A-01D-A110-09"
    # No ##contig lines in the text; the 23 contigs come from the tabix index htslib loads alongside.
    assert len(variants) == 196 and header["contigs"] == 23
    first = variants[0]
    assert (first.chrom, first.pos, first.depth, first.alt_depth, round(first.vaf, 3)) == ("1", 1968826, 144, 32, 0.222)


def test_pcgr_coad_counts(shared_data):
    variants, _, _ = read_all(shared_data / "pcgr/T001-COAD.grch37.vcf.gz")
    assert len(variants) == 3317
    assert {v.kind for v in variants} == {"snv", "indel"}


def test_depth_without_allele_counts_reports_no_vaf(shared_data):
    variants, _, _ = read_all(shared_data / "cnvkit/vcf-het-no-altcount.vcf")
    assert len(variants) == 3
    assert all(v.depth is not None and v.alt_depth is None and v.vaf is None for v in variants)


def test_undeclared_format_keys_are_still_read(shared_data):
    """SomaticQC_in6 uses FORMAT DP without declaring it; it also lacks a final newline but is complete."""
    variants, header, tumour = read_all(shared_data / "ngs-bits/SomaticQC_in6.strelka_somatic_csq.vcf", "GRCh38")
    assert tumour == "tumor" and len(variants) == 4
    first = variants[0]
    assert (first.depth, first.alt_depth) == (70, 20)
    assert first.gene == "TNS4" and first.hgvsc == "c.440-6C>T"
    assert first.consequence == "splice_region_variant&intron_variant"


# --- annotation --------------------------------------------------------------------------------------


def test_vep_csq_split_vep_5(shared_data):
    variants, header, tumour = read_all(shared_data / "bcftools/split-vep.5.vcf")
    assert tumour is None and header["annotation"] == "vep" and len(variants) == 9
    assert variants[1].hgvsp == "p.Phe113Cys" and variants[1].consequence == "missense_variant"
    deletion = variants[4]
    assert (deletion.kind, deletion.gene, deletion.consequence) == ("indel", "OR4F5", "frameshift_variant")
    assert (deletion.hgvsc, deletion.hgvsp) == ("c.380_384del", "p.Thr127AsnfsTer38")
    assert all(v.annotation_source == "vep" for v in variants)


def test_vep_csq_split_vep_6_prefers_canonical(shared_data):
    variants, _, _ = read_all(shared_data / "bcftools/split-vep.6.vcf", "GRCh38")
    assert [v.gene for v in variants] == ["PERM1", "PERM1", "HES4", "AADACL3"]
    hes4 = variants[2]  # non-canonical MANE intron entry loses to the canonical missense one
    assert (hes4.transcript, hes4.hgvsp) == ("ENST00000428771", "p.Arg44Ser")
    assert variants[3].consequence == "stop_gained" and variants[3].hgvsp == "p.Cys13Ter"
    assert variants[1].hgvsp == "p.Ala490="


def test_vep_under_key_ann_split_vep_7(shared_data):
    variants, header, _ = read_all(shared_data / "bcftools/split-vep.7.vcf", "GRCh38")
    assert header["annotation"] == "vep" and header["annotation_key"] == "ANN"
    assert variants[0].annotation_source == "vep"
    assert variants[0].consequence == "intron_variant&non_coding_transcript_variant"


# --- copy number and structural variants ---------------------------------------------------------------


def test_cnvkit_records_are_cnvs_with_copy_number(shared_data):
    variants, _, tumour = read_all(
        shared_data / "nf-core-test-datasets/HCC1395T_vs_HCC1395N.cnvkit.cnvcall.chr1-5.excerpt.vcf", "GRCh38"
    )
    assert tumour == "HCC1395T.sorted.somatic.call"
    assert len(variants) == 79 and {v.kind for v in variants} == {"cnv"}
    dup = variants[1]
    assert (dup.alt, dup.svtype, dup.end, dup.svlen, dup.copy_number) == ("<DUP>", "DUP", 152412453, 328257, 3.0)
    deletion = variants[0]  # FOLD_CHANGE only, no FORMAT CN
    assert (deletion.svtype, deletion.end, deletion.copy_number) == ("DEL", 146121003, None)


def test_delly_breakends_give_the_mate(shared_data):
    variants, _, _ = read_all(shared_data / "vcf2maf/test_delly.vcf")
    assert len(variants) == 15
    first = variants[0]
    assert (first.kind, first.svtype, first.mate_chrom, first.mate_pos) == ("sv", "BND", "15", 80623247)
    deletion = variants[3]  # <DEL> with FORMAT CN but paired-end support: an SV, not a CNV segment
    assert (deletion.kind, deletion.end, deletion.copy_number) == ("sv", 66197751, 2.0)


def test_dragen_sv_breakends_then_empty_ref_at_record_10(shared_data):
    path = shared_data / "ngs-bits/MantaVcfFix_in2.dragen_sv.vcf"
    with open_vcf(str(path), "GRCh38", MAX_INFO) as reader:
        stream = reader.variants()
        bnds = [next(stream) for _ in range(3)][1:]
        with pytest.raises(VcfRejected) as caught:
            list(stream)
    assert [(v.mate_chrom, v.mate_pos) for v in bnds] == [("chr1", 179681965), ("chr1", 179681968)]
    assert bnds[0].filter == "MinQUAL;NoPairSupport"
    # The ngs-bits MantaVcfFix input has an empty REF column, which MantaVcfFix exists to repair.
    assert caught.value.code is RejectionCode.INVALID_ALLELE and "record 10" in caught.value.message


def test_lumpy_snpeff_fusion_and_mates(shared_data):
    variants, header, _ = read_all(shared_data / "snpeff/EML4-ALK_fusion.lumpy.snpeff.vcf")
    assert header["annotation"] == "snpeff" and len(variants) == 117
    fusions = [v for v in variants if v.kind == "fusion"]
    assert [(v.gene, v.partner_gene) for v in fusions] == [("NF1", "EVI2A"), ("NF1", "EVI2A")]
    assert fusions[0].mate_chrom == "chr17"  # ALT says CHR17; the header contig is chr17
    assert fusions[0].mate_pos == 29650805
    alk = next(v for v in variants if v.alt == "<INV>" and v.pos == 29447648)
    assert (alk.kind, alk.gene, alk.svtype, alk.svlen) == ("sv", "ALK", "INV", 13076492)
    bnd = next(v for v in variants if v.pos == 180477296)
    assert bnd.hgvsc == "c.662_663ins[CHR5:180477143["


def test_vcf45_breakends_with_inserted_sequence(shared_data):
    variants, header, _ = read_all(shared_data / "bcftools/norm.breakend.1.vcf")
    assert header["fileformat"] == "VCFv4.5"
    assert [(v.mate_chrom, v.mate_pos) for v in variants] == [("chrB", 123), ("chrA", 321)]


def test_gvcf_reference_blocks_are_skipped(shared_data):
    variants, _, _ = read_all(shared_data / "bcftools/consensus.18.gvcf.vcf")
    assert [(v.pos, v.ref, v.alt) for v in variants] == [(variants[0].pos, "A", "C")]


def test_multiallelic_site_gives_one_variant_per_alt(shared_data):
    variants, _, tumour = read_all(shared_data / "gatk/mutect2_mito_filtered.vcf", "GRCh38")
    assert tumour == "NA12878" and len(variants) == 8
    sites = {}
    for v in variants:
        sites.setdefault(v.pos, []).append(v)
    multi = next(group for group in sites.values() if len(group) == 3)
    assert len({v.alt for v in multi}) == 3
    assert all(v.vaf is not None for v in multi)


# --- genome build ---------------------------------------------------------------------------------------


def test_grch37_file_declared_grch38_is_rejected_on_open(shared_data):
    error = rejection(shared_data / "bcftools/split-vep.5.vcf", "GRCh38")
    assert error.code is RejectionCode.GENOME_BUILD_MISMATCH and "249250621" in error.message


def test_reference_line_reveals_grch37_without_contigs(shared_data):
    assert rejection(shared_data / "vcf2maf/test_mutect.vcf", "GRCh38").code is RejectionCode.GENOME_BUILD_MISMATCH


def test_hg19_mutect2_file_declared_grch38(shared_data):
    error = rejection(shared_data / "ngs-bits/SomaticQC_in9.mutect2_tumor_normal.vcf", "GRCh38")
    assert error.code is RejectionCode.GENOME_BUILD_MISMATCH


# --- rejected files -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code", "where"),
    [
        ("htslib/emptyfile.vcf", RejectionCode.VCF_HEADER_INVALID, "empty"),
        ("pysam/example_empty.vcf", RejectionCode.VCF_HEADER_INVALID, "empty"),
        ("snpeff/test.cancer.vcf", RejectionCode.VCF_HEADER_INVALID, "##fileformat"),
        ("nf-core-test-datasets/GRIAFFLKY_snpeff.vcf", RejectionCode.VCF_HEADER_INVALID, "##fileformat"),
        ("snpeff/vcf_translocation.noheader.vcf", RejectionCode.VCF_HEADER_INVALID, "##fileformat"),
        ("ngs-bits/VcfCheck_in6.vcf", RejectionCode.VCF_HEADER_INVALID, "#CHROM"),
        ("vcfpy/issue_49.vcf", RejectionCode.VCF_HEADER_INVALID, "tab-separated"),
        ("cyvcf2/test-invalid-header.vcf", RejectionCode.VCF_HEADER_INVALID, "trailing tab"),
        ("cnvkit/format-no-sample.vcf", RejectionCode.VCF_HEADER_INVALID, "#CHROM"),
        ("ngs-bits/VcfToBedpe_in1_manta.plain-gzip.vcf.gz", RejectionCode.VCF_NOT_BGZIP, "bgzip"),
        ("derived/T001-BRCA.grch38.truncated-half.vcf.gz", RejectionCode.VCF_TRUNCATED, "EOF"),
        ("derived/T001-BRCA.grch38.no-bgzf-eof.vcf.gz", RejectionCode.VCF_TRUNCATED, "EOF"),
        ("derived/T001-BRCA.grch38.truncated-midline.vcf", RejectionCode.VCF_TRUNCATED, "record (127)"),
        ("htslib/noroundtrip.vcf", RejectionCode.VCF_RECORD_INVALID, "record 1 "),
        ("ngs-bits/VcfCheck_in2.vcf", RejectionCode.VCF_RECORD_INVALID, "record 2 "),
        ("ngs-bits/VcfCheck_in3.vcf", RejectionCode.VCF_RECORD_INVALID, "record 2 "),
        ("ngs-bits/VcfCheck_in7.vcf", RejectionCode.VCF_RECORD_INVALID, "record 2 "),
        ("vcfpy/strelka.vcf", RejectionCode.VCF_RECORD_INVALID, "record 1 "),
        ("snpeff/test_fusion_CCDC6-RET.vcf", RejectionCode.VCF_RECORD_INVALID, "record 3 "),
        ("civic/01-Oct-2019-civic_accepted.vcf", RejectionCode.VCF_RECORD_INVALID, "record 48 "),
        ("bcftools/empty.vcf", RejectionCode.NO_VARIANTS_SECTION, "no records"),
        ("htslib/modhdr.vcf.gz", RejectionCode.NO_VARIANTS_SECTION, "no records"),
        ("pysam/example_vcf42_only_header.vcf", RejectionCode.NO_VARIANTS_SECTION, "no records"),
        ("vcfpy/issue-214.vcf", RejectionCode.NO_TUMOUR_SAMPLE, "Sample1"),
    ],
)
def test_bad_files_are_rejected_with_a_reason(shared_data, name, code, where):
    build = "GRCh38" if "grch38" in name else "GRCh37"
    error = rejection(shared_data / name, build)
    assert error.code is code, error.message
    assert where in error.message


def test_records_before_a_corrupt_one_are_counted(shared_data):
    """CIViC's 2019 VCF turns into an HTML page at record 48: 47 records stream out first."""
    seen = []
    with open_vcf(str(shared_data / "civic/01-Oct-2019-civic_accepted.vcf"), "GRCh37", MAX_INFO) as reader:
        with pytest.raises(VcfRejected) as caught:
            for variant in reader.variants():
                seen.append(variant)
    assert "47 records before it were read" in caught.value.message
    assert len({(v.chrom, v.pos) for v in seen}) <= 47 and seen


def test_cut_text_file_never_yields_its_partial_last_record(shared_data):
    seen = []
    with open_vcf(str(shared_data / "derived/T001-BRCA.grch38.truncated-midline.vcf"), "GRCh38", MAX_INFO) as reader:
        with pytest.raises(VcfRejected) as caught:
            for variant in reader.variants():
                seen.append(variant)
    assert caught.value.code is RejectionCode.VCF_TRUNCATED
    assert len(seen) == 126  # pysam reads 127 records; the 127th is the cut one


def test_header_summary_survives_contig_assertion_trap(shared_data):
    with open_vcf(str(shared_data / "htslib/modhdr.vcf.gz"), "GRCh37", MAX_INFO) as reader:  # chr22 of hg19
        assert reader.header_summary["contigs"] == 1  # len(header.contigs) raises AssertionError here
        assert reader.header_summary["fileformat"] == "VCFv4.3"


@pytest.mark.parametrize(
    ("name", "limit", "record"),
    [
        ("snpeff/EML4-ALK_fusion.lumpy.snpeff.vcf", 5000, "record 5 "),  # text: the ALK <INV> with ~19 kB of ANN
        ("pcgr/T001-COAD.grch37.vcf.gz", 40, "record 1 "),  # bgzip
    ],
)
def test_info_larger_than_the_limit_is_rejected(shared_data, name, limit, record):
    error = rejection(shared_data / name, "GRCh37", limit)
    assert error.code is RejectionCode.INFO_TOO_LARGE
    assert record in error.message


def test_info_limit_is_not_hit_by_ordinary_files(shared_data):
    variants, _, _ = read_all(shared_data / "snpeff/EML4-ALK_fusion.lumpy.snpeff.vcf", "GRCh37", 20_000)
    assert len(variants) == 117


# --- the adapter's contract -----------------------------------------------------------------------------


def test_variants_is_a_stream(shared_data):
    with open_vcf(str(shared_data / "pcgr/T001-COAD.grch37.vcf.gz"), "GRCh37", MAX_INFO) as reader:
        stream = reader.variants()
        assert isinstance(stream, Generator)  # the C loop's generator: lazy, one record at a time
        assert next(stream).pos > 0


@pytest.mark.parametrize(
    "name",
    [
        "bcftools/split-vep.6.vcf",
        "nf-core-test-datasets/HCC1395T_vs_HCC1395N.cnvkit.cnvcall.chr1-5.excerpt.vcf",
        "snpeff/EML4-ALK_fusion.lumpy.snpeff.vcf",
        "vcf2maf/test_strelka.vcf",
    ],
)
def test_unvalidated_variants_equal_validated_ones(shared_data, name):
    """The loader skips pydantic validation for speed; every variant must still pass it unchanged."""
    variants, _, _ = read_all(shared_data / name, "GRCh38" if "vep.6" in name or "HCC1395" in name else "GRCh37")
    for variant in variants:
        validated = Variant.model_validate(variant.model_dump())
        assert validated == variant
        assert validated.model_dump(exclude_none=True) == variant.model_dump(exclude_none=True)
        assert variant_document(variant) == validated.model_dump(exclude_none=True)
        assert list(variant_document(variant)) == list(validated.model_dump(exclude_none=True))  # same key order


def test_text_vcf_cut_midline_then_bgzipped_is_still_truncated(tmp_path, shared_data):
    """A lab tool may bgzip a file that was already cut: the cut last line is inside the BGZF data."""
    import pysam

    plain = tmp_path / "cut.vcf"
    plain.write_bytes((shared_data / "derived" / "T001-BRCA.grch38.truncated-midline.vcf").read_bytes())
    pysam.tabix_compress(str(plain), str(plain) + ".gz", force=True)
    with pytest.raises(VcfRejected) as rejected:
        with open_vcf(str(plain) + ".gz", "GRCh38", 65536) as reader:
            list(reader.variants())
    assert rejected.value.code == RejectionCode.VCF_TRUNCATED
    assert "record (127)" in rejected.value.message


def test_a_plain_gzip_cut_off_in_transfer_is_truncated_and_a_whole_one_is_not_bgzip(tmp_path):
    whole = tmp_path / "whole.vcf.gz"
    with gzip.open(Path(__file__).resolve().parents[3] / "shared" / "data" / "pcgr" / "T001-COAD.grch38.vcf.gz") \
            as source, gzip.open(whole, "wb") as target:
        shutil.copyfileobj(source, target)
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    for path, code in ((cut, RejectionCode.VCF_TRUNCATED), (whole, RejectionCode.VCF_NOT_BGZIP)):
        with pytest.raises(VcfRejected) as rejected, open_vcf(str(path), "GRCh38", 64 * 1024):
            pass
        assert rejected.value.code == code
