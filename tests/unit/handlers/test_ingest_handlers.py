"""ingest's handler with in-memory fakes of its ports: acceptance, rejection, redelivery and a crash between any
two writes (the orderings services/ingest/handlers.py argues), in milliseconds."""

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from contracts import topics
from contracts.events import SequencingResult
from contracts.reasons import RejectionCode
from contracts.registry import Lab
from services.common.keys import result_key
from services.common.settings import Settings
from services.ingest.domain.rejection import VcfRejected
from services.ingest.handlers import Ingest, Message, PayloadRetention
from tests.fakes.common import FakeCaseRecord, FakePublisher, FixedClock
from tests.fakes.faults import CrashRun, Faults, Outage
from tests.fakes.ingest import FakeLabRegistry, FakeResultStore, FakeVcfFiles, FakeVcfReader

EXAMPLE = Path(__file__).resolve().parents[3] / "contracts" / "examples" / "SequencingResult.json"
BATCHES = [(500, [b"chunk-0", b"chunk-1"]), (120, [b"chunk-2"])]


def result(**changes) -> SequencingResult:
    example = SequencingResult.model_validate_json(EXAMPLE.read_bytes())
    return example.model_copy(update=changes)


def message(value: SequencingResult, offset: int = 7) -> Message:
    return Message(value.model_dump_json().encode(), value.result_id, 0, offset)


@dataclass
class IngestWorld:
    directory: Path
    reject_after: int | None = None
    refuse: VcfRejected | None = None
    labs: tuple[Lab, ...] = ()
    faults: Faults = field(default_factory=Faults)

    def __post_init__(self) -> None:
        self.clock = FixedClock()
        self.publish = FakePublisher(self.faults)
        self.results = FakeResultStore(self.faults, self.clock)
        self.cases = FakeCaseRecord(self.faults, self.clock)
        self.reader = FakeVcfReader(BATCHES, self.reject_after)
        registered = self.labs or (Lab(lab_id=result().lab_id, any_site=True),)
        self.ingest = Ingest(results=self.results, labs=FakeLabRegistry(*registered), cases=self.cases,
                             files=FakeVcfFiles(self.directory, self.refuse), reader=self.reader,
                             publish=self.publish, settings=Settings(_env_file=None), clock=self.clock,
                             transient_errors=(Outage,))

    def state(self) -> dict:
        """Everything the run leaves behind, repeated events counted once."""
        return {"results": self.results.results, "heads": self.results.heads, "chunks": self.results.chunks,
                "payloads": self.results.payloads, "cases": self.cases.cases, "audit": self.cases.audited,
                "published": self.publish.distinct()}


@pytest.fixture
def world(tmp_path):
    return IngestWorld(tmp_path)


def receipts(world: IngestWorld) -> list:
    return world.publish.on(topics.LAB_RECEIPTS)


async def test_an_accepted_result_stores_its_variants_advances_the_case_and_sends_its_receipt(world):
    value = result()
    receipt = await world.ingest.handle(message(value))
    key = result_key(value.result_id, value.result_version)
    assert receipt.status == "accepted" and receipt.variant_count == 620
    assert [topic for topic, _, _ in world.publish.sent] == [topics.VARIANTS_INGESTED, topics.LAB_RECEIPTS]
    [ingested] = world.publish.on(topics.VARIANTS_INGESTED)
    assert (ingested.result_key, ingested.variant_count, ingested.tumour_sample) == (key, 620, "TUMOR")
    assert sorted(world.results.chunks) == [(key, 0), (key, 1), (key, 2)]
    assert world.results.results[key]["status"] == "accepted" and world.results.heads[value.result_id] == 1
    case = world.cases.cases[value.case_id]
    assert case["state"] == "ingested" and case["treating_site"] == value.treating_site
    assert [step["stage"] for step in case["timeline"]] == ["received", "ingested"]
    assert key in world.results.payloads
    assert not list(world.directory.iterdir()), "the materialised VCF is removed once stored"


async def test_a_result_handled_twice_only_repeats_its_receipt(world):
    value = result()
    await world.ingest.handle(message(value))
    before = world.state()
    again = await world.ingest.handle(message(value))
    assert again.status == "accepted"
    assert world.state() == before
    assert len(world.publish.on(topics.VARIANTS_INGESTED)) == 1 and len(receipts(world)) == 2


async def test_a_crash_between_any_two_writes_and_the_redelivery_end_as_one_clean_run(tmp_path):
    value = result()

    def receipt_only_after_the_result_is_stored(world: IngestWorld) -> None:
        if any(r.status == "accepted" for r in receipts(world)):
            assert world.results.heads.get(value.result_id) == value.result_version

    run = CrashRun(lambda: IngestWorld(tmp_path), lambda w: w.ingest.handle(message(value)), IngestWorld.state)
    tried = await run.check_every_crash(receipt_only_after_the_result_is_stored)
    assert tried >= 8  # chunks x2, payload, case x2, audit, variants-ingested, result, head, receipt


async def test_a_redelivered_older_version_after_a_newer_one_is_stale_and_moves_nothing_back(world):
    first, amended = result(), result(result_version=2)
    await world.ingest.handle(message(first, offset=7))
    await world.ingest.handle(message(amended, offset=8))
    before = world.state()
    late = await world.ingest.handle(message(first, offset=7))  # v1 redelivered after v2 was accepted
    assert [r.code for r in late.reasons] == [RejectionCode.STALE_VERSION]
    after = world.state()
    assert {k: after[k] for k in ("results", "heads", "chunks", "cases")} == {
        k: before[k] for k in ("results", "heads", "chunks", "cases")}
    assert world.cases.cases[first.case_id]["state_result_key"] == result_key(first.result_id, 2)


