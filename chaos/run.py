"""`make chaos`: publish results while breaking things, then account for every one of them.

On a private Kafka + FerretDB (own ports and data), with the three services as processes and a webhook
receiver: publish N results (review, report-ready and rejected ones) while a chaos thread SIGKILLs each
service several times at random moments and restarts it, restarts the broker once and the database
once. Then wait (bounded) for quiescence and check that every result has a receipt with the right
status, every case is in its right final state, and every expected alert reached the receiver, once.

    python -m chaos.run [--results 1000] [--seconds 900] [--kills 3] [--seed S]

The last line is `sent=N accounted=N lost=N duplicate_alerts=N`; the exit code is 1 when anything was
lost, duplicated, left in a wrong state or not alerted.
"""

import argparse
import asyncio
import logging
import random
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import MongoClient
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from chaos.infra import PrivateInfra
from chaos.workload import Planned, plan, token
from contracts import topics
from tests.support.kafka import read_all
from tests.support.labs import register_test_labs
from tests.support.receiver import WebhookReceiver
from tests.support.services import SERVICES, ServiceProcesses, base_env

SECRET = "chaos-webhook-secret"


@dataclass
class Config:
    results: int = 1000
    seconds: float = 900.0  # whole run: publishing, faults and waiting for quiescence
    publish_seconds: float | None = None  # default: a third of `seconds`
    kills: int = 3  # SIGKILLs per service
    restart_broker: bool = True
    restart_database: bool = True
    seed: int | None = None
    work: Path | None = None


@dataclass
class Report:
    sent: int = 0
    accounted: int = 0
    lost: int = 0
    wrong_receipt: int = 0
    wrong_state: int = 0
    missing_alerts: int = 0
    duplicate_alerts: int = 0  # extra 2xx deliveries of an alert the receiver already had (same Idempotency-Key)
    distinct_duplicates: int = 0  # extra alerts for one result under another key (the receiver cannot catch these)
    unexpected_alerts: int = 0  # alerts for cases that needed none
    unexpected_exits: int = 0
    audit_missing: int = 0  # applied case state changes without their audit entry
    pending: int = 0  # when the time bound is hit: lab results ingest has not committed yet (late, not dropped)
    run_id: str = ""
    faults: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    quiescent: bool = False
    work: str = ""
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicate_alerts or self.distinct_duplicates or self.wrong_state
                    or self.missing_alerts or self.unexpected_alerts or self.unexpected_exits or self.audit_missing)

    def last_line(self) -> str:
        return f"sent={self.sent} accounted={self.accounted} lost={self.lost} duplicate_alerts={self.duplicate_alerts}"


class Chaos(threading.Thread):
    """Runs the planned faults at their moments (one at a time) and restarts what it broke."""

    def __init__(self, schedule: list[tuple[float, str]], services: ServiceProcesses, infra: PrivateInfra,
                 started: float, log) -> None:
        super().__init__(daemon=True)
        self.schedule = sorted(schedule)
        self.services, self.infra, self.started, self.log = services, infra, started, log
        self.done: list[str] = []
        self.unexpected: list[str] = []
        self.lock = threading.Lock()  # held while something is down on purpose

    def run(self) -> None:
        behind = 0.0  # a broker or database restart takes time: later faults move by as much, so none coincide
        for at, action in self.schedule:
            due = self.started + at + behind
            while time.monotonic() < due:
                time.sleep(min(0.5, max(0.0, due - time.monotonic())))
                with self.lock:
                    self.restart_the_dead()
            with self.lock:
                self.restart_the_dead()
                began = time.monotonic()
                self._do(action)
            behind += max(0.0, time.monotonic() - began - 1.0)
            self.done.append(f"{time.monotonic() - self.started:6.1f}s {action}")
            self.log(f"fault: {action}")

    def restart_the_dead(self) -> None:
        """A service that died without being killed is a finding: count it, log its last lines, restart it."""
        for name in SERVICES:
            if self.services.processes[name].poll() is not None:
                self.unexpected.append(f"{time.monotonic() - self.started:6.1f}s {name} exited by itself")
                self.log(f"[red]{name} exited by itself[/red]:\n{self.services.log_tail(name, 8)}")
                self.services.start(name)

    def _do(self, action: str) -> None:
        kind, _, name = action.partition(":")
        if kind == "kill":
            self.services.kill(name, signal.SIGKILL)
            self.services.start(name)
        elif kind == "restart":
            self.infra.stop(name)
            time.sleep(5 if name == "kafka" else 10)
            self.infra.start(name)


