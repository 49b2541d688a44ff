"""The whole flow on the real broker and database: a lab's VCF in, an MTB alert out."""

import gzip
import json
import shutil

from contracts import topics
from oncorelay.exits import Exit
from tests.integration.conftest import SHARED, wait_until
from tests.support.kafka import produce, read_all

COAD = SHARED / "pcgr" / "T001-COAD.grch38.vcf.gz"  # TCGA colorectal tumour incl. BRAF c.1799T>A (chr7:140753336 A>T)


def _publish_args(vcf, case, result_id, **extra):
    args = [
        "publish", str(vcf), "--lab", "LAB01", "--case", case, "--patient", f"PSN-{case}",
        "--specimen-id", f"SP-{result_id}", "--specimen-type", extra.pop("specimen_type", "tissue"),
        "--tumor-type", extra.pop("tumor_type", "COAD"), "--assay", "WES-TCGA", "--genome-build", "GRCh38",
        "--panel-size-mb", "30", "--treating-site", "HOSP-A", "--result-id", result_id,
        "--collected", "2026-11-20", "--wait", "--timeout", "120",
    ]
    return args


def test_real_vcf_published_with_the_cli_reaches_an_alert(stack):
    run = stack.cli(*_publish_args(COAD, "CASE-FLOW-1", "R-FLOW-1"))
    assert run.returncode == 0, run.stderr
    receipt = json.loads(run.stdout)
    assert receipt["status"] == "accepted" and receipt["variant_count"] == 3313

    case = wait_until(lambda: stack.db.cases.find_one({"_id": "CASE-FLOW-1", "state": "alerted"}), 60, "case alerted")
    assert [step["stage"] for step in case["timeline"]][:3] == ["received", "ingested", "annotated"]
    alerts = list(stack.db.alerts.find({"case_id": "CASE-FLOW-1"}))
    assert len(alerts) == 1
    delivered = wait_until(lambda: stack.receiver.alerts_for_case("CASE-FLOW-1"), 30, "webhook delivery")
    assert len(delivered) == 1
    assert any(f["gene"] == "BRAF" for f in delivered[0]["findings"])
    assert delivered[0]["alert_id"] == alerts[0]["_id"]


def test_republishing_a_result_duplicates_nothing(stack):
    first = stack.cli(*_publish_args(COAD, "CASE-FLOW-2", "R-FLOW-2"))
    assert first.returncode == 0, first.stderr
    alert = wait_until(lambda: stack.db.alerts.find_one({"case_id": "CASE-FLOW-2"}), 60, "first alert")
    wait_until(lambda: stack.receiver.alerts_for_case("CASE-FLOW-2"), 30, "first delivery")
    chunks_before = stack.db.variants.count_documents({"result_key": "R-FLOW-2@1"})

    again = stack.cli(*_publish_args(COAD, "CASE-FLOW-2", "R-FLOW-2"))
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["status"] == "accepted"

    assert stack.db.cases.count_documents({"_id": "CASE-FLOW-2"}) == 1
    assert stack.db.results.count_documents({"result_id": "R-FLOW-2"}) == 1
    assert stack.db.variants.count_documents({"result_key": "R-FLOW-2@1"}) == chunks_before
    assert stack.db.alerts.count_documents({"case_id": "CASE-FLOW-2"}) == 1
    assert stack.receiver.deliveries_of(alert["_id"]) == 1


def test_truncated_vcf_is_rejected_to_the_dlq_with_a_receipt(stack):
    bad = SHARED / "derived" / "T001-BRCA.grch38.truncated-midline.vcf"
    result_id = f"R-FLOW-3-{stack.run_id}"
    run = stack.cli(*_publish_args(bad, "CASE-FLOW-3", result_id, tumor_type="BRCA"))
    assert run.returncode == 1
    receipt = json.loads(run.stdout)
    assert receipt["status"] == "rejected"
    assert [r["code"] for r in receipt["reasons"]] == ["vcf_truncated"]

    dead = [value for key, value in read_all(stack.env["ONCORELAY_KAFKA_BOOTSTRAP"], topics.LAB_RESULTS_DLQ)
            if key == result_id.encode()]
    assert len(dead) == 1 and dead[0]["reasons"][0]["code"] == "vcf_truncated"
    assert stack.db.results.count_documents({"result_id": result_id, "status": "accepted"}) == 0
    assert stack.db.variants.count_documents({"result_key": f"{result_id}@1"}) == 0


def test_a_plain_gzip_cut_off_in_transfer_gets_a_warning_a_receipt_and_its_own_exit_status(stack, tmp_path):
    whole = tmp_path / "whole.vcf.gz"
    with gzip.open(COAD) as source, gzip.open(whole, "wb") as target:  # a lab's plain gzip (not BGZF)
        shutil.copyfileobj(source, target)
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result_id = f"R-FLOW-CUT-{stack.run_id}"
    run = stack.cli(*_publish_args(cut, "CASE-FLOW-5", result_id))
    assert run.returncode == Exit.REJECTED, run.stderr
    assert "cut off in transfer" in " ".join(run.stderr.split()) and "Aborted" not in run.stderr
    receipt = json.loads(run.stdout)
    assert receipt["status"] == "rejected" and [r["code"] for r in receipt["reasons"]] == ["vcf_truncated"]
    dead = [v for k, v in read_all(stack.env["ONCORELAY_KAFKA_BOOTSTRAP"], topics.LAB_RESULTS_DLQ)
            if k == result_id.encode()]
    assert len(dead) == 1 and dead[0]["reasons"][0]["code"] == "vcf_truncated"
    listed = stack.cli("results", "list", "--lab", "LAB01", "--status", "rejected", "--json")
    assert listed.returncode == 0, listed.stderr
    mine = [r for r in json.loads(listed.stdout) if r["result_id"] == result_id]
    assert [r["code"] for r in mine[0]["reasons"]] == ["vcf_truncated"] and mine[0]["status"] == "rejected"
    shown = stack.cli("results", "show", result_id)
    assert shown.returncode == 0 and json.loads(shown.stdout)[0]["reasons"][0]["code"] == "vcf_truncated"
    assert stack.cli("results", "show", "NO-SUCH-RESULT").returncode == 1
    no_wait = [a for a in _publish_args(cut, "CASE-FLOW-5", f"{result_id}-2") if a != "--wait"]
    assert stack.cli(*no_wait).returncode == Exit.DAMAGED_FILE  # published for the record, the file is bad


def test_malformed_json_is_kept_and_the_service_goes_on(stack):
    bootstrap = stack.env["ONCORELAY_KAFKA_BOOTSTRAP"]
    key = f"R-FLOW-4-{stack.run_id}".encode()
    produce(bootstrap, topics.LAB_RESULTS, key, b'{"schema_version": "1.0", "result_id": ')
    run = stack.cli(*_publish_args(COAD, "CASE-FLOW-5", "R-FLOW-5"))
    assert run.returncode == 0, run.stderr

    dead = [value for k, value in read_all(bootstrap, topics.LAB_RESULTS_DLQ) if k == key]
    assert len(dead) == 1 and dead[0]["reasons"][0]["code"] == "malformed_json"
    assert dead[0]["original_base64"]  # the original bytes are kept
    receipts = [value for k, value in read_all(bootstrap, topics.LAB_RECEIPTS) if k == key]
    assert receipts and receipts[0]["status"] == "rejected"
