"""Benchmarks 2-4 on the running bench stack: latency at a steady rate, one large result, throughput.

Time stamps: a result's `published_at` is set immediately before the producer sends it; an alert
counts as delivered when the bench's webhook receiver (in this process, same clock) gets the POST;
a result counts as annotated when CaseAnnotated for it is read back from the internal topic.
"""

import asyncio
import copy
import json
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from rich.progress import Progress

from bench.stack import BENCH_LAB
from contracts import topics
from oncorelay.labclient import ResultMetadata, build_result

PARTITIONS = 4  # as the services create their topics (Settings.kafka_topic_partitions)


class AlertSink:
    """A webhook receiver that notes when the first alert for each result arrives (time.time())."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.posts = 0
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                now = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    result_id = json.loads(body).get("result_id")
                except ValueError:
                    result_id = None
                with sink.changed:
                    sink.posts += 1
                    if result_id:
                        sink.arrivals.setdefault(result_id, now)
                    sink.changed.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self, result_ids: set[str]) -> int:
        with self.lock:
            return len(result_ids & self.arrivals.keys())

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RunRejected(RuntimeError):
    """The lab's results were rejected, so there is nothing to wait for."""


class Lab:
    """Publishes copies of prepared results, each with a new result/case id and a fresh published_at."""

    def __init__(self, bootstrap: str, vcfs: list[Path], reference: bool = False,
                 rejections: Callable[[], int] | None = None) -> None:
        self.bootstrap = bootstrap
        self.templates = [self._template(vcf, reference) for vcf in vcfs]
        self.producer: AIOKafkaProducer | None = None
        self.rejections = rejections  # results ingest has rejected so far (the bench stack is fresh per phase)

    def check_accepted(self) -> None:
        """Stop the run if ingest rejected any result: every bench result must be accepted, or nothing is measured."""
        rejected = self.rejections() if self.rejections else 0
        if rejected:
            raise RunRejected(f"ingest rejected {rejected} result(s) of this run; the reasons are in its log "
                              "(.infra/bench/logs/ingest.log, 'result rejected') and on the receipts topic")

    @staticmethod
    def _template(vcf: Path, reference: bool) -> dict:
        meta = ResultMetadata(
            lab=BENCH_LAB, case="CASE-TEMPLATE", patient="PSN-BENCH-0001", specimen_id="SP-TEMPLATE",
            specimen_type="tissue", tumor_type="COAD", assay="BENCH-PANEL", genome_build="GRCh38",
            panel_size_mb=1.5, treating_site="HOSP-BENCH", collected=date(2026, 11, 1), result_id="R-TEMPLATE",
            tumor_only=False,
        )
        result = build_result(meta, vcf, None)
        if reference:
            assert result.vcf.kind == "reference", f"{vcf} is small enough to go inline"
        return json.loads(result.model_dump_json())

    async def start(self) -> None:
        self.producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, max_request_size=2 * 1024 * 1024,
                                         acks="all", enable_idempotence=True, linger_ms=0)
        await self.producer.start()

    async def stop(self) -> None:
        if self.producer:
            await self.producer.stop()

    def message(self, n: int, prefix: str) -> tuple[str, dict]:
        """The n-th result of a run: a template with its own ids, each a different patient's (published_at set
        at send time)."""
        doc = copy.copy(self.templates[n % len(self.templates)])
        # The "N" keeps a run prefix that happens to be all digits plus the counter (123456-000001) from reading
        # as a national identity number (\d{6}-\d{4}), which ingest rightly rejects as a patient identifier.
        result_id = f"{prefix}-N{n:06d}"
        doc.update(result_id=result_id, case_id=f"CASE-{result_id}", patient_pseudonym=f"PSN-{result_id}",
                   specimen=dict(doc["specimen"], specimen_id=f"SP-{result_id}"))
        return result_id, doc

    async def send(self, doc: dict, topic: str = topics.LAB_RESULTS) -> float:
        """Stamp published_at, hand the message to the producer; returns the stamp (time.time())."""
        stamp = time.time()
        doc["published_at"] = datetime.fromtimestamp(stamp, UTC).isoformat()
        await self.producer.send(topic, json.dumps(doc).encode(), key=doc["result_id"].encode())
        return stamp


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def _wait_for(sink: AlertSink, ids: set[str], timeout_s: float, progress: Progress, task, lab: Lab) -> None:
    deadline = time.monotonic() + timeout_s
    polls = 0
    while time.monotonic() < deadline:
        done = sink.count(ids)
        progress.update(task, completed=done)
        if done >= len(ids):
            return
        if polls % 20 == 0:
            await asyncio.to_thread(lab.check_accepted)
        polls += 1
        await asyncio.sleep(0.1)


