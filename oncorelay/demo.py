"""`make demo`: publish example results to the running stack and show receipts, cases and alerts.

Examples (demo/data/ is synthetic demonstration data; the TCGA colorectal VCF is real, read from
../shared/data when that folder is beside the repository):
  1. a colorectal tumour with BRAF V600E              -> tier I finding, MTB review
  2. an ovarian tumour, BRCA1 frameshift at VAF 0.48  -> possible germline finding, referral
  3. a plasma series of a lung adenocarcinoma patient on osimertinib: EGFR L858R at baseline,
     undetected on treatment, back with EGFR C797S    -> molecular relapse + emergent resistance (urgent)
  4. a VCF cut off in the middle of a record          -> rejected, with a receipt and a DLQ record
"""

import asyncio
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pymongo import MongoClient
from rich.console import Console
from rich.table import Table

from contracts.registry import Lab
from oncorelay.labclient import ReceiptWatcher, ResultMetadata, as_bgzf, build_result, publish
from services.common.labs import registration
from services.common.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "demo" / "data"
SHARED_COAD = REPO.parent / "shared" / "data" / "pcgr" / "T001-COAD.grch38.vcf.gz"
WEBHOOK_PORT = 8199
DEMO_LAB = Lab(lab_id="LAB-DEMO", site_ids=["HOSP-DEMO"], name="oncorelay demo lab")
console = Console()


def _meta(case: str, patient: str, specimen: str, kind: str, tumour: str, collected: date, **extra) -> ResultMetadata:
    fields = {"assay": "CGP-500 (demo)", "panel_size_mb": 1.9, **extra}
    return ResultMetadata(
        lab=DEMO_LAB.lab_id, case=case, patient=patient, specimen_id=specimen, specimen_type=kind, tumor_type=tumour,
        genome_build="GRCh38", treating_site=DEMO_LAB.site_ids[0], collected=collected, result_id=f"DEMO-{specimen}",
        **fields,
    )


def examples(work: Path) -> list[tuple[str, Path, ResultMetadata]]:
    """(label, VCF, metadata) of every example, in publishing order."""
    truncated = work / "truncated.vcf"
    text = (DATA / "germline-candidate.vcf").read_text()
    truncated.write_text(text[: text.rindex("\t0/1")])  # cut inside the last record, as a failed copy would
    items = []
    if SHARED_COAD.exists():
        items.append(("tier I finding (real TCGA colorectal VCF)", SHARED_COAD,
                      _meta("DEMO-CRC-1", "PSN-DEMO-0001", "CRC1-T", "tissue", "COAD", date(2026, 11, 2),
                            assay="WES (TCGA)", panel_size_mb=30.0, tumor_only=False)))
    items += [
        ("possible germline finding", DATA / "germline-candidate.vcf",
         _meta("DEMO-OV-2", "PSN-DEMO-0002", "OV2-T", "tissue", "HGSOC", date(2026, 11, 9))),
        ("plasma baseline", DATA / "plasma-1-baseline.vcf",
         _meta("DEMO-LUAD-3", "PSN-DEMO-0003", "LU3-P1", "plasma", "LUAD", date(2026, 6, 1))),
        ("plasma on osimertinib", DATA / "plasma-2-response.vcf",
         _meta("DEMO-LUAD-3", "PSN-DEMO-0003", "LU3-P2", "plasma", "LUAD", date(2026, 8, 3), therapies=("osimertinib",))),
        ("plasma at progression", DATA / "plasma-3-relapse.vcf",
         _meta("DEMO-LUAD-3", "PSN-DEMO-0003", "LU3-P3", "plasma", "LUAD", date(2026, 10, 26), therapies=("osimertinib",))),
        ("truncated VCF", truncated,
         _meta("DEMO-BAD-4", "PSN-DEMO-0004", "BAD4-T", "tissue", "BRCA", date(2026, 11, 20))),
    ]
    return items


