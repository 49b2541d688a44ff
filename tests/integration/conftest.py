"""The real stack for integration tests: the broker and database started by `make test`
(infra/run-tests.sh), the three services as processes, and a real webhook receiver."""

import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest
from pymongo import AsyncMongoClient, MongoClient

from tests.support.labs import OWN_TOPIC_LAB, register_test_labs
from tests.support.notify_stack import start_notify_stack, stop_notify_stack
from tests.support.receiver import WebhookReceiver
from tests.support.services import REPO, ServiceProcesses, base_env

SHARED = REPO.parent / "shared" / "data"
WEBHOOK_SECRET = "integration-secret"


def _reachable(hostport: str) -> bool:
    host, port = hostport.split(",")[0].rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


@dataclass
class Stack:
    env: dict[str, str]
    run_id: str  # unique per session: ids built with it never meet records of an earlier run on the same broker
    services: ServiceProcesses
    db: object
    receiver: WebhookReceiver

    def cli(self, *args: str, timeout: float = 180, **env: str) -> subprocess.CompletedProcess:
        """Run the oncorelay command as a lab would, against this stack (`env`: settings of its own)."""
        return subprocess.run(
            [sys.executable, "-m", "oncorelay.cli", *args], cwd=REPO, env={**self.env, **env},
            capture_output=True, text=True, timeout=timeout,
        )


@pytest.fixture
async def db():
    """A fresh database of its own on the test FerretDB for one test (dropped afterwards)."""
    client = AsyncMongoClient(os.environ.get("ONCORELAY_MONGO_URI", "mongodb://127.0.0.1:27017/?retryWrites=false"),
                              tz_aware=True, serverSelectionTimeoutMS=5000)
    name = f"oncorelay_test_{secrets.token_hex(4)}"
    yield client[name]
    await client.drop_database(name)
    await client.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing integration test's report carries the log tails of the service processes running then:
    CI keeps only the printed output, not pytest's tmp dir where the logs are."""
    report = yield
    if report.failed and call.when == "call":
        for services in ServiceProcesses.running:
            for name in services.processes:
                report.sections.append((f"{name} log ({services.log_dir})", services.log_tail(name, 60)))
    return report


def wait_until(predicate, timeout_s: float, what: str):
    """Poll `predicate` until it returns something truthy; fail with `what` after the timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Stack:
    bootstrap = os.environ.get("ONCORELAY_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    mongo_uri = os.environ.get("ONCORELAY_MONGO_URI", "mongodb://127.0.0.1:27017/?retryWrites=false")
    if not _reachable(bootstrap):
        pytest.fail(f"no Kafka broker at {bootstrap}: run the suite with `make test`, which starts one")
    work = tmp_path_factory.mktemp("stack")
    database = f"oncorelay_it_{secrets.token_hex(4)}"
    receiver = WebhookReceiver(WEBHOOK_SECRET.encode()).start()
    env = base_env(
        ONCORELAY_KAFKA_BOOTSTRAP=bootstrap,
        ONCORELAY_MONGO_URI=mongo_uri,
        ONCORELAY_MONGO_DATABASE=database,
        ONCORELAY_DATA_DIR=str(work / "data"),
        ONCORELAY_WEBHOOK_URLS=receiver.url,
        ONCORELAY_WEBHOOK_SECRET=WEBHOOK_SECRET,
        ONCORELAY_DELIVERY_BASE_DELAY_S="0.2",
        ONCORELAY_DELIVERY_MAX_DELAY_S="1.0",
        ONCORELAY_LOG_LEVEL="info",
        ONCORELAY_KB_REFRESH_S="2",
        ONCORELAY_FOLLOWUP_AFTER_S="4",  # a decided recommendation's follow-up is due seconds later, not weeks
        ONCORELAY_BOARD_METRICS_S="2",  # annotate picks up an imported knowledge base (and re-tiers) within 2 s
        # the size limits low enough that a test reaches each in seconds (tests/integration/test_trust_limits.py)
        ONCORELAY_MAX_DECOMPRESSED_BYTES=str(256 * 1024**2),
        ONCORELAY_MAX_RECORDS="1000000",
        # by-reference VCFs: the shared test data and the CLI's spool (where `oncorelay publish` puts large ones)
        # LAB-OWN publishes on its own topics, as a lab does where Kafka ACLs bind its principal to them
        ONCORELAY_LAB_TOPICS=OWN_TOPIC_LAB,
        ONCORELAY_REFERENCE_SOURCES=f"{SHARED.as_uri()}/,{(work / 'home' / '.cache' / 'oncorelay' / 'spool').as_uri()}/",
        HOME=str(work / "home"),
    )
    client = MongoClient(mongo_uri, tz_aware=True)
    register_test_labs(client[database])  # labs are closed by default; any other lab is rejected
    services = ServiceProcesses(env, work)
    services.start_all()
    yield Stack(env, secrets.token_hex(3), services, client[database], receiver)
    services.stop_all()
    client.drop_database(database)
    client.close()
    receiver.stop()


@pytest.fixture(scope="module")
def notify(request, tmp_path_factory):
    """notify alone on its own database, for the module that asks (tests.support.notify_stack)."""
    stack = start_notify_stack(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]))
    yield stack
    stop_notify_stack(stack)