async def latency(lab: Lab, sink: AlertSink, rate: float, duration_s: float, progress: Progress,
                  wait_s: float = 60, warmup_s: float = 0) -> dict:
    """Publish at a steady `rate` for `warmup_s` + `duration_s`; publish-to-alert p50/p99 of what arrived.

    It is one unbroken stream: the percentiles cover the results sent after the first `warmup_s`
    seconds, and the warm-up's own (a cold broker and services) are returned under "warmup", so a
    backlog left by the warm-up still counts against the measured results.
    """
    prefix = f"LAT{uuid.uuid4().hex[:6].upper()}"
    warmup = int(rate * warmup_s)
    total = warmup + int(rate * duration_s)
    sent: dict[str, float] = {}
    label = f"latency: {rate:g} results/s for {duration_s:g} s" + (f" after {warmup_s:g} s warm-up" if warmup else "")
    task = progress.add_task(label, total=total)
    start = time.monotonic()
    late_sends = 0
    for n in range(total):
        due = start + n / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.05:
            late_sends += 1
        result_id, doc = lab.message(n, prefix)
        sent[result_id] = await lab.send(doc)
        progress.update(task, completed=sink.count(set(sent)))
    await lab.producer.flush()
    await _wait_for(sink, set(sent), wait_s, progress, task, lab)
    with sink.lock:
        arrivals = dict(sink.arrivals)
    latencies = [arrivals[r] - t if r in arrivals else None for r, t in sent.items()]  # in sending order
    summary = {"published": total - warmup, "rate_per_s": rate, "duration_s": duration_s, "late_sends": late_sends,
               **_percentiles(latencies[warmup:]), "slowest_seconds": _slowest_seconds(latencies[warmup:], rate),
               "measured_from": datetime.fromtimestamp(list(sent.values())[warmup], UTC).isoformat()}
    if warmup:
        summary["warmup"] = {"published": warmup, "duration_s": warmup_s, **_percentiles(latencies[:warmup])}
    return summary


