"""The watch folder's own refusals, without a broker: a bad sidecar, a file that is no VCF, an unknown format
each go to rejected/ with a receipt-like explanation; a file still being written waits; when Kafka is away the
files stay for the next scan."""

import asyncio
import json
import shutil
from pathlib import Path

from oncorelay.watch import watch_folder
from services.common.settings import Settings

VCF = Path(__file__).resolve().parents[3] / "shared" / "data" / "pcgr" / "T001-COAD.grch38.vcf.gz"
SIDECAR = {"lab": "LAB01", "case": "C-W", "patient": "PSN-AB12CD34", "specimen_id": "SP-W", "specimen_type": "tissue",
           "tumor_type": "COAD", "assay": "WES", "genome_build": "GRCh38", "panel_size_mb": 30.0,
           "treating_site": "HOSP-A", "collected": "2026-11-21"}


def _scan(folder: Path) -> list[str]:
    said: list[str] = []
    settings = Settings(_env_file=None, kafka_bootstrap="127.0.0.1:1")
    asyncio.run(watch_folder(settings, folder, 0.1, True, 5.0, said.append))
    return said


def _receipt(folder: Path, stem: str) -> dict:
    return json.loads((folder / "rejected" / f"{stem}.receipt.json").read_text())


def test_what_cannot_be_published_is_rejected_with_a_reason_and_the_rest_waits(tmp_path):
    shutil.copy(VCF, tmp_path / "notjson.vcf.gz")
    (tmp_path / "notjson.json").write_text("{lab: LAB01")
    shutil.copy(VCF, tmp_path / "nolab.vcf.gz")
    (tmp_path / "nolab.json").write_text(json.dumps({k: v for k, v in SIDECAR.items() if k != "lab"}))
    shutil.copy(VCF, tmp_path / "badpatient.vcf.gz")
    (tmp_path / "badpatient.json").write_text(json.dumps({**SIDECAR, "patient": "Jane Doe 1970-01-01"}))
    (tmp_path / "report.vcf.gz").write_bytes(b"%PDF-1.7 not a vcf")
    (tmp_path / "report.json").write_text(json.dumps(SIDECAR))
    (tmp_path / "combined.tsv").write_text("[Analysis Details]\r\n")
    (tmp_path / "combined.json").write_text(json.dumps(SIDECAR))
    shutil.copy(VCF, tmp_path / "good.vcf.gz")
    (tmp_path / "good.json").write_text(json.dumps({**SIDECAR, "result_id": "R-W-GOOD"}))
    (tmp_path / "nosidecar.vcf").write_text("##fileformat=VCFv4.2\n")

    said = " ".join(" ".join(_scan(tmp_path)).split())

    assert [r["code"] for r in _receipt(tmp_path, "notjson")["reasons"]] == ["malformed_json"]
    assert [r["code"] for r in _receipt(tmp_path, "nolab")["reasons"]] == ["schema_violation"]
    assert "lab" in _receipt(tmp_path, "nolab")["reasons"][0]["message"]
    assert [r["code"] for r in _receipt(tmp_path, "badpatient")["reasons"]] == ["schema_violation"]
    assert "starts with '%PDF" in _receipt(tmp_path, "report")["reasons"][0]["message"]
    combined = _receipt(tmp_path, "combined")
    assert combined["status"] == "rejected" and "not a VCF" in combined["message"]
    assert sorted(p.name for p in (tmp_path / "rejected").iterdir() if p.name.startswith("combined")) == [
        "combined.json", "combined.receipt.json", "combined.tsv"]
    # the good pair could not reach Kafka: it stays for the next scan, and so does a VCF without a sidecar
    assert (tmp_path / "good.vcf.gz").exists() and (tmp_path / "good.json").exists()
    assert "cannot reach Kafka" in said and (tmp_path / "nosidecar.vcf").exists()


def test_a_file_still_being_written_is_not_picked_up(tmp_path):
    growing = tmp_path / "growing.vcf.gz"
    growing.write_bytes(VCF.read_bytes()[:1000])
    (tmp_path / "growing.json").write_text(json.dumps(SIDECAR))

    async def grow():
        for _ in range(20):  # writes more while the watcher looks
            await asyncio.sleep(0.05)
            with growing.open("ab") as handle:
                handle.write(b"x" * 100)

    async def both():
        settings = Settings(_env_file=None, kafka_bootstrap="127.0.0.1:1")
        said: list[str] = []
        await asyncio.gather(grow(), watch_folder(settings, tmp_path, 0.1, True, 5.0, said.append))
        return said

    assert asyncio.run(both()) == [] and growing.exists() and not (tmp_path / "rejected").exists()