def _schedule(config: Config, rng: random.Random, window: float) -> list[tuple[float, str]]:
    events = [(rng.uniform(0.05, 1.0) * window, f"kill:{name}") for name in SERVICES for _ in range(config.kills)]
    if config.restart_broker:
        events.append((rng.uniform(0.2, 0.5) * window, "restart:kafka"))
    if config.restart_database:
        events.append((rng.uniform(0.55, 0.85) * window, "restart:ferretdb"))
    return events


async def _publish(bootstrap: str, items: list[Planned], window: float, progress, task) -> int:
    """Publish every item (paced over `window`), retrying through broker outages; returns how many were acked."""
    producer = None
    sent = 0
    started = time.monotonic()
    for index, item in enumerate(items):
        await asyncio.sleep(max(0.0, started + window * index / len(items) - time.monotonic()))
        while True:
            try:
                if producer is None:
                    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                                max_request_size=4 * 1024 * 1024, request_timeout_ms=10_000)
                    await producer.start()
                await producer.send_and_wait(topics.LAB_RESULTS, item.value, key=item.key)
                sent += 1
                progress.advance(task)
                break
            except Exception:  # broker away: start over with a new producer (a resend is a harmless duplicate)
                if producer is not None:
                    try:
                        await producer.stop()
                    except Exception:
                        pass
                producer = None
                await asyncio.sleep(1.0)
    if producer is not None:
        await producer.stop()
    return sent


def _observe(items: list[Planned], bootstrap: str, db, receiver: WebhookReceiver) -> dict:
    """What has become of every item so far: receipts, case states and webhook deliveries."""
    receipts: dict[str, list[dict]] = {}
    for _, value in read_all(bootstrap, topics.LAB_RECEIPTS, idle_s=2.0):
        receipts.setdefault(value.get("result_id"), []).append(value)
    case_ids = [i.case_id for i in items if i.kind != "rejected"]
    states = {d["_id"]: d.get("state") for d in db.cases.find({"_id": {"$in": case_ids}}, {"state": 1})}
    with receiver.lock:
        posts = Counter(r["key"] for r in receiver.requests if r["signed"])
        alerts = dict(receiver.alerts)
    by_case: dict[str, set[str]] = {}
    for key, body in alerts.items():
        by_case.setdefault(body.get("case_id"), set()).add(key)
    audited: dict[str, set[str]] = {}
    for entry in db.audit.find({"action": "state_changed", "case_id": {"$in": case_ids}}, {"case_id": 1, "detail": 1}):
        audited.setdefault(entry["case_id"], set()).add(entry["detail"]["state"])
    return {"receipts": receipts, "states": states, "posts": posts, "by_case": by_case, "audited": audited}


