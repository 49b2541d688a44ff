"""Faults against a real stack of its own (private Kafka + FerretDB, the three services as processes):

- the short variant of `make chaos`: results published while every service is SIGKILLed and restarted,
  the broker restarted once and the database once; nothing lost, no alert delivered twice;
- the database away for 30 s: services report not-ready, stop taking messages and catch up afterwards;
- a service started while the broker is down waits for it instead of exiting;
- no patient data (pseudonyms, VCF sample names) in the service logs or /metrics of those runs.
"""

import asyncio
import json
import random
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from pymongo import MongoClient

from chaos import run as chaos
from chaos.infra import PrivateInfra
from chaos.workload import Planned, plan, pseudonym, sample_name, token
from contracts import topics
from tests.integration.conftest import wait_until
from tests.support.kafka import read_all
from tests.support.labs import register_test_labs
from tests.support.receiver import WebhookReceiver
from tests.support.services import SERVICES, ServiceProcesses, base_env, http_status

# The readiness check itself waits up to 2 s for the database: allow for it.
READYZ_TIMEOUT_S = 10

SECRET = "faults-secret"


def assert_no_patient_data(log_dir: Path, run: str, count: int, metrics_pages: list[str] = ()) -> None:
    """No pseudonym of this run and no VCF sample name appears in any service log or metrics page."""
    texts = {p.name: p.read_text(errors="replace") for p in log_dir.glob("*.log") if p.stem in SERVICES}
    texts.update({f"metrics-{i}": page for i, page in enumerate(metrics_pages)})
    assert set(SERVICES) <= {name.removesuffix(".log") for name in texts}
    needles = [sample_name(run), f"PSN-{run}"] + [pseudonym(run, i) for i in range(count)]
    leaks = {name: needle for name, text in texts.items() for needle in needles if needle in text}
    assert leaks == {}


def test_short_chaos_run_loses_nothing_and_duplicates_no_alert(tmp_path):
    config = chaos.Config(results=60, seconds=420, publish_seconds=40, kills=1, seed=6, work=tmp_path)
    report = chaos.run(config)
    chaos.print_report(report, chaos.Console(stderr=True))
    assert report.sent == 60
    assert (report.lost, report.duplicate_alerts, report.distinct_duplicates) == (0, 0, 0), report.examples
    assert (report.wrong_state, report.missing_alerts, report.unexpected_alerts) == (0, 0, 0), report.examples
    assert report.audit_missing == 0, report.examples
    assert report.unexpected_exits == 0
    assert len(report.faults) == 5  # a SIGKILL per service, a broker and a database restart
    assert_no_patient_data(tmp_path, report.run_id, 60)


@pytest.fixture
def own_stack(tmp_path):
    infra = PrivateInfra(tmp_path).start_all()
    receiver = WebhookReceiver(SECRET.encode()).start()
    services = None
    try:
        env = base_env(**infra.env, ONCORELAY_MONGO_DATABASE="oncorelay_faults", ONCORELAY_DATA_DIR=str(tmp_path / "data"),
                       ONCORELAY_WEBHOOK_URLS=receiver.url, ONCORELAY_WEBHOOK_SECRET=SECRET,
                       ONCORELAY_DELIVERY_BASE_DELAY_S="0.2", ONCORELAY_DELIVERY_MAX_DELAY_S="2.0",
                       ONCORELAY_DELIVERY_MAX_ATTEMPTS="50", ONCORELAY_LOG_LEVEL="info", HOME=str(tmp_path / "home"))
        with MongoClient(infra.env["ONCORELAY_MONGO_URI"]) as client:
            register_test_labs(client["oncorelay_faults"])
        services = ServiceProcesses(env, tmp_path)
        services.start_all()
        yield infra, services, receiver
    finally:
        if services is not None:
            services.stop_all()
        receiver.stop()
        infra.stop_all()


def _publish(bootstrap: str, items: list[Planned]) -> None:
    async def run():
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            for item in items:
                await producer.send_and_wait(topics.LAB_RESULTS, item.value, key=item.key)
        finally:
            await producer.stop()

    asyncio.run(run())


