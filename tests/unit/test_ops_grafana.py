"""The Grafana dashboard: up to date with its generator, well-formed, valid PromQL, real metric names."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

import services.common.metrics  # noqa: F401 - registers the metrics every service exports
import services.notify.metrics  # noqa: F401 - and notify's own (acknowledgements, escalations)

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "infra" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "oncorelay.json"
# Variables Grafana substitutes before a query reaches Prometheus.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}
# Series Prometheus itself writes for every target.
PROMETHEUS_SERIES = {"up"}
METRIC_NAME = re.compile(r"\b(?:oncorelay|process|python)_[a-z0-9_]+\b|\bup\b")

SCHEMA = {
    "type": "object",
    "required": ["uid", "title", "schemaVersion", "panels"],
    "properties": {
        "uid": {"type": "string", "pattern": "^[a-z0-9-]{1,40}$"},
        "title": {"type": "string", "minLength": 1},
        "schemaVersion": {"type": "integer", "minimum": 30},
        "panels": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["id", "type", "title", "gridPos"],
            "properties": {
                "type": {"enum": ["row", "timeseries", "stat", "table"]},
                "gridPos": {"type": "object", "required": ["x", "y", "w", "h"]},
                "datasource": {"type": "object", "required": ["type", "uid"]},
                "targets": {"type": "array", "items": {
                    "type": "object", "required": ["refId", "expr"],
                    "properties": {"expr": {"type": "string", "minLength": 1}},
                }},
            },
        }},
    },
}


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def queries() -> list[tuple[str, str]]:
    return [(panel["title"], target["expr"]) for panel in dashboard()["panels"] for target in panel.get("targets", [])]


def as_prometheus(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def exported_names(exposition: str) -> set[str]:
    """Every series name a /metrics text can contain, including for families with no sample yet."""
    names = set()
    for family in text_string_to_metric_families(exposition):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        if family.type == "counter":
            names.add(f"{family.name}_total")
        if family.type == "histogram":
            names.update(f"{family.name}{suffix}" for suffix in ("_bucket", "_sum", "_count"))
        if family.type == "info":
            names.add(f"{family.name}_info")
    return names


def test_dashboard_json_is_what_the_generator_writes():
    run = subprocess.run([sys.executable, str(GRAFANA / "dashboard.py"), "--check"], capture_output=True)
    assert run.returncode == 0, "infra/grafana/dashboards/oncorelay.json is stale: run python infra/grafana/dashboard.py"


def test_dashboard_is_well_formed_and_panels_do_not_overlap():
    board = dashboard()
    jsonschema.validate(board, SCHEMA)
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    cells = set()
    for panel in board["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        area = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])}
        assert not cells & area, f"{panel['title']} overlaps another panel"
        cells |= area


def test_dashboard_covers_what_the_issue_asks_for():
    text = " ".join(expr for _, expr in queries())
    for needed in ("oncorelay_messages_consumed_total", "oncorelay_end_to_end_seconds_bucket",
                   "oncorelay_consumer_lag_messages", "oncorelay_messages_rejected_total",
                   "oncorelay_alerts_raised_total", "oncorelay_alerts_delivered_total"):
        assert needed in text
    assert "histogram_quantile(0.99" in text and "histogram_quantile(0.5" in text
    assert "sum by (reason)" in text and "sum by (priority)" in text and "channel" in text


def test_every_query_is_valid_promql(tmp_path):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is not on PATH: run infra/install.sh (installs Debian's prometheus package)")
    rules = [{"record": f"dashboard:query_{i}", "expr": as_prometheus(expr)} for i, (_, expr) in enumerate(queries())]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    run = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_metric_a_query_names_is_exported_by_the_services():
    available = exported_names(generate_latest(REGISTRY).decode()) | PROMETHEUS_SERIES
    for title, expr in queries():
        for name in METRIC_NAME.findall(expr):
            assert name in available, f"panel '{title}' queries {name}, which no service exports"


def test_provisioning_points_grafana_at_the_dashboard_and_the_datasource_uid():
    datasource = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uids = {source["uid"] for source in datasource["datasources"]}
    used = {panel["datasource"]["uid"] for panel in dashboard()["panels"] if "datasource" in panel}
    assert used <= uids
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["grafana"]
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "oncorelay.yml").read_text())
    mount = next(v for v in compose["volumes"] if v.startswith("./infra/grafana/dashboards:"))
    assert mount.split(":")[1] == provider["providers"][0]["options"]["path"]