def _judge(items: list[Planned], seen: dict, report: Report) -> None:
    report.accounted = report.wrong_receipt = report.wrong_state = report.missing_alerts = 0
    report.duplicate_alerts = report.distinct_duplicates = report.unexpected_alerts = report.audit_missing = 0
    examples: dict[str, list[str]] = {}
    for item in items:
        got = seen["receipts"].get(item.result_id, [])
        want = "rejected" if item.kind == "rejected" else "accepted"
        if any(r["status"] == want and (want == "accepted" or r["reasons"][0]["code"] == item.expect) for r in got):
            report.accounted += 1
        elif got:
            report.wrong_receipt += 1
            examples.setdefault("wrong_receipt", []).append(item.result_id)
        else:
            examples.setdefault("lost", []).append(item.result_id)
        if item.kind == "rejected":
            continue
        if seen["states"].get(item.case_id) != item.expect:
            report.wrong_state += 1
            examples.setdefault("wrong_state", []).append(f"{item.case_id}={seen['states'].get(item.case_id)}")
        stages = {"received", "ingested", "annotated", "alerted" if item.kind == "review" else "report_ready"}
        if item.kind == "review":
            stages.add("review_required")
        missing = stages - seen["audited"].get(item.case_id, set())
        if missing:
            report.audit_missing += len(missing)
            examples.setdefault("audit_missing", []).append(f"{item.case_id}:{','.join(sorted(missing))}")
        keys = seen["by_case"].get(item.case_id, set())
        if item.kind == "review":
            if not keys:
                report.missing_alerts += 1
                examples.setdefault("missing_alert", []).append(item.case_id)
            report.distinct_duplicates += max(0, len(keys) - 1)
            for key in keys:
                extra = seen["posts"][key] - 1
                if extra > 0:
                    report.duplicate_alerts += extra
                    examples.setdefault("duplicate", []).append(f"{item.case_id}:{key}x{extra + 1}")
        elif keys:
            report.unexpected_alerts += len(keys)
    report.lost = report.sent - report.accounted
    report.examples = {k: v[:5] for k, v in examples.items()}


def _pending(bootstrap: str) -> int:
    """Messages on the lab results topic that ingest's consumer group has not committed (its lag)."""

    async def lag() -> int:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        consumer = AIOKafkaConsumer(topics.LAB_RESULTS, bootstrap_servers=bootstrap, group_id=None)
        await admin.start()
        await consumer.start()
        try:
            committed = await admin.list_consumer_group_offsets("oncorelay-ingest")
            numbers = consumer.partitions_for_topic(topics.LAB_RESULTS) or set()
            if not numbers:
                return -1  # unknown: never report "nothing pending" without having looked
            ends = await consumer.end_offsets([TopicPartition(topics.LAB_RESULTS, n) for n in numbers])
            return sum(end - (committed[tp].offset if tp in committed else 0) for tp, end in ends.items())
        finally:
            await consumer.stop()
            await admin.close()

    return asyncio.run(lag())


