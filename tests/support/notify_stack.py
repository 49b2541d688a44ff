"""The notify service alone against the real broker and database, with real receivers around it:
signed-webhook receivers, an SMTP server offering STARTTLS, and the clinician API on its own port.

Alerts are produced straight to oncorelay.mtb.alerts.v1, as annotate would. The notify process has
its own consumer group and database, so it never shares work with the full-flow stack.
"""

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from bson import Binary
from pymongo import MongoClient

from contracts import topics
from contracts.variant import Variant
from services.annotate.domain.interpret import ResultContext, interpret
from services.annotate.domain.knowledge import KnowledgeBase
from services.annotate.domain.triage import RuleSet
from services.common import packed
from services.common.oncotree import load_oncotree
from tests.support.kafka import partition_count, produce
from tests.support.receiver import WebhookReceiver
from tests.support.services import REPO, ServiceProcesses, base_env, free_port
from tests.support.smtp import SmtpServer

EXAMPLE = json.loads((REPO / "contracts" / "examples" / "MtbReviewRequired.json").read_text())
OPERATOR_SECRET = "notify-operator-secret"
ONCOTREE = REPO.parent / "shared" / "data" / "oncotree" / "oncotree_2025_10_03.json"


@dataclass
class NotifyStack:
    env: dict[str, str]
    services: ServiceProcesses
    db: object
    operator: WebhookReceiver
    smtp: SmtpServer
    api_url: str
    receivers: list[WebhookReceiver] = field(default_factory=list)
    run: str = field(default_factory=lambda: secrets.token_hex(3))

    def case(self, name: str) -> str:
        """A case id unique to this stack (the alerts topic keeps earlier runs' alerts)."""
        return f"{name}-{self.run}"

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        """Run the notification CLI against this stack."""
        return subprocess.run([sys.executable, "-m", "oncorelay.cli_notify", *args], cwd=REPO, env=self.env,
                              capture_output=True, text=True, timeout=60)

    def create_team(self, team_id: str, *sites: str, extra: tuple[str, ...] = ()) -> str:
        """Create a team with the CLI and return its token."""
        run = self.cli("teams", "create", team_id, *[a for s in sites for a in ("--site", s)], *extra)
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)["token"]

    def member_token(self, team_id: str, member: str, *scopes: str) -> str:
        """A personal token of a team member (the CLI's `teams token --member`)."""
        scope_args = [a for s in (scopes or ("read", "ack", "decide")) for a in ("--scope", s)]
        run = self.cli("teams", "token", team_id, "--member", member, *scope_args)
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)["token"]

    def receiver(self, secret: str, **options) -> WebhookReceiver:
        receiver = WebhookReceiver(secret.encode(), **options).start()
        self.receivers.append(receiver)
        return receiver

    def raise_alert(self, name: str, partition: int | None = None, **changes) -> dict:
        """Produce an MtbReviewRequired for case self.case(name) (fresh alert id) and return it."""
        case_id = self.case(name)
        result_key = EXAMPLE["result_key"].replace("@", f"-{case_id}@")
        alert = {**EXAMPLE, "alert_id": f"al-{secrets.token_hex(6)}", "case_id": case_id, "result_key": result_key,
                 "raised_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"), **changes}
        produce(self.env["ONCORELAY_KAFKA_BOOTSTRAP"], topics.MTB_ALERTS, case_id.encode(), json.dumps(alert).encode(),
                partition)
        return alert

    def seed_case(self, name: str, site: str) -> str:
        """Store a case as ingest and annotate leave it (case with timeline, result, interpretation); its id."""
        case_id = self.case(name)
        result_key = EXAMPLE["result_key"].replace("@", f"-{case_id}@")
        now = datetime.now(UTC)
        self.db.cases.insert_one({
            "_id": case_id, "created_at": now, "state": "annotated", "state_order": "", "lab_id": "LAB01",
            "treating_site": site, "tumor_type": "LUAD", "patient_pseudonym": "PSN-7F3A9C21",
            "timeline": [{"stage": s, "result_key": result_key, "at": now, "detail": ""}
                         for s in ("received", "ingested", "annotated")],
            "timeline_keys": [f"{result_key}|{s}" for s in ("received", "ingested", "annotated")],
        })
        self.db.results.insert_one({
            "_id": result_key, "result_id": result_key.split("@")[0], "result_version": 1, "lab_id": "LAB01",
            "case_id": case_id, "patient_pseudonym": "PSN-7F3A9C21", "tumor_type": "LUAD", "status": "accepted",
            "specimen": {"specimen_id": "SP-1", "type": "tissue", "collected_on": "2026-11-20"},
            "assay": {"name": "TSO500", "genome_build": "GRCh38", "panel_size_mb": 1.9, "tumor_only": True},
            "msi_status": "MSS", "tmb_reported": 4.2, "published_at": now, "ingested_at": now,
        })
        braf = Variant(chrom="chr7", pos=140753336, ref="A", alt="T", kind="snv", gene="BRAF", hgvsp="p.Val600Glu",
                       hgvsc="ENST00000646891.2:c.1799T>A", consequence="missense_variant", vaf=0.31, depth=400)
        context = ResultContext(result_key=result_key, case_id=case_id, tumor_type="LUAD", specimen_id="SP-1",
                                collected_on=date(2026, 11, 20), genome_build="GRCh38", panel_size_mb=1.9)
        interp = interpret(context, [braf], KnowledgeBase.build(), load_oncotree(), RuleSet.load())
        self.db.interpretations.insert_one({  # as annotate stores it (services.annotate.adapters.interpretation_store)
            "_id": result_key, "case_id": case_id, "result_id": result_key.split("@")[0], "result_version": 1,
            "annotated_at": now, "interpretation": Binary(packed.pack(interp.model_dump(mode="json"))),
            "encoding": packed.ENCODING,
        })
        return case_id

    def request(self, method: str, path: str, token: str | None, body: dict | None = None) -> tuple[int, dict]:
        """One call to the clinician API; (status, JSON body)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.api_url + path, data=data, method=method)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")


def start_notify_stack(work: Path, **overrides: str) -> NotifyStack:
    bootstrap = os.environ.get("ONCORELAY_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    mongo_uri = os.environ.get("ONCORELAY_MONGO_URI", "mongodb://127.0.0.1:27017/?retryWrites=false")
    database = f"oncorelay_notify_it_{secrets.token_hex(4)}"
    operator = WebhookReceiver(OPERATOR_SECRET.encode()).start()
    smtp = SmtpServer(work).start()
    api_port = free_port()
    env = base_env(
        ONCORELAY_KAFKA_BOOTSTRAP=bootstrap, ONCORELAY_MONGO_URI=mongo_uri, ONCORELAY_MONGO_DATABASE=database,
        ONCORELAY_DATA_DIR=str(work / "data"), ONCORELAY_NOTIFY_GROUP_ID=f"oncorelay-notify-it-{secrets.token_hex(4)}",
        ONCORELAY_WEBHOOK_URLS=operator.url, ONCORELAY_WEBHOOK_SECRET=OPERATOR_SECRET,
        # the teams' test receivers listen on 127.0.0.1; the rest of loopback stays refused (test_trust_outbound.py)
        ONCORELAY_WEBHOOK_ALLOWED_NETWORKS="127.0.0.1/32",
        ONCORELAY_DELIVERY_BASE_DELAY_S="0.2", ONCORELAY_DELIVERY_MAX_DELAY_S="1.0", ONCORELAY_DELIVERY_MAX_ATTEMPTS="8",
        ONCORELAY_DELIVERY_TIMEOUT_S="1.0", ONCORELAY_DELIVERY_POLL_S="0.3", ONCORELAY_DELIVERY_LEASE_S="10",
        ONCORELAY_ESCALATION_AFTER_S="3", ONCORELAY_ESCALATION_CHECK_S="0.5", ONCORELAY_STREAM_HEARTBEAT_S="1",
        ONCORELAY_NOTIFY_API_PORT=str(api_port), ONCORELAY_CASE_LINK_BASE="https://mtb.example.org/cases/",
        ONCORELAY_SMTP_HOST="127.0.0.1", ONCORELAY_SMTP_PORT=str(smtp.port), ONCORELAY_SMTP_CA_FILE=smtp.ca_file,
        ONCORELAY_SMTP_FROM="oncorelay@mtb.example.org", ONCORELAY_ONCOTREE_FILE=str(ONCOTREE),
        ONCORELAY_LOG_LEVEL="info", HOME=str(work / "home"), ONCORELAY_CONSUMER_OFFSET_RESET="latest", **overrides,
    )
    services = ServiceProcesses(env, work)
    services.start("notify")
    services.wait_ready("notify")
    client = MongoClient(mongo_uri, tz_aware=True)
    stack = NotifyStack(env, services, client[database], operator, smtp, f"http://127.0.0.1:{api_port}")
    _warm_up(stack)
    return stack


def _warm_up(stack: NotifyStack, timeout_s: float = 60) -> None:
    """Wait until notify has consumed on every partition of the alerts topic.

    Its new group starts at the end of the topic (earlier tests' alerts are not this stack's business). A
    partition where the group has consumed nothing has no committed offset, so after any rebalance it would
    start at the end again and skip an alert raised meanwhile; one recorded alert per partition rules that out.
    """
    deadline = time.monotonic() + timeout_s
    for partition in range(partition_count(stack.env["ONCORELAY_KAFKA_BOOTSTRAP"], topics.MTB_ALERTS)):
        while not _consumed(stack, stack.raise_alert(f"WARM-UP-{partition}", partition=partition)):
            if time.monotonic() > deadline:
                raise AssertionError(f"notify did not consume alerts on partition {partition}")


def _consumed(stack: NotifyStack, alert: dict, wait_s: float = 2) -> bool:
    """Whether notify records `alert` within `wait_s` seconds."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if stack.db.alerts.find_one({"_id": alert["alert_id"]}):
            return True
        time.sleep(0.2)
    return False


def stop_notify_stack(stack: NotifyStack) -> None:
    stack.services.stop_all()
    client = stack.db.client
    client.drop_database(stack.db.name)
    client.close()
    for receiver in [stack.operator, *stack.receivers]:
        receiver.stop()
    stack.smtp.stop()
