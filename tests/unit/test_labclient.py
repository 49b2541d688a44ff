"""The lab client's pure parts: BGZF conversion, inline vs by-reference results, watch-folder pairing."""

import gzip
import hashlib
import json
import random
from dataclasses import replace
from datetime import date

import pysam
import pytest
from pydantic import ValidationError

from contracts.events import InlineVcf, SequencingResult, VcfReference
from oncorelay.labclient import BGZF_MAGIC, ResultMetadata, as_bgzf, build_result, receipts_topic, results_topic
from oncorelay.watch import ready_pairs
from services.common.settings import Settings

META = ResultMetadata(
    lab="LAB01", case="C1", patient="PSN-0001", specimen_id="S1", specimen_type="tissue", tumor_type="LUAD",
    assay="CGP", genome_build="GRCh38", panel_size_mb=1.9, treating_site="H1", collected=date(2026, 11, 20),
)
HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def test_plain_and_gzip_vcfs_become_bgzf_and_bgzf_is_kept(tmp_path, shared_data):
    plain = tmp_path / "a.vcf"
    plain.write_text(HEADER + "chr1\t100\t.\tA\tT\t.\tPASS\t.\n")
    gz = tmp_path / "b.vcf.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    for source in (plain, gz):
        converted = as_bgzf(source, tmp_path / "spool")
        assert converted.read_bytes()[:4] == BGZF_MAGIC
        assert pysam.VariantFile(str(converted)).fetch is not None
    real = shared_data / "pcgr" / "T001-COAD.grch38.vcf.gz"
    assert as_bgzf(real, tmp_path / "spool") == real


def test_small_vcf_goes_inline_with_its_checksum(tmp_path, shared_data):
    vcf = shared_data / "pcgr" / "T001-COAD.grch38.vcf.gz"
    result = build_result(META, vcf)
    assert isinstance(result.vcf, InlineVcf)
    assert result.vcf.sha256 == hashlib.sha256(vcf.read_bytes()).hexdigest()
    assert result.result_id == f"LAB01-S1-{result.vcf.sha256[:12]}"  # derived, so re-publishing keeps it


def test_large_vcf_goes_by_reference(tmp_path):
    rng = random.Random(7)
    lines = [HEADER] + [f"chr1\t{i * 10 + 1}\t.\tA\t{rng.choice('CGT')}\t{rng.random():.6f}\tPASS\tX={rng.random()}\n"
                        for i in range(60_000)]
    plain = tmp_path / "big.vcf"
    plain.write_text("".join(lines))
    bgzf = as_bgzf(plain, tmp_path)
    assert bgzf.stat().st_size > 525_000
    result = build_result(META, bgzf)
    assert isinstance(result.vcf, VcfReference)
    assert result.vcf.uri == bgzf.resolve().as_uri() and result.vcf.size_bytes == bgzf.stat().st_size
    via_http = build_result(META, bgzf, reference_url_prefix="https://lims.example/vcf/")
    assert via_http.vcf.uri == f"https://lims.example/vcf/{bgzf.name}"


def test_watch_waits_until_files_stop_changing(tmp_path):
    (tmp_path / "r1.vcf").write_text(HEADER)
    (tmp_path / "r1.json").write_text("{}")
    (tmp_path / "lonely.vcf").write_text(HEADER)  # no sidecar: never picked
    sizes: dict = {}
    assert ready_pairs(tmp_path, sizes) == []  # first look: sizes unknown
    assert ready_pairs(tmp_path, sizes) == [(tmp_path / "r1.vcf", tmp_path / "r1.json")]
    (tmp_path / "r1.vcf").write_text(HEADER + "chr1\t1\t.\tA\tT\t.\tPASS\t.\n")  # still being written
    assert ready_pairs(tmp_path, sizes) == []


def test_a_lab_publishes_on_the_shared_topic_or_its_own_and_reads_receipts_there():
    shared, own = Settings(), Settings(publish_own_topic=True)
    assert (results_topic(shared, "LAB-A"), receipts_topic(shared, "LAB-A")) == (
        "oncorelay.lab.results.v1", "oncorelay.lab.receipts.v1")
    assert (results_topic(own, "LAB-A"), receipts_topic(own, "LAB-A")) == (
        "oncorelay.lab.LAB-A.results.v1", "oncorelay.lab.LAB-A.receipts.v1")


def test_lab_topics_must_be_lab_ids_that_can_name_a_topic():
    assert Settings(lab_topics=" LAB-A, LAB.B ,").own_topic_labs() == {"LAB-A", "LAB.B"}
    with pytest.raises(ValueError, match="cannot name a Kafka topic"):
        Settings(lab_topics="LAB-A,LAB:2")


def test_qc_measures_make_a_schema_1_1_result_and_none_keep_1_0(shared_data):
    vcf = shared_data / "pcgr" / "T001-COAD.grch38.vcf.gz"
    assert build_result(META, vcf).schema_version == "1.0"
    with_qc = build_result(replace(META, qc={"tumour_cell_content": 0.3, "median_target_depth": None}), vcf)
    assert (with_qc.schema_version, with_qc.qc.tumour_cell_content, with_qc.qc.median_target_depth) == ("1.1", 0.3, None)


def test_the_assays_copy_number_thresholds_make_a_schema_1_1_result_and_1_0_refuses_them(shared_data):
    vcf = shared_data / "pcgr" / "T001-COAD.grch38.vcf.gz"
    result = build_result(replace(META, amplification_min_copy_number=4.0), vcf)
    assert (result.schema_version, result.assay.amplification_min_copy_number,
            result.assay.deletion_max_copy_number) == ("1.1", 4.0, None)
    document = result.model_dump(mode="json") | {"schema_version": "1.0"}
    with pytest.raises(ValidationError, match="copy-number thresholds are part of schema 1.1"):
        SequencingResult.model_validate_json(json.dumps(document))