class DemoReceiver:
    """Plays the hospital's webhook endpoint on 127.0.0.1:8199 and keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                received.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        try:
            self.server = ThreadingHTTPServer(("127.0.0.1", WEBHOOK_PORT), Handler)
        except OSError:
            self.server = None
            return
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


async def publish_all(items) -> list:
    settings = load_settings()
    receipts = []
    spool = REPO / ".infra" / "demo-spool"
    for label, vcf, meta in items:
        result = build_result(meta, as_bgzf(vcf, spool))
        watcher = ReceiptWatcher(settings, result.lab_id)
        await watcher.start()
        try:
            with console.status(f"publishing {label} ({vcf.name})"):
                await publish(settings, [result])
                receipt = await watcher.wait_for(result.result_id, result.result_version, 120)
        finally:
            await watcher.stop()
        receipts.append((label, receipt))
        console.print(f"  {label}: [bold]{receipt.status}[/bold]")
    return receipts


def settle(db, case_ids: list[str], timeout_s: float = 90) -> None:
    """Wait until every case has reached a resting state (alerted, report-ready or non-informative)."""
    resting = {"alerted", "report_ready", "non_informative", "acknowledged", "decided"}
    deadline = time.monotonic() + timeout_s
    with console.status("waiting for annotate and notify"):
        while time.monotonic() < deadline:
            states = {c["_id"]: c.get("state") for c in db.cases.find({"_id": {"$in": case_ids}})}
            if len(states) == len(case_ids) and all(s in resting for s in states.values()):
                return
            time.sleep(0.3)


def show(db, receipts, receiver: DemoReceiver) -> None:
    table = Table(title="Receipts sent to the lab")
    for column in ("example", "result", "status", "message"):
        table.add_column(column)
    for label, receipt in receipts:
        colour = "green" if receipt.status == "accepted" else "red"
        table.add_row(label, receipt.result_id, f"[{colour}]{receipt.status}[/{colour}]", receipt.message)
    console.print(table)

    case_ids = sorted({r.case_id for _, r in receipts if r.status == "accepted"})
    table = Table(title="Cases (MongoDB `cases`)")
    for column in ("case", "tumour", "state", "timeline"):
        table.add_column(column)
    for case in db.cases.find({"_id": {"$in": case_ids}}).sort("_id"):
        steps = " > ".join(dict.fromkeys(step["stage"] for step in case.get("timeline", [])))
        table.add_row(case["_id"], case.get("tumor_type", ""), case.get("state", ""), steps)
    console.print(table)

    table = Table(title="MTB alerts (MongoDB `alerts`)")
    for column in ("case", "result", "priority", "why"):
        table.add_column(column)
    for alert in db.alerts.find({"case_id": {"$in": case_ids}}).sort([("case_id", 1), ("result_version", 1)]):
        why = "\n".join(reason["summary"] for reason in alert["reasons"])
        colour = "red" if alert["priority"] == "urgent" else "yellow"
        table.add_row(alert["case_id"], alert["result_id"], f"[{colour}]{alert['priority']}[/{colour}]", why)
    console.print(table)
    if receiver.server is None:
        console.print(f"(port {WEBHOOK_PORT} was busy: webhook deliveries not shown)")
    else:
        console.print(f"The demo webhook receiver on 127.0.0.1:{WEBHOOK_PORT} received {len(receiver.received)} "
                      "signed alert(s) in this run (0 when the alerts were already delivered by an earlier run).")


def main() -> None:
    settings = load_settings()
    receiver = DemoReceiver()
    work = REPO / ".infra" / "demo"
    work.mkdir(parents=True, exist_ok=True)
    items = examples(work)
    client = MongoClient(settings.mongo_uri.get_secret_value(), tz_aware=True)
    db = client[settings.mongo_database]
    # Labs are closed by default: the demo lab is registered for its hospital, as `oncorelay labs create` does.
    db.labs.update_one({"_id": DEMO_LAB.lab_id}, registration(DEMO_LAB), upsert=True)
    console.rule("oncorelay demo: publishing example lab results")
    receipts = asyncio.run(publish_all(items))
    settle(db, sorted({r.case_id for _, r in receipts if r.status == "accepted"}))
    show(db, receipts, receiver)
    client.close()


if __name__ == "__main__":
    main()
