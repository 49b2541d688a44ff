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


ERBB2_FIVE_COPIES = b"""##fileformat=VCFv4.2
##reference=GRCh38
##contig=<ID=chr17,length=83257441>
##ALT=<ID=DUP,Description="Duplication">
##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type of structural variant">
##INFO=<ID=END,Number=1,Type=Integer,Description="End position">
##INFO=<ID=CN,Number=1,Type=Float,Description="Copy number">
##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: Allele|Consequence|SYMBOL|HGVSc|HGVSp|CANONICAL">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO
chr17\t39687914\t.\tN\t<DUP>\t.\tPASS\tSVTYPE=DUP;END=39730426;CN=5;CSQ=DUP|copy_number_increase|ERBB2|||YES
"""


def test_an_amplification_is_called_at_the_copy_number_the_lab_says_its_assay_uses(stack, tmp_path):
    """ERBB2 at 5 copies in breast cancer: below the default 6 copies it is no finding; with the assay's
    threshold of 4 (schema 1.1 assay.amplification_min_copy_number) it is an amplification, Tier IA."""
    calls = {}
    for name, extra in (("default", ()), ("assay4", ("--amplification-min-cn", "4"))):
        vcf = tmp_path / f"erbb2-{name}.vcf"
        vcf.write_bytes(ERBB2_FIVE_COPIES)
        case = f"CASE-CN-{name}-{stack.run_id}"
        run = stack.cli("publish", str(vcf), "--lab", "LAB01", "--case", case, "--patient",
                        f"PSN-CN-{name}-{stack.run_id}-1", "--specimen-id", f"SP-CN-{name}", "--specimen-type",
                        "tissue", "--tumor-type", "BRCA", "--assay", "PANEL-1", "--genome-build", "GRCh38",
                        "--panel-size-mb", "1.2", "--treating-site", "HOSP-A", "--result-id",
                        f"R-CN-{name}-{stack.run_id}", *extra, "--wait", "--timeout", "120")
        assert run.returncode == 0, run.stdout + run.stderr
        wait_until(lambda case=case: stack.db.interpretations.find_one({"case_id": case}), 90, "the interpretation")
        view = json.loads(stack.cli("case", "show", case, "--json").stdout)
        calls[name] = [(f["gene"], f["alteration"], f["amp_tier"], f["amp_level"])
                       for r in view["results"] for f in r["findings"] if f["amp_tier"] in {"I", "II"}]
    assert calls == {"default": [], "assay4": [("ERBB2", "amplification", "I", "A")]}
