"""The MTB and operator commands against the real database: case show, kb import-civic, rules replay."""

import json
import urllib.request

import yaml

from services.annotate.domain.triage import RULES_PATH
from services.common import packed
from tests.integration.conftest import SHARED, wait_until
from tests.integration.test_flow import COAD, _publish_args
from tests.support.civic_server import civic_downloads


def _annotated_case(stack, case: str, result_id: str) -> None:
    run = stack.cli(*_publish_args(COAD, case, result_id))
    assert run.returncode == 0, run.stderr
    wait_until(lambda: stack.db.interpretations.find_one({"case_id": case}), 60, "interpretation stored")


def test_case_show_json_gives_what_the_mtb_needs(stack):
    _annotated_case(stack, "CASE-CLI-1", "R-CLI-1")
    run = stack.cli("case", "show", "CASE-CLI-1", "--json")
    assert run.returncode == 0, run.stderr
    view = json.loads(run.stdout)
    result = view["results"][0]
    braf = next(f for f in result["findings"] if f["gene"] == "BRAF")
    assert (braf["amp_tier"], braf["amp_level"]) == ("I", "A")
    assert braf["escat_tier"] and braf["oncogenicity"] == "oncogenic"
    assert braf["therapies_sensitive"] and braf["citations"]
    # The TCGA VCF carries no consequence annotation, so TMB is reported as not computable (never as 0).
    assert result["tmb"]["tmb_per_mb"] is None and "no consequence annotation" in result["tmb"]["not_computable"]
    assert result["triage"]["needs_review"] and result["triage"]["reasons"]
    assert result["kb_version"].startswith("builtin-") and result["ruleset_version"]


def test_case_show_refuses_an_unknown_case(stack):
    run = stack.cli("case", "show", "NO-SUCH-CASE")
    assert run.returncode == 1 and "no case 'NO-SUCH-CASE'" in run.stderr


def test_rules_replay_shows_which_alerts_a_new_rule_set_would_change(stack, tmp_path):
    _annotated_case(stack, "CASE-CLI-2", "R-CLI-2")
    rules = yaml.safe_load(RULES_PATH.read_text())
    rules["version"] = "test-no-tier-rules"
    rules["rules"] = [r for r in rules["rules"] if r["code"] not in ("tier_i_finding", "tier_ii_finding", "tmb_high")]
    candidate = tmp_path / "rules.yaml"
    candidate.write_text(yaml.safe_dump(rules))

    run = stack.cli("rules", "replay", str(candidate), "--json")
    assert run.returncode == 0, run.stderr
    changes = {c["case_id"]: c for c in json.loads(run.stdout)}
    assert "CASE-CLI-2" in changes
    assert changes["CASE-CLI-2"]["before"]["needs_review"] and not changes["CASE-CLI-2"]["after"]["needs_review"]


JAK2_PV = b"""##fileformat=VCFv4.2
##reference=GRCh38
##contig=<ID=chr9,length=138394717>
##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: Allele|Consequence|SYMBOL|HGVSc|HGVSp|CANONICAL">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR
chr9\t5073770\t.\tG\tT\t50\tPASS\tCSQ=T|missense_variant|JAK2|ENST00000381652.4:c.1849G>T|ENSP00000371067.4:p.Val617Phe|YES\tGT:AF\t0/1:0.31
"""


