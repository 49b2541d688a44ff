"""A redelivered event repeats its effects, never changes them: the same result never raises a second,
different alert, even when the patient's history changed in between (a back-filled earlier specimen)."""

import json

from contracts import topics
from oncorelay.demo import DATA
from tests.integration.conftest import wait_until
from tests.support.kafka import produce, read_all


def _publish(stack, vcf, result_id: str, case: str, patient: str, collected: str, *therapies: str) -> None:
    args = ["publish", str(vcf), "--lab", "LAB01", "--case", case, "--patient", patient,
            "--specimen-id", f"SP-{result_id}", "--specimen-type", "plasma", "--tumor-type", "LUAD",
            "--assay", "CGP-500", "--genome-build", "GRCh38", "--panel-size-mb", "1.9", "--treating-site", "HOSP-A",
            "--result-id", result_id, "--collected", collected, "--wait", "--timeout", "120"]
    for therapy in therapies:
        args += ["--therapy", therapy]
    run = stack.cli(*args)
    assert run.returncode == 0 and json.loads(run.stdout)["status"] == "accepted", run.stdout + run.stderr


def test_redelivered_result_keeps_its_alert_after_history_changed(stack):
    case, patient = f"CASE-REDELIVER-{stack.run_id}", f"PSN-RD{stack.run_id}"
    relapse, baseline, marker = (f"R-RD-{stack.run_id}-{n}" for n in ("P3", "P1", "P2"))
    _publish(stack, DATA / "plasma-3-relapse.vcf", relapse, case, patient, "2026-10-26", "osimertinib")
    first = wait_until(lambda: stack.db.alerts.find_one({"result_id": relapse}), 90, "the relapse result's alert")

    # An earlier specimen arrives late: interpreted now, the relapse would show emergent resistance (urgent).
    _publish(stack, DATA / "plasma-1-baseline.vcf", baseline, case, patient, "2026-06-01")
    wait_until(lambda: stack.db.interpretations.find_one({"_id": f"{baseline}@1"}), 90, "the baseline interpreted")

    ingested = [value for _, value in read_all(stack.env["ONCORELAY_KAFKA_BOOTSTRAP"], topics.VARIANTS_INGESTED)
                if value["result_id"] == relapse]
    assert len(ingested) == 1
    produce(stack.env["ONCORELAY_KAFKA_BOOTSTRAP"], topics.VARIANTS_INGESTED, case.encode(),
            json.dumps(ingested[0]).encode())
    # Same case key, same partition: once this later result is interpreted, the redelivery was handled.
    _publish(stack, DATA / "plasma-2-response.vcf", marker, case, patient, "2026-08-03", "osimertinib")
    wait_until(lambda: stack.db.interpretations.find_one({"_id": f"{marker}@1"}), 90, "the marker result interpreted")

    alerts = list(stack.db.alerts.find({"result_id": relapse}))
    assert [a["_id"] for a in alerts] == [first["_id"]], [a.get("reasons") for a in alerts]
    audit = list(stack.db.audit.find({"case_id": case, "action": "state_changed"}))
    assert len({(e["detail"]["result_key"], e["detail"]["state"]) for e in audit}) == len(audit)  # nothing twice
