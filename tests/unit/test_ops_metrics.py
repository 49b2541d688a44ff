"""The services' Prometheus metrics: names and units, bounded labels, and what each helper records."""

import asyncio
from types import SimpleNamespace
from typing import NamedTuple

import mode
import pytest
from prometheus_client import REGISTRY
from pymongo import monitoring

from contracts import topics
from services.common import metrics
from services.common.mongo import MongoCommandTimer
from services.common.service import CountingSupervisor, consumer_lag

# Labels that would put patient data (or unbounded ids) into Prometheus.
FORBIDDEN_LABELS = {"patient", "patient_pseudonym", "patient_id", "case_id", "result_id", "result_key", "alert_id",
                    "specimen_id", "url", "target"}
UNITS = ("_total", "_seconds", "_bytes", "_messages", "_cases", "_variants", "_ratio", "_mutations_per_mb", "_info")  # a count of a thing names the thing


def oncorelay_families():
    return [f for f in REGISTRY.collect() if f.name.startswith("oncorelay_")]


def sample_value(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metric_names_carry_prefix_and_base_unit():
    names = [s.name for f in oncorelay_families() for s in f.samples] + [
        f"{f.name}_total" if f.type == "counter" else f.name for f in oncorelay_families()
    ]
    expected = {
        "oncorelay_messages_consumed_total", "oncorelay_messages_produced_total", "oncorelay_messages_rejected_total",
        "oncorelay_processing_seconds", "oncorelay_end_to_end_seconds", "oncorelay_delivery_attempts_total",
        "oncorelay_delivery_failures_total", "oncorelay_consumer_lag_messages", "oncorelay_mongodb_operation_seconds",
        "oncorelay_knowledge_base_info", "oncorelay_ruleset_info", "oncorelay_alerts_raised_total",
        "oncorelay_alerts_delivered_total",
    }
    assert expected <= set(names)
    for family in oncorelay_families():
        exported = f"{family.name}_total" if family.type == "counter" else family.name
        if family.type == "info":
            exported = f"{family.name}_info"
        assert exported.endswith(UNITS), f"{exported} does not end in a base unit or _total"


def test_no_label_can_carry_patient_data_or_unbounded_ids():
    for family in oncorelay_families():
        for sample in family.samples:
            assert not FORBIDDEN_LABELS & set(sample.labels), f"{sample.name} has {sample.labels}"
    for metric in vars(metrics).values():
        names = getattr(metric, "_labelnames", ())
        assert not FORBIDDEN_LABELS & set(names), f"{metric} declares {names}"


def test_set_versions_exports_knowledge_base_and_ruleset_versions():
    metrics.set_versions("civic-2026-11-01+oncokb-4.2", "rules-1.3.0")
    assert sample_value("oncorelay_knowledge_base_info", {"version": "civic-2026-11-01+oncokb-4.2"}) == 1
    assert sample_value("oncorelay_ruleset_info", {"version": "rules-1.3.0"}) == 1


def test_every_acknowledged_message_is_counted_by_service_and_topic():
    before = sample_value("oncorelay_messages_produced_total", {"service": "annotate", "topic": topics.MTB_ALERTS})
    metrics.record_produced("annotate", topics.MTB_ALERTS)
    after = sample_value("oncorelay_messages_produced_total", {"service": "annotate", "topic": topics.MTB_ALERTS})
    assert after == before + 1


def test_mongo_listener_times_commands_by_name_and_outcome():
    metrics.identify("ingest")
    timer = MongoCommandTimer()
    before = sample_value("oncorelay_mongodb_operation_seconds_count",
                          {"service": "ingest", "command": "insert", "outcome": "ok"})
    timer.succeeded(SimpleNamespace(command_name="insert", duration_micros=2500))
    timer.failed(SimpleNamespace(command_name="find", duration_micros=1_000_000))
    assert sample_value("oncorelay_mongodb_operation_seconds_count",
                        {"service": "ingest", "command": "insert", "outcome": "ok"}) == before + 1
    assert sample_value("oncorelay_mongodb_operation_seconds_sum",
                        {"service": "ingest", "command": "find", "outcome": "error"}) >= 1.0
    assert isinstance(timer, monitoring.CommandListener)


def test_lag_series_follow_the_assignment():
    metrics.identify("annotate")
    metrics.set_consumer_lag({(topics.VARIANTS_INGESTED, 0): 7, (topics.VARIANTS_INGESTED, 1): 0})
    labels = {"service": "annotate", "topic": topics.VARIANTS_INGESTED}
    assert sample_value("oncorelay_consumer_lag_messages", {**labels, "partition": "0"}) == 7
    metrics.set_consumer_lag({(topics.VARIANTS_INGESTED, 1): 3})  # partition 0 was revoked
    assert REGISTRY.get_sample_value("oncorelay_consumer_lag_messages", {**labels, "partition": "0"}) is None
    assert sample_value("oncorelay_consumer_lag_messages", {**labels, "partition": "1"}) == 3


class TP(NamedTuple):
    """faust's TP (a named tuple, as aiokafka's TopicPartition)."""

    topic: str
    partition: int


class FakeConsumer:
    """The part of faust's consumer that consumer_lag reads."""

    def __init__(self, ends, committed, earliest):
        self.ends, self._committed_offset, self.earliest = ends, committed, earliest

    def assignment(self):
        return set(self.ends)

    async def highwaters(self, *tps):
        return {tp: self.ends[tp] for tp in tps}

    async def earliest_offsets(self, *tps):
        return {tp: self.earliest[tp] for tp in tps}


def test_lag_is_log_end_minus_committed_or_earliest_when_never_committed():
    tp_a, tp_b = TP("t", 0), TP("t", 1)
    consumer = FakeConsumer(ends={tp_a: 120, tp_b: 40}, committed={tp_a: 100}, earliest={tp_b: 10})
    assert asyncio.run(consumer_lag(consumer)) == {("t", 0): 20, ("t", 1): 30}


def test_lag_of_an_unassigned_consumer_is_empty():
    assert asyncio.run(consumer_lag(FakeConsumer({}, {}, {}))) == {}


@pytest.fixture(autouse=True)
def _restore_identity():
    before = metrics.service_name()
    yield
    metrics._identity["service"] = before


async def test_agent_restarts_are_counted_per_service():
    class Actor(mode.Service):
        """Stands in for a faust agent actor."""

    metrics.identify("notify")
    before = sample_value("oncorelay_agent_restarts_total", {"service": "notify"})
    actor = Actor()
    await actor.start()
    try:
        await CountingSupervisor().restart_service(actor)
    finally:
        await actor.stop()
    assert sample_value("oncorelay_agent_restarts_total", {"service": "notify"}) == before + 1