def _receipts(bootstrap: str, items: list[Planned]) -> dict[str, str]:
    wanted = {item.result_id for item in items}
    return {v["result_id"]: v["status"] for _, v in read_all(bootstrap, topics.LAB_RECEIPTS) if v["result_id"] in wanted}


def test_database_away_for_30_s_services_wait_and_catch_up(own_stack):
    infra, services, receiver = own_stack
    bootstrap = infra.env["ONCORELAY_KAFKA_BOOTSTRAP"]
    run = token(random.Random(30))
    items = [i for i in plan(24, run, random.Random(31), reject_share=0.0) if i.kind != "rejected"]
    before, during = items[:8], items[8:]
    _publish(bootstrap, before)
    wait_until(lambda: len(_receipts(bootstrap, before)) == len(before), 120, "receipts before the outage")

    infra.stop("ferretdb")
    down_at = time.monotonic()
    try:
        _publish(bootstrap, during)
        wait_until(lambda: all(http_status(services.url(n, "/readyz"), READYZ_TIMEOUT_S) == 503 for n in SERVICES), 25,
                   "every service not-ready while the database is away")
        readyz = json.loads(_get(services.url("ingest", "/readyz")))
        assert readyz["checks"]["database"] is False
        time.sleep(max(0.0, 30 - (time.monotonic() - down_at)))
        assert _receipts(bootstrap, during) == {}, "ingest accepted results without its database"
        assert all(services.processes[n].poll() is None for n in SERVICES), "a service died during the outage"
    finally:
        infra.start("ferretdb")

    wait_until(lambda: all(http_status(services.url(n, "/readyz"), READYZ_TIMEOUT_S) == 200 for n in SERVICES), 120,
               "every service ready again")
    wait_until(lambda: _receipts(bootstrap, items) == {i.result_id: "accepted" for i in items}, 180,
               "every result accepted after the outage")
    client = MongoClient(infra.env["ONCORELAY_MONGO_URI"], tz_aware=True)
    try:
        db = client["oncorelay_faults"]
        expected = {i.case_id: i.expect for i in items}
        wait_until(lambda: {d["_id"]: d["state"] for d in db.cases.find({"_id": {"$in": list(expected)}})} == expected,
                   120, "every case in its final state")
        review = [i for i in items if i.kind == "review"]
        wait_until(lambda: all(receiver.alerts_for_case(i.case_id) for i in review), 60, "every alert delivered")
        for item in review:
            [alert] = receiver.alerts_for_case(item.case_id)
            assert receiver.deliveries_of(alert["alert_id"]) == 1
        audit = list(db.audit.find({"case_id": review[0].case_id, "action": "state_changed"}))
        assert sorted((a["actor"], a["detail"]["state"]) for a in audit) == sorted([
            ("ingest", "received"), ("ingest", "ingested"), ("annotate", "annotated"),
            ("annotate", "review_required"), ("notify", "alerted")])
    finally:
        client.close()
    pages = [_get(services.url(n, "/metrics")) for n in SERVICES]
    assert_no_patient_data(services.log_dir, run, 24, pages)


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode()
    except urllib.error.HTTPError as error:
        return error.read().decode()


def test_a_service_started_while_the_broker_is_down_waits_for_it(tmp_path):
    infra = PrivateInfra(tmp_path).start_all()
    services = None
    try:
        env = base_env(**infra.env, ONCORELAY_MONGO_DATABASE="oncorelay_broker_wait",
                       ONCORELAY_DATA_DIR=str(tmp_path / "data"), ONCORELAY_LOG_LEVEL="info", HOME=str(tmp_path / "home"))
        services = ServiceProcesses(env, tmp_path)
        infra.stop("kafka")
        services.start("ingest")
        wait_until(lambda: "is not reachable; waiting" in services.log_tail("ingest"), 30, "ingest saying it waits")
        time.sleep(3)
        assert services.processes["ingest"].poll() is None, services.log_tail("ingest")
        infra.start("kafka")
        services.wait_ready("ingest", timeout_s=120)
    finally:
        if services is not None:
            services.stop_all()
        infra.stop_all()
