"""docker-compose.yml and the Prometheus config agree with the settings the services read."""

from pathlib import Path
from urllib.parse import urlsplit

import yaml

from services.common.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SERVICES = {"ingest": 8101, "annotate": 8102, "notify": 8103}


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "KEY=value" list form
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def test_expected_services():
    services = _compose()["services"]
    assert {"kafka", "mongo", "ingest", "annotate", "notify", "prometheus"} <= set(services)
    assert services["kafka"]["image"] == "apache/kafka:4.1.1"
    assert services["mongo"]["image"].startswith("mongo:7")
    for name in SERVICES:
        assert services[name]["command"][-1] == f"services.{name}"


def test_service_env_names_are_settings_fields():
    services = _compose()["services"]
    fields = set(Settings.model_fields)
    for name in SERVICES:
        env = _env(services[name])
        assert env, f"{name} has no environment"
        for key in env:
            assert key.startswith("ONCORELAY_"), f"{name}: {key} is not an ONCORELAY_ setting"
            assert key.removeprefix("ONCORELAY_").lower() in fields, f"{name}: {key} is not a Settings field"
        assert env["ONCORELAY_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert urlsplit(env["ONCORELAY_MONGO_URI"]).netloc == "mongo:27017"
        assert env["ONCORELAY_BIND_HOST"] == "0.0.0.0"


def test_service_ports_match_settings_defaults():
    services = _compose()["services"]
    defaults = Settings.model_fields
    for name, port in SERVICES.items():
        assert defaults[f"{name}_port"].default == port
        assert f"{port}:{port}" in [str(p) for p in services[name]["ports"]]


def test_prometheus_scrapes_the_three_services():
    cfg = yaml.safe_load((ROOT / "infra/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in cfg["scrape_configs"]}
    for name, port in SERVICES.items():
        job = jobs[name]
        assert job.get("metrics_path", "/metrics") == "/metrics"
        targets = [t for sc in job["static_configs"] for t in sc["targets"]]
        assert targets == [f"{name}:{port}"]
    mounts = _compose()["services"]["prometheus"]["volumes"]
    assert any(m.startswith("./infra/prometheus/prometheus.yml:") for m in mounts)
