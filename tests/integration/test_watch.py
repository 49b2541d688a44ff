"""The watch folder against the real stack: each dropped VCF is published once and filed by its receipt."""

import json
import shutil

from tests.integration.conftest import SHARED


def _sidecar(result_id: str, case: str) -> dict:
    return {"lab": "LAB01", "case": case, "patient": f"PSN-{case}", "specimen_id": f"SP-{result_id}",
            "specimen_type": "tissue", "tumor_type": "COAD", "assay": "WES", "genome_build": "GRCh38",
            "panel_size_mb": 30.0, "treating_site": "HOSP-A", "collected": "2026-11-21", "result_id": result_id}


def test_watch_files_good_and_bad_vcfs_by_their_receipts(stack, tmp_path):
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    shutil.copy(SHARED / "pcgr" / "T001-COAD.grch38.vcf.gz", outbox / "good.vcf.gz")
    (outbox / "good.json").write_text(json.dumps(_sidecar("R-WATCH-1", "CASE-WATCH-1")))
    shutil.copy(SHARED / "derived" / "T001-BRCA.grch38.truncated-midline.vcf", outbox / "cut.vcf")
    (outbox / "cut.json").write_text(json.dumps(_sidecar("R-WATCH-2", "CASE-WATCH-2")))
    (outbox / "waiting.vcf").write_text("##fileformat=VCFv4.2\n")  # no sidecar yet: left alone

    run = stack.cli("watch", str(outbox), "--once", "--interval", "0.5", "--timeout", "120")
    assert run.returncode == 0, run.stderr

    assert sorted(p.name for p in (outbox / "done").iterdir()) == ["good.json", "good.receipt.json", "good.vcf.gz"]
    assert sorted(p.name for p in (outbox / "rejected").iterdir()) == ["cut.json", "cut.receipt.json", "cut.vcf"]
    assert (outbox / "waiting.vcf").exists()
    good = json.loads((outbox / "done" / "good.receipt.json").read_text())
    bad = json.loads((outbox / "rejected" / "cut.receipt.json").read_text())
    assert (good["status"], good["variant_count"]) == ("accepted", 3313)
    assert [r["code"] for r in bad["reasons"]] == ["vcf_truncated"]
    assert stack.db.results.count_documents({"result_id": "R-WATCH-1", "status": "accepted"}) == 1
