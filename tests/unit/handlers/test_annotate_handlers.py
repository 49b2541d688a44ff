"""annotate's handler with in-memory fakes of its ports: interpretation, review alert, redelivery, a crash between
any two writes, longitudinal history and re-tiering (the orderings services/annotate/handlers.py argues)."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest

from contracts import topics
from contracts.events import VariantsIngested
from contracts.variant import Variant
from services.annotate.domain.knowledge import KnowledgeBase
from services.annotate.domain.triage import RuleSet
from services.annotate.handlers import Annotator, alert_id
from services.common import metrics
from services.common.oncotree import load_oncotree
from services.common.settings import Settings
from tests.fakes.annotate import FakeAnnotationStore, FakeKnowledgeStore
from tests.fakes.common import FakeCaseRecord, FakePublisher, FixedClock
from tests.fakes.faults import CrashRun, Faults, Outage

EXAMPLE = Path(__file__).resolve().parents[3] / "contracts" / "examples" / "VariantsIngested.json"
EGFR_L858R = Variant(chrom="chr7", pos=55191822, ref="T", alt="G", kind="snv", gene="EGFR", hgvsp="p.Leu858Arg",
                     consequence="missense_variant", vaf=0.30, depth=400)
VUS = Variant(chrom="chr2", pos=1234, ref="C", alt="T", kind="snv", gene="ORF7", hgvsp="p.Ala10Val",
              consequence="missense_variant", vaf=0.2, depth=300)
KB = KnowledgeBase.build()
TREE = load_oncotree()
RULES = RuleSet.load()


def ingested(variants: list[Variant], **changes) -> VariantsIngested:
    event = VariantsIngested.model_validate_json(EXAMPLE.read_bytes())
    version = changes.get("result_version", event.result_version)
    return event.model_copy(update={"variant_count": len(variants), "result_key": f"{event.result_id}@{version}",
                                    **changes})


@dataclass
class AnnotateWorld:
    kb: KnowledgeBase = KB
    stored_kb: KnowledgeBase | None = None
    faults: Faults = field(default_factory=Faults)

    def __post_init__(self) -> None:
        self.clock = FixedClock()
        self.publish = FakePublisher(self.faults)
        self.store = FakeAnnotationStore(self.faults)
        self.cases = FakeCaseRecord(self.faults, self.clock)
        self.annotator = Annotator(store=self.store, knowledge=FakeKnowledgeStore(self.stored_kb), cases=self.cases,
                                   publish=self.publish, settings=Settings(_env_file=None), clock=self.clock,
                                   transient_errors=(Outage,), kb=self.kb, rules=RULES, oncotree=TREE)

    def given(self, event: VariantsIngested, variants: list[Variant]) -> bytes:
        """What ingest left: the case, its variants, and the event on the topic."""
        self.store.variants[event.result_key] = [variants]
        self.cases.cases.setdefault(event.case_id, {"_id": event.case_id, "state": "ingested", "state_order": "",
                                                    "treating_site": event.treating_site})
        return event.model_dump_json().encode()

    def state(self) -> dict:
        return {"interpretations": self.store.interpretations, "specimens": self.store.specimens,
                "index": self.store.patient_index, "cases": self.cases.cases, "audit": self.cases.audited,
                "published": self.publish.distinct()}


async def test_a_tier_one_finding_is_interpreted_stored_and_raises_one_alert_counted_by_priority():
    world = AnnotateWorld()
    event = ingested([EGFR_L858R, VUS])
    before = metrics.ALERTS_RAISED.labels("routine")._value.get()
    interp = await world.annotator.handle(world.given(event, [EGFR_L858R, VUS]))
    assert interp.alert and interp.triage.priority == "routine"  # the shipped rules: urgent needs a resistance
    assert [topic for topic, _, _ in world.publish.sent] == [topics.CASES_ANNOTATED, topics.MTB_ALERTS]
    [alert] = world.publish.on(topics.MTB_ALERTS)
    assert alert.alert_id == alert_id(event.result_key, [r.code for r in alert.reasons])
    assert any(f.gene == "EGFR" and f.amp_tier == "I" for f in alert.findings)
    assert world.cases.cases[event.case_id]["state"] == "review_required"
    assert event.result_key in world.store.interpretations and event.result_key in world.store.specimens
    assert metrics.ALERTS_RAISED.labels("routine")._value.get() == before + 1


async def test_a_result_without_findings_is_report_ready_and_raises_no_alert():
    world = AnnotateWorld()
    event = ingested([VUS])
    interp = await world.annotator.handle(world.given(event, [VUS]))
    assert not interp.alert and world.publish.on(topics.MTB_ALERTS) == []
    assert world.cases.cases[event.case_id]["state"] == "report_ready"
    [annotated] = world.publish.on(topics.CASES_ANNOTATED)
    assert annotated.needs_review is False and annotated.kb_version == KB.version


async def test_a_redelivered_event_repeats_the_first_interpretation_and_the_same_alert():
    world = AnnotateWorld()
    event = ingested([EGFR_L858R])
    raw = world.given(event, [EGFR_L858R])
    await world.annotator.handle(raw)
    before = world.state()
    world.store.variants[event.result_key] = [[VUS]]  # had the input changed, the first interpretation still stands
    again = await world.annotator.handle(raw)
    assert any(f.gene == "EGFR" for f in again.findings)
    assert world.state() == before, "the same alert id, the same case, nothing stored twice"
    assert len(world.publish.on(topics.MTB_ALERTS)) == 2  # at least once: notify drops the repeat by its id


async def test_a_crash_between_any_two_writes_and_the_redelivery_end_as_one_clean_run():
    event = ingested([EGFR_L858R, VUS])

    def build() -> AnnotateWorld:
        world = AnnotateWorld()
        world.raw = world.given(event, [EGFR_L858R, VUS])
        return world

    def alert_only_after_the_case_is_advanced(world: AnnotateWorld) -> None:
        if world.publish.on(topics.MTB_ALERTS):
            assert world.cases.cases[event.case_id]["state"] == "review_required"

    run = CrashRun(build, lambda w: w.annotator.handle(w.raw), AnnotateWorld.state)
    assert await run.check_every_crash(alert_only_after_the_case_is_advanced) >= 6


async def test_a_redelivered_first_version_after_its_amendment_moves_the_case_nowhere():
    world = AnnotateWorld()
    first, amended = ingested([EGFR_L858R]), ingested([VUS], result_version=2)
    raw_first = world.given(first, [EGFR_L858R])
    await world.annotator.handle(raw_first)
    await world.annotator.handle(world.given(amended, [VUS]))
    case = dict(world.cases.cases[first.case_id])
    await world.annotator.handle(raw_first)  # v1 redelivered late
    assert world.cases.cases[first.case_id]["state_order"] == case["state_order"]
    assert world.cases.cases[first.case_id]["state_result_key"] == amended.result_key


async def test_a_later_plasma_draw_is_compared_with_the_patients_earlier_specimen():
    world = AnnotateWorld()
    low, high = EGFR_L858R.model_copy(update={"vaf": 0.02}), EGFR_L858R.model_copy(update={"vaf": 0.30})
    plasma = ingested([low]).specimen.model_copy(update={"type": "plasma"})
    first = ingested([low], result_id="R-PLASMA-1", result_key="R-PLASMA-1@1", specimen=plasma)
    later = ingested([high], result_id="R-PLASMA-2", result_key="R-PLASMA-2@1",
                     specimen=plasma.model_copy(update={"specimen_id": "SP-2", "collected_on": date(2026, 12, 20)}))
    await world.annotator.handle(world.given(first, [low]))
    interp = await world.annotator.handle(world.given(later, [high]))
    [rise] = [e for e in interp.longitudinal_events if e.code == "ctdna_rise"]
    assert (rise.vaf_before, rise.vaf_now) == (0.02, 0.30) and rise.gene == "EGFR"


async def test_an_outage_is_raised_for_a_retry_and_the_retry_completes():
    world = AnnotateWorld()
    event = ingested([EGFR_L858R])
    raw = world.given(event, [EGFR_L858R])
    world.faults.outage.add("cases.advance")
    with pytest.raises(Outage):
        await world.annotator.handle(raw)
    await world.annotator.handle(raw)
    assert world.cases.cases[event.case_id]["state"] == "review_required"


async def test_a_new_knowledge_base_re_tiers_stored_results_once():
    old_kb = KnowledgeBase.build()
    old_kb.version = "builtin-2026.01-old"
    world = AnnotateWorld(kb=old_kb, stored_kb=KB)
    event = ingested([EGFR_L858R])
    await world.annotator.handle(world.given(event, [EGFR_L858R]))
    await world.annotator.refresh_knowledge()
    assert world.annotator.kb.version == KB.version
    assert world.store.interpretations[event.result_key]["kb_version"] == KB.version
    assert await world.annotator.retier() == 0, "a re-tiered result is not re-tiered again"


async def test_a_result_that_fails_to_re_tier_keeps_its_interpretation_and_is_not_tried_again():
    old_kb = KnowledgeBase.build()
    old_kb.version = "builtin-2026.01-old"
    world = AnnotateWorld(kb=old_kb, stored_kb=KB)
    event = ingested([EGFR_L858R])
    await world.annotator.handle(world.given(event, [EGFR_L858R]))
    world.store.variants[event.result_key] = []  # its chunks are gone: interpreting it again fails
    await world.annotator.refresh_knowledge()
    stored = world.store.interpretations[event.result_key]
    assert stored["kb_version"] == old_kb.version and stored["retier_failed"] == KB.version
    assert await world.annotator.retier() == 0


async def test_the_versions_used_are_exported_as_metrics():
    world = AnnotateWorld()
    world.clock.advance(timedelta(minutes=1).total_seconds())
    await world.annotator.handle(world.given(ingested([VUS]), [VUS]))
    assert metrics.KNOWLEDGE_BASE._value == {"version": KB.version}
    assert metrics.RULESET._value == {"version": RULES.version}