async def test_a_new_version_below_the_accepted_one_is_rejected_as_stale(world):
    await world.ingest.handle(message(result(result_version=3)))
    receipt = await world.ingest.handle(message(result(result_version=2), offset=8))
    assert [r.code for r in receipt.reasons] == [RejectionCode.STALE_VERSION]


async def test_a_vcf_rejected_half_way_leaves_no_chunk_and_is_audited_once_however_often_redelivered(tmp_path):
    world = IngestWorld(tmp_path, reject_after=1)
    value = result()
    first = await world.ingest.handle(message(value))
    again = await world.ingest.handle(message(value))
    assert first.status == again.status == "rejected"
    assert [r.code for r in first.reasons] == [RejectionCode.VCF_TRUNCATED]
    assert world.results.chunks == {} and world.results.results == {}
    assert len(world.publish.on(topics.LAB_RESULTS_DLQ)) == 2
    [entry] = [e for e in world.cases.audited.values() if e["action"] == "result_rejected"]
    assert entry["detail"]["codes"] == ["vcf_truncated"]
    assert value.case_id not in world.cases.cases


async def test_a_rejected_vcf_never_names_the_servers_file_path(tmp_path):
    refusal = VcfRejected(RejectionCode.CHECKSUM_MISMATCH, "the sha256 of the file differs from vcf.sha256")
    world = IngestWorld(tmp_path, refuse=refusal)
    receipt = await world.ingest.handle(message(result()))
    assert [r.code for r in receipt.reasons] == [RejectionCode.CHECKSUM_MISMATCH]
    assert str(tmp_path) not in receipt.message


async def test_an_outage_is_raised_for_a_retry_not_turned_into_a_rejection(world):
    world.faults.outage.add("results")
    with pytest.raises(Outage):
        await world.ingest.handle(message(result()))
    assert receipts(world) == [] and world.publish.on(topics.LAB_RESULTS_DLQ) == []
    assert (await world.ingest.handle(message(result()))).status == "accepted"  # the retry completes it


async def test_an_unforeseen_error_rejects_the_result_with_processing_failed(world, monkeypatch):
    async def broken(*args):
        raise KeyError("bug")

    monkeypatch.setattr(world.results, "save_payload", broken)
    receipt = await world.ingest.handle(message(result()))
    assert [r.code for r in receipt.reasons] == [RejectionCode.PROCESSING_FAILED]
    assert "KeyError" in receipt.reasons[0].message


async def test_an_unregistered_lab_and_another_labs_result_are_refused(tmp_path):
    world = IngestWorld(tmp_path, labs=(Lab(lab_id="LAB-OTHER", any_site=True),))
    receipt = await world.ingest.handle(message(result()))
    assert [r.code for r in receipt.reasons] == [RejectionCode.UNKNOWN_LAB]
    owner = IngestWorld(tmp_path, labs=(Lab(lab_id="LAB-A", any_site=True), Lab(lab_id="LAB-B", any_site=True)))
    await owner.ingest.handle(message(result(lab_id="LAB-A")))
    taken = await owner.ingest.handle(message(result(lab_id="LAB-B", result_version=2), offset=8))
    assert [r.code for r in taken.reasons] == [RejectionCode.RESULT_OWNED_BY_OTHER_LAB]


async def test_a_case_of_another_hospital_is_refused(world):
    await world.ingest.handle(message(result()))
    other = result(result_id="R-OTHER", treating_site="HOSP-ELSEWHERE")
    receipt = await world.ingest.handle(message(other, offset=8))
    assert [r.code for r in receipt.reasons] == [RejectionCode.CASE_SITE_CONFLICT]


async def test_malformed_json_is_kept_in_the_dlq_with_its_reason(world):
    receipt = await world.ingest.handle(Message(b"{not json", "k-1", 0, 3))
    assert [r.code for r in receipt.reasons] == [RejectionCode.MALFORMED_JSON]
    [dead] = world.publish.on(topics.LAB_RESULTS_DLQ)
    assert (dead.offset, dead.key, dead.reasons[0].code) == (3, "k-1", RejectionCode.MALFORMED_JSON)


async def test_a_message_set_aside_is_rejected_with_the_reason_it_stopped_the_service(world):
    value = result()
    receipt = await world.ingest.set_aside(message(value), VcfRejected(RejectionCode.ATTEMPTS_EXHAUSTED, "stopped 3x"))
    assert [r.code for r in receipt.reasons] == [RejectionCode.ATTEMPTS_EXHAUSTED]
    assert receipt.result_id == value.result_id and world.results.results == {}


async def test_payload_retention_deletes_only_expired_payloads_and_audits_the_count(world):
    await world.ingest.handle(message(result()))
    retention = PayloadRetention(world.results, world.cases, world.clock)
    assert await retention.run(retention_days=30) == 0 and world.cases.audit_log == []
    world.clock.advance(timedelta(days=31).total_seconds())
    assert await retention.run(retention_days=30) == 1
    [entry] = world.cases.audit_log
    assert entry["action"] == "payloads_deleted" and entry["detail"]["count"] == 1
    assert world.results.payloads == {} and world.results.results, "results are the clinical record: kept"
    assert json.dumps(entry["detail"])  # no datetime: it is JSON as it is