def _slowest_seconds(latencies: list[float | None], rate: float, top: int = 5) -> list[dict]:
    """The `top` seconds of sending whose results waited longest (second 0 starts the list): where a
    stall happened, to line up with the services' logs."""
    per_second: dict[int, float] = {}
    for n, latency in enumerate(latencies):
        second = int(n // rate)
        worst = float("inf") if latency is None else latency  # a missing alert is the worst
        per_second[second] = max(per_second.get(second, 0.0), worst)
    ranked = sorted(per_second.items(), key=lambda item: item[1], reverse=True)[:top]
    return [{"second": second, "max_s": None if worst == float("inf") else round(worst, 3)} for second, worst in ranked]


def _percentiles(latencies: list[float | None]) -> dict:
    """Alerts received and their latency percentiles (None: the alert never arrived)."""
    arrived = [x for x in latencies if x is not None]
    return {
        "alerts_received": len(arrived),
        "p50_s": round(_quantile(arrived, 0.5), 4) if arrived else None,
        "p90_s": round(_quantile(arrived, 0.9), 4) if arrived else None,
        "p99_s": round(_quantile(arrived, 0.99), 4) if arrived else None,
        "max_s": round(max(arrived), 4) if arrived else None,
        "mean_s": round(statistics.fmean(arrived), 4) if arrived else None,
    }


async def _read_until(consumer: AIOKafkaConsumer, result_id: str, timeout_s: float) -> float | None:
    """time.time() at which a record for `result_id` was read from the consumer's topic, or None."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        batch = await consumer.getmany(timeout_ms=200)
        now = time.time()
        for records in batch.values():
            for record in records:
                if json.loads(record.value).get("result_id") == result_id:
                    return now
    return None


async def _tail(bootstrap: str, topic: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="latest",
                                enable_auto_commit=False, fetch_max_bytes=8 * 1024 * 1024)
    await consumer.start()
    while not consumer.assignment():
        await asyncio.sleep(0.05)
    for tp in consumer.assignment():
        await consumer.position(tp)
    return consumer


async def large(lab: Lab, bootstrap: str, timeout_s: float, progress: Progress) -> dict:
    """One large by-reference result: publish -> receipt (ingested) -> CaseAnnotated (annotated)."""
    receipts = await _tail(bootstrap, topics.LAB_RECEIPTS)
    annotated = await _tail(bootstrap, topics.CASES_ANNOTATED)
    task = progress.add_task("large result: publish → annotated", total=2)
    try:
        result_id, doc = lab.message(0, f"LARGE{uuid.uuid4().hex[:6].upper()}")
        stamp = await lab.send(doc)
        await lab.producer.flush()
        ingested_at = await _read_until(receipts, result_id, timeout_s)
        await asyncio.to_thread(lab.check_accepted)
        progress.update(task, completed=1)
        annotated_at = await _read_until(annotated, result_id, timeout_s)
        progress.update(task, completed=2)
    finally:
        await receipts.stop()
        await annotated.stop()
    return {
        "vcf_bytes": doc["vcf"]["size_bytes"],
        "to_ingested_s": round(ingested_at - stamp, 3) if ingested_at else None,
        "to_annotated_s": round(annotated_at - stamp, 3) if annotated_at else None,
    }


async def pipeline_throughput(lab: Lab, sink: AlertSink, count: int, progress: Progress) -> dict:
    """Publish `count` results back to back; results/s from the first send to the last alert."""
    prefix = f"THR{uuid.uuid4().hex[:6].upper()}"
    task = progress.add_task(f"throughput: {count} results through the pipeline", total=count)
    ids = set()
    first = time.time()
    for n in range(count):
        result_id, doc = lab.message(n, prefix)
        ids.add(result_id)
        await lab.send(doc)
    await lab.producer.flush()
    published = time.time()
    await _wait_for(sink, ids, 900, progress, task, lab)
    with sink.lock:
        arrivals = [sink.arrivals[r] for r in ids if r in sink.arrivals]
    last = max(arrivals) if arrivals else time.time()
    return {
        "results": count,
        "alerts_received": len(arrivals),
        "publish_s": round(published - first, 3),
        "results_per_s": round(len(arrivals) / (last - first), 2) if arrivals else 0.0,
    }


async def bare_throughput(lab: Lab, count: int, progress: Progress) -> dict:
    """The same producer and payloads on the bare broker: one topic, one aiokafka consumer group."""
    topic = f"bench.bare.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=lab.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)])
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=lab.bootstrap, group_id=f"bench-{topic}",
                                auto_offset_reset="earliest", enable_auto_commit=True,
                                max_partition_fetch_bytes=4 * 1024 * 1024, fetch_max_bytes=8 * 1024 * 1024)
    await consumer.start()
    while not consumer.assignment():
        await asyncio.sleep(0.05)
        await consumer.getmany(timeout_ms=50)
    task = progress.add_task(f"throughput: {count} results on the bare broker", total=count)
    received = 0

    async def consume() -> float:
        nonlocal received
        while received < count:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    json.loads(record.value)  # the least any consumer does with a result
                    received += 1
            progress.update(task, completed=received)
        return time.time()

    reader = asyncio.create_task(consume())
    first = time.time()
    try:
        for n in range(count):
            _, doc = lab.message(n, "BARE")
            await lab.send(doc, topic)
        await lab.producer.flush()
        last = await asyncio.wait_for(reader, 300)
    finally:
        reader.cancel()
        await consumer.stop()
    return {"results": count, "results_per_s": round(count / (last - first), 2)}
