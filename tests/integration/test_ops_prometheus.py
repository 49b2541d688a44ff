"""A real Prometheus scrapes the running services, sees every target up and loads the alert rules."""

import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import wait_until
from tests.support.services import free_port

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "infra" / "prometheus"


def scrape_config(ports: dict[str, int]) -> dict:
    """infra/prometheus/prometheus.yml with the test services' loopback ports and a 1 s interval."""
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": [f"127.0.0.1:{ports[job['job_name']]}"]}]
    return config


def api(base: str, path: str) -> dict:
    with urllib.request.urlopen(f"{base}{path}", timeout=5) as response:
        return json.load(response)


@pytest.fixture
def prometheus(stack, tmp_path):
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not on PATH: run infra/install.sh (installs Debian's prometheus package)")
    shutil.copy(PROMETHEUS_DIR / "alerts.yml", tmp_path / "alerts.yml")
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(scrape_config(stack.services.ports)))
    port = free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [binary, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(base), 30, "Prometheus to answer")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/-/ready", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_prometheus_scrapes_every_service_and_sees_it_up(prometheus, stack):
    def all_up():
        targets = api(prometheus, "/api/v1/targets")["data"]["activeTargets"]
        health = {t["labels"]["job"]: t["health"] for t in targets}
        return health if health == {"ingest": "up", "annotate": "up", "notify": "up"} else None

    time.sleep(0.5)
    wait_until(all_up, 60, "all three targets up in Prometheus")
    query = api(prometheus, "/api/v1/query?query=count%20by%20(job)%20(oncorelay_service_info)")
    assert {r["metric"]["job"] for r in query["data"]["result"]} == {"ingest", "annotate", "notify"}


def test_prometheus_loads_the_alert_rules_and_none_fires_on_a_healthy_stack(prometheus):
    groups = wait_until(lambda: api(prometheus, "/api/v1/rules")["data"]["groups"], 30, "rules loaded")
    rules = {rule["name"]: rule for group in groups for rule in group["rules"]}
    assert "OncorelayServiceDown" in rules and "OncorelayNotificationFailed" in rules
    assert all(rule["health"] in ("ok", "unknown") for rule in rules.values()), rules
    wait_until(lambda: api(prometheus, "/api/v1/query?query=up")["data"]["result"], 30, "a first scrape")
    firing = [a for a in api(prometheus, "/api/v1/alerts")["data"]["alerts"] if a["state"] == "firing"]
    assert firing == []
