"""Hartwig PURPLE somatic VCFs (real file, hartwigmedical/hmftools): plain gzip (the CLI recompresses it),
consequences in PAVE's IMPACT (not CSQ/ANN), the tumour of an R/T sample pair, and purple.purity.tsv's purity,
MSI and TMB as the lab's own QC, MSI and TMB."""

from pathlib import Path

from oncorelay.labclient import as_bgzf
from oncorelay.purple import purity_summary
from services.ingest.adapters.vcf.loader import open_vcf
from services.ingest.domain.pave import impact_annotation
from services.ingest.domain.sample_fields import pick_tumour_sample

HARTWIG = Path(__file__).resolve().parents[3] / "shared" / "data" / "lab-outputs" / "hartwig-hmftools"
SOMATIC = HARTWIG / "cuppa-TUMOR_SAMPLE" / "TUMOR_SAMPLE.purple.somatic.vcf.gz"


def test_impact_gives_gene_consequence_and_hgvs():
    value = ("EGFR", "ENST00000275493", "missense_variant", "MISSENSE", "false", "c.2369C>T", "p.Thr790Met", "",
             "MISSENSE", "2")
    annotation = impact_annotation(value)
    assert (annotation.gene, annotation.consequence, annotation.hgvsc, annotation.hgvsp) == (
        "EGFR", "missense_variant", "c.2369C>T", "p.Thr790Met")
    assert impact_annotation(("", "", "", "NONE", "false", "", "", "", "NONE", "1")) is None  # intergenic


def test_the_tumour_of_a_hartwig_pair_is_its_t_sample():
    assert pick_tumour_sample(["COLO829v003R", "COLO829v003T"], []) == "COLO829v003T"
    assert pick_tumour_sample(["A1", "B2"], []) is None  # still refused when it cannot be told


def test_the_purple_somatic_vcf_reads_with_its_pave_annotations(tmp_path):
    bgzf = as_bgzf(SOMATIC, tmp_path)  # plain gzip: pysam alone would refuse it
    with open_vcf(str(bgzf), "GRCh37", 64 * 1024) as reader:
        assert reader.tumour_sample == "COLO829v003T" and reader.header_summary["annotation"] == "pave"
        variants = list(reader.variants())
    egfr = next(v for v in variants if v.gene == "EGFR")
    assert (egfr.hgvsp, egfr.consequence, egfr.annotation_source) == ("p.Thr790Met", "missense_variant", "pave")
    assert egfr.vaf is not None and egfr.depth


def test_purity_msi_and_tmb_come_from_purple_purity_tsv():
    summary = purity_summary(HARTWIG / "cuppa-TUMOR_SAMPLE" / "TUMOR_SAMPLE.purple.purity.tsv")
    assert summary == {"tumour_cell_content": 0.99, "msi_status": "MSS", "tmb": 13.7188}
    older = purity_summary(HARTWIG / "orange-test_run" / "purple" / "tumor_sample.purple.purity.tsv")
    assert set(older) <= {"tumour_cell_content", "msi_status", "tmb"} and "tumour_cell_content" in older
