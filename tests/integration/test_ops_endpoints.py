"""Ops endpoints, metrics and logs of the running services: /healthz, /readyz, /metrics, JSON logs."""

import json
import re
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import SHARED, wait_until
from tests.support.services import SERVICES, http_status
from tests.unit.test_ops_grafana import METRIC_NAME, PROMETHEUS_SERIES, exported_names, queries

COAD = SHARED / "pcgr" / "T001-COAD.grch38.vcf.gz"
TRUNCATED = SHARED / "derived" / "T001-BRCA.grch38.truncated-midline.vcf"


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def publish(stack, vcf: Path, case: str, result_id: str, patient: str, tumor_type: str = "COAD"):
    return stack.cli(
        "publish", str(vcf), "--lab", "LAB01", "--case", case, "--patient", patient, "--specimen-id", f"SP-{result_id}",
        "--specimen-type", "tissue", "--tumor-type", tumor_type, "--assay", "WES-TCGA", "--genome-build", "GRCh38",
        "--panel-size-mb", "30", "--treating-site", "HOSP-A", "--result-id", result_id, "--collected", "2026-11-20",
        "--wait", "--timeout", "120",
    )


def test_every_service_is_alive_and_ready_with_each_check_named(stack):
    for name in SERVICES:
        assert http_status(stack.services.url(name, "/healthz")) == 200
        status, body = fetch(stack.services.url(name, "/readyz"))
        assert status == 200, body
        checks = json.loads(body)["checks"]
        assert {"consumer_assigned", "broker", "database"} <= set(checks) and all(checks.values()), checks


def test_metrics_after_a_result_cover_lag_database_latency_and_alerts(stack):
    run = publish(stack, COAD, "CASE-OPS-1", "R-OPS-1", "PSN-OPS-SECRET-1")
    assert run.returncode == 0, run.stderr
    wait_until(lambda: stack.receiver.alerts_for_case("CASE-OPS-1"), 90, "the alert delivered")

    def scraped(name):
        return {f.name: f for f in text_string_to_metric_families(fetch(stack.services.url(name, "/metrics"))[1].decode())}

    def has_lag(name):
        lag = scraped(name).get("oncorelay_consumer_lag_messages")
        return lag and [s for s in lag.samples if s.labels["service"] == name]

    for name in SERVICES:
        wait_until(lambda name=name: has_lag(name), 30, f"{name} consumer lag exported")
        database = scraped(name)["oncorelay_mongodb_operation_seconds"]
        assert any(s.name.endswith("_count") and s.value > 0 for s in database.samples), name
    assert any(s.value >= 1 for s in scraped("annotate")["oncorelay_alerts_raised"].samples)
    versions = [s.labels for s in scraped("annotate")["oncorelay_knowledge_base_info"].samples]
    assert any(labels.get("version") for labels in versions)
    delivered = scraped("notify")["oncorelay_end_to_end_seconds"].samples
    assert any(s.labels.get("stage") == "alert_delivered" and s.name.endswith("_count") and s.value >= 1
               for s in delivered)


def test_every_dashboard_metric_is_exported_by_a_running_service(stack):
    exported = set(PROMETHEUS_SERIES)
    for name in SERVICES:
        exported |= exported_names(fetch(stack.services.url(name, "/metrics"))[1].decode())
    for title, expr in queries():
        for metric in METRIC_NAME.findall(expr):
            assert metric in exported, f"panel '{title}' queries {metric}, which no running service exports"


def test_logs_are_json_with_correlation_ids_and_without_the_patient(stack):
    run = publish(stack, TRUNCATED, "CASE-OPS-2", "R-OPS-2", "PSN-OPS-SECRET-2", tumor_type="BRCA")
    assert run.returncode == 1, run.stderr
    log = stack.services.log_dir / "ingest.log"

    def rejection_line():
        for line in log.read_text().splitlines():
            if '"R-OPS-2"' in line and "rejected" in line:
                return json.loads(line)
        return None

    line = wait_until(rejection_line, 30, "ingest's log line for the rejected result")
    assert line["service"] == "ingest" and line["level"] == "warning" and line["result_id"] == "R-OPS-2"
    assert line["reasons"] == ["vcf_truncated"]
    for name in SERVICES:
        text = (stack.services.log_dir / f"{name}.log").read_text()
        assert "PSN-OPS-SECRET" not in text, f"{name} logged a patient pseudonym"
        objects = [line for line in text.splitlines() if line.startswith("{")]
        assert objects, f"{name} wrote no JSON log lines"
        for raw in objects:
            assert re.match(r'^\{"time": ', raw) and json.loads(raw)["service"] == name
