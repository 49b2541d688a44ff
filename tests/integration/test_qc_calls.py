"""QC-aware calls on the real stack: a result whose reported QC fails is non-informative, raises the routine
'consider re-testing' alert, and the case view says why; a passing one with no finding is report-ready."""

import json

from tests.integration.conftest import wait_until

VUS_ONLY = b"""##fileformat=VCFv4.2
##reference=GRCh38
##contig=<ID=chr1,length=248956422>
##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: Allele|Consequence|SYMBOL|HGVSc|HGVSp|CANONICAL">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR
chr1\t1000000\t.\tC\tT\t50\tPASS\tCSQ=T|missense_variant|OR4F5|ENST00000641515.2:c.100C>T|ENSP00000493376.2:p.Arg34Trp|YES\tGT:AF\t0/1:0.12
"""


def _publish(stack, tmp_path, name: str, *qc: str):
    vcf = tmp_path / f"{name}.vcf"
    vcf.write_bytes(VUS_ONLY)
    case = f"CASE-QC-{name}-{stack.run_id}"
    run = stack.cli("publish", str(vcf), "--lab", "LAB01", "--case", case, "--patient", f"PSN-QC-{name}-{stack.run_id}-1",
                    "--specimen-id", f"SP-QC-{name}", "--specimen-type", "tissue", "--tumor-type", "LUAD",
                    "--assay", "PANEL-1", "--genome-build", "GRCh38", "--panel-size-mb", "1.2",
                    "--treating-site", "HOSP-A", "--result-id", f"R-QC-{name}-{stack.run_id}", *qc,
                    "--wait", "--timeout", "120")
    assert run.returncode == 0, run.stdout + run.stderr
    return case


def test_a_result_whose_qc_fails_is_non_informative_and_alerts_for_re_testing(stack, tmp_path):
    case = _publish(stack, tmp_path, "low", "--tumour-content", "0.08", "--median-depth", "420")
    wait_until(lambda: stack.db.cases.find_one({"_id": case, "state": "alerted"}), 90, "the case alerted")
    [alert] = list(stack.db.alerts.find({"case_id": case}))
    assert alert["priority"] == "routine"
    assert [r["summary"] for r in alert["reasons"]] == [
        "Non-informative result (tumour cell content 8% is below 20%): consider re-testing"]
    stored = stack.db.results.find_one({"case_id": case})
    assert stored["qc"] == {"tumour_cell_content": 0.08, "median_target_depth": 420.0, "ctdna_tumour_fraction": None,
                            "limit_of_detection_vaf": None, "lab_status": None}
    shown = stack.cli("case", "show", case)
    assert shown.returncode == 0, shown.stderr
    assert "QC: NON-INFORMATIVE - tumour cell content 8% is below 20%" in shown.stdout
    view = json.loads(stack.cli("case", "show", case, "--json").stdout)
    assert view["results"][0]["qc"]["informative"] is False


def test_a_result_that_passes_qc_with_no_finding_is_report_ready(stack, tmp_path):
    case = _publish(stack, tmp_path, "good", "--tumour-content", "0.55", "--lod", "0.05")
    wait_until(lambda: stack.db.cases.find_one({"_id": case, "state": "report_ready"}), 90, "the case report-ready")
    assert stack.db.alerts.count_documents({"case_id": case}) == 0
    assert "QC: passed (limit of detection 5%)" in stack.cli("case", "show", case).stdout