def run(config: Config, console: Console | None = None) -> Report:
    """One fault run; everything it starts is stopped before it returns."""
    console = console or Console(stderr=True)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # the broker restart is on purpose: no warnings
    rng = random.Random(config.seed)
    run_id = token(rng)
    work = config.work or Path(tempfile.mkdtemp(prefix="oncorelay-chaos-"))
    work.mkdir(parents=True, exist_ok=True)
    report = Report(work=str(work), run_id=run_id)
    window = config.publish_seconds or config.seconds / 3
    items = plan(config.results, run_id, rng)
    console.log(f"chaos run {run_id}: {len(items)} results over {window:.0f} s, work dir {work}")

    infra = PrivateInfra(work)
    receiver = WebhookReceiver(SECRET.encode()).start()
    services = None
    client = None
    chaos = None
    bootstrap = infra.env["ONCORELAY_KAFKA_BOOTSTRAP"]
    started = time.monotonic()
    try:
        infra.start_all()
        env = base_env(**infra.env, ONCORELAY_MONGO_DATABASE="oncorelay_chaos", ONCORELAY_DATA_DIR=str(work / "data"),
                       ONCORELAY_WEBHOOK_URLS=receiver.url, ONCORELAY_WEBHOOK_SECRET=SECRET,
                       ONCORELAY_DELIVERY_BASE_DELAY_S="0.2", ONCORELAY_DELIVERY_MAX_DELAY_S="2.0",
                       ONCORELAY_DELIVERY_MAX_ATTEMPTS="50", ONCORELAY_LOG_LEVEL="info", HOME=str(work / "home"))
        client = MongoClient(infra.env["ONCORELAY_MONGO_URI"], tz_aware=True, serverSelectionTimeoutMS=5000)
        db = client["oncorelay_chaos"]
        register_test_labs(db)
        services = ServiceProcesses(env, work)
        services.start_all()
        bootstrap = infra.env["ONCORELAY_KAFKA_BOOTSTRAP"]

        started = time.monotonic()
        chaos = Chaos(_schedule(config, rng, window), services, infra, started, console.log)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=False) as progress:
            task = progress.add_task("published", total=len(items))
            chaos.start()
            report.sent = asyncio.run(_publish(bootstrap, items, window, progress, task))
            chaos.join(timeout=max(0.0, config.seconds - (time.monotonic() - started)))
            report.faults = list(chaos.done)
            report.unexpected_exits = len(chaos.unexpected)

            settle = progress.add_task("accounted", total=len(items))
            deadline = started + config.seconds
            quiet_since = None
            while time.monotonic() < deadline:
                with chaos.lock:
                    chaos.restart_the_dead()
                report.unexpected_exits = len(chaos.unexpected)
                try:
                    seen = _observe(items, bootstrap, db, receiver)
                except Exception as error:  # the database or broker is still coming back
                    console.log(f"observing failed ({type(error).__name__}); retrying")
                    time.sleep(2)
                    continue
                _judge(items, seen, report)
                progress.update(settle, completed=report.accounted)
                complete = not (report.lost or report.wrong_state or report.missing_alerts or report.audit_missing)
                if complete:
                    quiet_since = quiet_since or time.monotonic()
                    if time.monotonic() - quiet_since >= 10:  # stay a little to catch late duplicates
                        report.quiescent = True
                        break
                else:
                    quiet_since = None
                time.sleep(3)
    finally:
        report.elapsed_s = time.monotonic() - started
        if chaos is not None:
            report.faults += chaos.unexpected
        if report.lost and services is not None:
            try:
                report.pending = _pending(bootstrap)
            except Exception:  # the broker is away: the count stays unknown
                report.pending = -1
        if services is not None:
            services.stop_all()
        if client is not None:
            client.close()
        receiver.stop()
        infra.stop_all(remove_data=True)
    return report


def print_report(report: Report, console: Console) -> None:
    table = Table(title="chaos run")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name in ("sent", "accounted", "lost", "wrong_receipt", "wrong_state", "missing_alerts", "duplicate_alerts",
                 "distinct_duplicates", "unexpected_alerts", "unexpected_exits", "audit_missing", "pending"):
        table.add_row(name, str(getattr(report, name)))
    table.add_row("quiescent", str(report.quiescent))
    table.add_row("elapsed", f"{report.elapsed_s:.0f} s")
    console.print(table)
    for fault in report.faults:
        console.print(f"  {fault}")
    for what, ids in report.examples.items():
        console.print(f"  {what}: {', '.join(ids)}")
    console.print(f"  service logs: {report.work}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=900.0, help="bound on the whole run")
    parser.add_argument("--publish-seconds", type=float, default=None, help="spread publishing over this time")
    parser.add_argument("--kills", type=int, default=3, help="SIGKILLs per service")
    parser.add_argument("--no-broker-restart", action="store_true")
    parser.add_argument("--no-database-restart", action="store_true")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--work", type=Path, default=None, help="work dir (logs, data); default: a new temp dir")
    args = parser.parse_args(argv)
    config = Config(args.results, args.seconds, args.publish_seconds, args.kills, not args.no_broker_restart,
                    not args.no_database_restart, args.seed, args.work)
    console = Console(stderr=True)
    report = run(config, console)
    print_report(report, console)
    print(report.last_line(), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