def test_an_import_that_changes_a_stored_call_re_tiers_the_case_and_alerts_with_both_calls(stack, tmp_path):
    """JAK2 V617F in polycythaemia vera has no built-in row (tier III, report-ready); CIViC 2021 holds level B
    evidence for it. After the import annotate re-tiers the stored result and raises a new alert."""
    vcf = tmp_path / "jak2.vcf"
    vcf.write_bytes(JAK2_PV)
    case = f"CASE-RETIER-{stack.run_id}"
    run = stack.cli("publish", str(vcf), "--lab", "LAB01", "--case", case, "--patient", f"PSN-RT-{stack.run_id}-7",
                    "--specimen-id", "SP-RT-1", "--specimen-type", "tissue", "--tumor-type", "PV", "--assay", "PANEL-1",
                    "--genome-build", "GRCh38", "--panel-size-mb", "1.2", "--treating-site", "HOSP-A",
                    "--result-id", f"R-RETIER-{stack.run_id}", "--wait", "--timeout", "120")
    assert run.returncode == 0, run.stdout + run.stderr
    wait_until(lambda: stack.db.cases.find_one({"_id": case, "state": "report_ready"}), 90, "the case report-ready")
    assert stack.db.alerts.count_documents({"case_id": case}) == 0

    imported = stack.cli("kb", "import-civic", str(SHARED / "civic"), timeout=300)
    assert imported.returncode == 0, imported.stderr
    [alert] = wait_until(lambda: list(stack.db.alerts.find({"case_id": case})), 180, "the re-tier alert")
    summaries = {r["code"]: r["summary"] for r in alert["reasons"]}
    assert "JAK2 V617F: III -> IB" in summaries["knowledge_changed"], summaries
    assert "+civic-01-Aug-2021-" in summaries["knowledge_changed"] and "tier_i_finding" in summaries
    stored = packed.unpacked(stack.db.interpretations.find_one({"_id": f"R-RETIER-{stack.run_id}@1"}), "interpretation")
    assert stored["interpretation"]["kb_version"] == alert["kb_version"]
    [entry] = stack.db.audit.find({"case_id": case, "action": "result_retiered"})
    assert entry["detail"]["calls"] == ["JAK2 V617F: III -> IB"]


def test_kb_import_civic_reports_what_changed_and_annotate_uses_it(stack):
    run = stack.cli("kb", "import-civic", str(SHARED / "civic"), timeout=300)
    assert run.returncode == 0, run.stderr
    assert "01-Aug-2021" in run.stderr and "3650" in run.stderr  # the release and its evidence items
    version = stack.cli("kb", "version").stdout.strip()
    assert "+civic-01-Aug-2021-" in version

    again = stack.cli("kb", "import-civic", str(SHARED / "civic"), timeout=300)
    assert "unchanged records: 5137" in again.stderr  # 3,650 evidence + 18 assertions + 1,469 variants

    def annotate_uses_it():
        with urllib.request.urlopen(stack.services.url("annotate", "/metrics"), timeout=5) as response:
            return version in response.read().decode()

    wait_until(annotate_uses_it, 90, "annotate to load the imported knowledge base")  # it checks every 30 s
    _annotated_case(stack, "CASE-CLI-3", "R-CLI-3")
    stored = packed.unpacked(stack.db.interpretations.find_one({"case_id": "CASE-CLI-3"}), "interpretation")
    assert stored["interpretation"]["kb_version"] == version


def test_kb_update_downloads_a_release_checks_and_imports_it(stack):
    """`oncorelay kb update` against a local server laid out like CIViC's downloads, serving the shared 2021
    release (the one the import test above stored, so the knowledge other tests see is unchanged)."""
    with civic_downloads(SHARED / "civic") as url:
        run = stack.cli("kb", "update", "--release", "01-Aug-2021", timeout=300, ONCORELAY_CIVIC_DOWNLOADS_URL=url)
        missing = stack.cli("kb", "update", "--release", "01-Jan-1999", ONCORELAY_CIVIC_DOWNLOADS_URL=url)
    assert run.returncode == 0, run.stderr
    assert "downloaded CIViC 01-Aug-2021: 01-Aug-2021-ClinicalEvidenceSummaries.tsv" in run.stderr
    assert "CIViC release 01-Aug-2021 -> knowledge base" in run.stderr and "unchanged records: 5137" in run.stderr
    assert "+civic-01-Aug-2021-" in stack.cli("kb", "version").stdout
    assert missing.returncode == 1
    assert "answered HTTP 404; check the release name" in missing.stderr and "knowledge base is unchanged" in missing.stderr
