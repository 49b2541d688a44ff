"""The lab-facing HTTP door on the real stack: a lab without a Kafka client publishes a result with its token
and reads its receipt; another lab's token can neither publish as it nor read it (crafted requests)."""

import json
from datetime import date

import httpx

from oncorelay.labclient import ResultMetadata, as_bgzf, build_result
from tests.integration.conftest import SHARED, wait_until

COAD = SHARED / "pcgr" / "T001-COAD.grch38.vcf.gz"


def _token(stack, lab: str) -> str:
    run = stack.cli("labs", "token", lab, "--label", "pipeline host")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)["token"]


def test_a_lab_publishes_over_http_and_reads_only_its_own_receipts(stack, tmp_path):
    lab_token = _token(stack, "LAB01")
    other = stack.cli("labs", "create", f"LAB-HTTP-{stack.run_id}", "--site", "HOSP-A")
    assert other.returncode == 0, other.stderr
    other_token = _token(stack, f"LAB-HTTP-{stack.run_id}")
    assert stack.cli("labs", "token", "NO-SUCH-LAB").returncode == 1

    result_id = f"R-HTTP-{stack.run_id}"
    meta = ResultMetadata(lab="LAB01", case=f"CASE-HTTP-{stack.run_id}", patient=f"PSN-HT{stack.run_id}1",
                          specimen_id="SP-HTTP-1", specimen_type="tissue", tumor_type="COAD", assay="WES",
                          genome_build="GRCh38", panel_size_mb=30.0, treating_site="HOSP-A", result_id=result_id,
                          collected=date(2026, 11, 20))
    body = build_result(meta, as_bgzf(COAD, tmp_path)).model_dump_json()
    door = httpx.Client(base_url=f"http://127.0.0.1:{stack.services.lab_api_port}", timeout=30)
    json_type = {"Content-Type": "application/json"}

    forged = door.post("/api/v1/results", content=body, headers={**json_type, "Authorization": f"Bearer {other_token}"})
    assert forged.status_code == 403 and forged.json()["error"] == "lab_mismatch"
    assert door.post("/api/v1/results", content=body, headers=json_type).status_code == 401

    queued = door.post("/api/v1/results", content=body, headers={**json_type, "Authorization": f"Bearer {lab_token}"})
    assert queued.status_code == 202 and queued.json()["result_id"] == result_id

    def receipt():
        answer = door.get(f"/api/v1/results/{result_id}", headers={"Authorization": f"Bearer {lab_token}"})
        return answer.json() if answer.status_code == 200 else None

    status = wait_until(receipt, 60, "the receipt over HTTP")
    assert status["status"] == "accepted" and status["receipts"][-1]["variant_count"] == 3313
    peek = door.get(f"/api/v1/results/{result_id}", headers={"Authorization": f"Bearer {other_token}"})
    assert peek.status_code == 404
    assert stack.db.results.count_documents({"result_id": result_id, "status": "accepted"}) == 1
    assert stack.db.lab_tokens.find_one({"_id": lab_token}) is None  # only the hash is stored
