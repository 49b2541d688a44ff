"""The alert rules and scrape configuration in infra/prometheus/, checked and unit-tested with promtool."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "infra" / "prometheus"
REQUIRED_ALERTS = {
    "OncorelayServiceDown", "OncorelayConsumerLagGrowing", "OncorelayLabRejectionsAboveNormal",
    "OncorelayNotificationFailed", "OncorelayAlertLatencyP99AboveObjective",
}


def promtool(*args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is not on PATH: run infra/install.sh (installs Debian's prometheus package)")
    return subprocess.run([binary, *args], cwd=PROMETHEUS_DIR, capture_output=True, text=True, timeout=120)


def alert_rules() -> list[dict]:
    groups = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_alert_rules_are_valid():
    run = promtool("check", "rules", "alerts.yml")
    assert run.returncode == 0, run.stdout + run.stderr


def test_alert_rules_pass_their_unit_tests():
    run = promtool("test", "rules", "alerts_test.yml")
    assert run.returncode == 0, run.stdout + run.stderr


def test_compose_prometheus_config_is_valid_and_loads_the_rules():
    run = promtool("check", "config", "prometheus.yml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())["rule_files"] == ["alerts.yml"]


def test_the_issue_asks_for_these_alerts_and_each_is_tested():
    names = {rule["alert"] for rule in alert_rules()}
    assert REQUIRED_ALERTS <= names
    tested = {case["alertname"] for test in yaml.safe_load((PROMETHEUS_DIR / "alerts_test.yml").read_text())["tests"]
              for case in test.get("alert_rule_test", [])}
    assert names <= tested, f"alerts without a promtool test: {names - tested}"


def test_every_alert_says_how_bad_and_what_happened():
    for rule in alert_rules():
        assert rule["labels"]["severity"] in ("page", "ticket"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
