"""Native lab outputs published with the CLI through the real stack (Kafka, FerretDB, ingest, annotate) as the
labs' pipelines write them (../shared/data/lab-outputs/): Illumina TSO500 (Pisces VF), Thermo Fisher Oncomine
(FUNC, CNV), Hartwig PURPLE (plain gzip, PAVE IMPACT, purple.purity.tsv); each reaches the case view."""

import json

import pytest

from tests.integration.conftest import SHARED, wait_until

OUTPUTS = SHARED / "lab-outputs"
FORMATS = {
    "tso500": (OUTPUTS / "tso500-fnl-mocha-moma" / "W313718105511_cfNA.vcf", "plasma", "LUAD", "TSO500 ctDNA", 1.9),
    "oncomine": (OUTPUTS / "oncomine-fnl-mocha-moma" / "oca.vcf", "tissue", "LUAD", "Oncomine Comprehensive v3", 1.7),
    "purple": (OUTPUTS / "hartwig-hmftools" / "cuppa-TUMOR_SAMPLE" / "TUMOR_SAMPLE.purple.somatic.vcf.gz", "tissue",
               "SKCM", "Hartwig WGS", 3000.0),
}


def _publish(stack, name: str) -> tuple[str, dict]:
    path, specimen_type, tumour_type, assay, territory = FORMATS[name]
    case, result_id = f"CASE-FMT-{name}-{stack.run_id}", f"R-FMT-{name}-{stack.run_id}"
    run = stack.cli("publish", str(path), "--lab", "LAB01", "--case", case, "--patient", f"PSN-FMT{stack.run_id}",
                    "--specimen-id", f"SP-{result_id}", "--specimen-type", specimen_type, "--tumor-type", tumour_type,
                    "--assay", assay, "--genome-build", "GRCh37", "--panel-size-mb", str(territory),
                    "--treating-site", "HOSP-A", "--result-id", result_id, "--collected", "2026-11-20",
                    "--wait", "--timeout", "120")
    assert run.returncode == 0, run.stdout + run.stderr
    receipt = json.loads(run.stdout)
    assert receipt["status"] == "accepted" and receipt["variant_count"] > 0, receipt
    wait_until(lambda: stack.db.interpretations.find_one({"case_id": case}), 90, f"{name} interpreted")
    shown = stack.cli("case", "show", case, "--json")
    assert shown.returncode == 0, shown.stderr
    return case, json.loads(shown.stdout)


@pytest.mark.parametrize("name", ["tso500", "oncomine"])
def test_a_vendor_vcf_reaches_the_case_view_with_its_annotations(stack, name):
    case, view = _publish(stack, name)
    result = view["results"][0]
    assert result["result_key"] == f"R-FMT-{name}-{stack.run_id}@1" and "findings" in result
    header = stack.db.results.find_one({"case_id": case})["vcf_header"]
    assert header["annotation"] == ("oncomine" if name == "oncomine" else None)


def test_a_purple_vcf_carries_the_labs_purity_msi_and_tmb_into_the_interpretation(stack):
    case, view = _publish(stack, "purple")
    stored = stack.db.results.find_one({"case_id": case})
    assert stored["qc"]["tumour_cell_content"] == 0.99 and stored["msi_status"] == "MSS"
    assert stored["tmb_reported"] == pytest.approx(13.7188) and stored["vcf_header"]["annotation"] == "pave"
    assert stored["tumour_sample"] == "COLO829v003T"
    result = view["results"][0]
    assert result["tmb"]["lab_reported"] == pytest.approx(13.7188) and result["msi_status"] == "MSS"
    assert any(f["gene"] == "EGFR" and "790" in f["alteration"] for f in result["findings"])


def test_labs_report_shows_the_labs_results_per_assay(stack):
    if not stack.db.results.find_one({"result_id": f"R-FMT-tso500-{stack.run_id}"}):
        _publish(stack, "tso500")
    run = stack.cli("labs", "report", "LAB01", "--json")
    assert run.returncode == 0, run.stderr
    rows = {row["assay"]: row for row in json.loads(run.stdout)}
    tso500 = rows["TSO500 ctDNA"]
    assert tso500["accepted"] >= 1 and tso500["median_variants"] > 0
    assert {"median_tmb_per_mb", "median_vaf", "non_informative_share", "top_reasons"} <= set(tso500)
    table = stack.cli("labs", "report", "LAB01", COLUMNS="220")  # wide enough that no assay name wraps
    assert table.returncode == 0 and "TSO500 ctDNA" in table.stdout
