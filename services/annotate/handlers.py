"""annotate's use case: one ingested result interpreted, its interpretation stored, review decided; and the
re-tiering of stored results when the knowledge base changes. It depends only on ports (services.annotate.ports,
services.common.ports).

Redelivery-safe: the interpretation is keyed by result_key and the first one stored is what a
redelivered event repeats (its own is computed but not stored, since the history or knowledge base
may have changed since; redelivery is rare, a read before every result is not); the patient's
specimen record is an upsert, the case only moves forward, and the alert id is derived from the
result and its reasons, so a repeated alert is recognised downstream. tests/unit/handlers/test_annotate_handlers.py
replays these orderings with a crash between any two writes.
"""

import hashlib
import json
import logging
import time
from datetime import datetime

from contracts import topics
from contracts.events import CaseAnnotated, MtbReviewRequired, ReviewReason, VariantsIngested
from services.annotate.domain.drift import result_measures
from services.annotate.domain.interpret import (
    Interpretation,
    InterpretSettings,
    ResultContext,
    ResultInterpreter,
    case_facts,
)
from services.annotate.domain.knowledge import KnowledgeBase
from services.annotate.domain.longitudinal import LongitudinalSettings, PatientHistory, SpecimenObservation
from services.annotate.domain.qc import QcThresholds
from services.annotate.domain.retier import knowledge_change
from services.annotate.domain.triage import RuleSet
from services.annotate.ports import AnnotationStore, Document, KnowledgeStore
from services.common import metrics, packed
from services.common.keys import VARIANTS_PER_CHUNK
from services.common.logging import correlate
from services.common.offload import runner
from services.common.oncotree import OncoTree
from services.common.ports import CaseRecord, Clock, Effect, Publish
from services.common.settings import Settings

log = logging.getLogger("oncorelay.annotate")
SERVICE = "annotate"
# A result of up to this many variants (one stored chunk; a panel has hundreds) is interpreted on the event
# loop, a larger one in a worker thread (services.common.offload).
SMALL_RESULT_VARIANTS = VARIANTS_PER_CHUNK


def alert_id(result_key: str, reason_codes: list[str]) -> str:
    """Stable id of the alert for a result and its reasons: the same input never makes two alerts."""
    material = result_key + "|" + ",".join(sorted(reason_codes))
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def load_rules(settings: Settings) -> RuleSet:
    """The triage rule set in use: ONCORELAY_RULES_FILE, else the shipped one."""
    return RuleSet.load(settings.rules_file) if settings.rules_file else RuleSet.load()


class Annotator:
    """Interprets ingested results with its ports: the annotation and knowledge stores, cases, the publisher."""

    def __init__(self, *, store: AnnotationStore, knowledge: KnowledgeStore, cases: CaseRecord, publish: Publish,
                 settings: Settings, clock: Clock, transient_errors: tuple[type[BaseException], ...],
                 kb: KnowledgeBase, rules: RuleSet, oncotree: OncoTree) -> None:
        self.store = store
        self.knowledge = knowledge
        self.cases = cases
        self.publish = publish
        self.settings = settings
        self.clock = clock
        self.transient_errors = transient_errors  # the adapters' outages: retried by the caller
        self.oncotree = oncotree
        self.rules = rules
        self.kb = kb
        self.interpret_settings = InterpretSettings(
            longitudinal=LongitudinalSettings(rise_factor=settings.ctdna_rise_factor),
            qc=QcThresholds(min_tumour_cell_content=settings.qc_min_tumour_cell_content,
                            min_ctdna_tumour_fraction=settings.qc_min_ctdna_tumour_fraction,
                            min_median_target_depth=settings.qc_min_median_target_depth),
        )
        metrics.set_versions(self.kb.version, self.rules.version)

    async def refresh_knowledge(self) -> None:
        """Load the stored knowledge base if its version differs from the one in use, then re-tier the stored
        results made with another one (a restart loads it again, so an interrupted re-tier resumes)."""
        version = await self.knowledge.stored_version()
        if version is not None and version != self.kb.version:
            self.kb = await self.knowledge.load()
            metrics.set_versions(self.kb.version, self.rules.version)
            log.info("knowledge base loaded", extra={"kb_version": self.kb.version})
            await self.retier()

    async def retier(self) -> int:
        """Interpret again every stored result made with another knowledge base; where the triage decision
        changes, raise a new alert with the old and new calls side by side. Returns the results re-tiered.

        Safe to repeat: a re-tiered result carries the new version and is skipped, and the alert id is derived
        from the result, the knowledge-base version and the reasons."""
        count = 0
        async for document in self.store.interpretations_to_retier(self.kb.version):
            event = VariantsIngested.model_validate_json(json.dumps(document["event"]))
            with correlate(result_key=event.result_key, case_id=event.case_id):
                try:
                    old = Interpretation.model_validate(packed.unpack(document["interpretation"], document["encoding"]))
                    new = await self._interpret(event)
                    await self._retiered(event, old, new)
                except self.transient_errors:
                    raise
                except Exception:  # one result must not stop re-tiering (or annotate): it keeps its interpretation
                    log.exception("re-tiering a stored result failed; it keeps its interpretation")
                    await self.store.mark_retier_failed(event.result_key, self.kb.version)
                    continue
            count += 1
        if count:
            log.info("stored results re-tiered", extra={"kb_version": self.kb.version, "results": count})
        return count

    async def _retiered(self, event: VariantsIngested, old: Interpretation, new: Interpretation) -> None:
        change = knowledge_change(old, new)
        await self.store.replace_interpretation(event.result_key, self._document(event, new),
                                                new.model_dump_json().encode("utf-8"))
        if change is None:
            return
        await self.cases.audit_once([Effect(f"retiered:{event.result_key}:{new.kb_version}", SERVICE, "result_retiered",
                                            event.case_id, None, {"calls": change.calls, "decision": change.decision,
                                                                  "kb_version": new.kb_version})])
        if not (change.decision_changed and new.triage.needs_review):
            return
        reasons = [ReviewReason(rule_id="KB", code="knowledge_changed", summary=change.summary)]
        reasons += [ReviewReason(rule_id=r.rule_id, code=r.code, summary=r.summary) for r in new.triage.reasons]
        await self.cases.advance(event.case_id, event.result_key, event.published_at,
                                 [("review_required", change.summary)], actor=SERVICE)
        await self._raise_alert(event, new, reasons, f"{event.result_key}|{new.kb_version}", self.clock())

    async def _raise_alert(self, event: VariantsIngested, interp: Interpretation, reasons: list[ReviewReason],
                           identity: str, now: datetime) -> None:
        """Publish the MTB-review alert of a result; its id derives from `identity` and the reason codes."""
        await self.publish(topics.MTB_ALERTS, event.case_id, MtbReviewRequired(
            alert_id=alert_id(identity, [r.code for r in reasons]),
            case_id=event.case_id, result_key=event.result_key, result_id=event.result_id,
            result_version=event.result_version, lab_id=event.lab_id, treating_site=event.treating_site,
            tumor_type=event.tumor_type, priority=interp.triage.priority, reasons=reasons,
            findings=interp.finding_summaries(), kb_version=interp.kb_version,
            ruleset_version=interp.ruleset_version, published_at=event.published_at, raised_at=now,
        ))
        metrics.ALERTS_RAISED.labels(interp.triage.priority).inc()

    async def handle(self, raw: bytes) -> Interpretation:
        """Interpret one variants-ingested event (raw JSON) and carry out its effects."""
        started = time.perf_counter()
        event = VariantsIngested.model_validate_json(raw)
        with correlate(result_key=event.result_key, case_id=event.case_id):
            return await self._annotate(event, started)

    async def _annotate(self, event: VariantsIngested, started: float) -> Interpretation:
        interp = await self._interpret(event)
        stored = await self.store.save_interpretation_once(event.result_key, self._document(event, interp),
                                                           interp.model_dump_json().encode("utf-8"))
        if stored is not None:
            # Redelivered: the first interpretation of a result stands (this one could have seen a history or
            # knowledge base that changed since, and raise a different alert); its effects are repeated.
            interp = Interpretation.model_validate(stored)
            log.info("result already interpreted; repeating its effects")
        else:  # the first interpretation of this result: counted once for the lab's drift metrics
            self._measure(event, interp)
        await self.store.save_specimen(event.result_key, {
            "patient_pseudonym": event.patient_pseudonym,
            "result_id": event.result_id,
            "result_version": event.result_version,
            "collected_on": event.specimen.collected_on.isoformat(),
            "observation": interp.current_specimen.model_dump(mode="json"),
        })
        now = self.clock()
        decision = interp.triage
        final_stage = ("review_required" if interp.alert
                       else "non_informative" if not interp.qc.informative else "report_ready")
        await self.cases.advance(event.case_id, event.result_key, event.published_at, [
            ("annotated", f"kb {interp.kb_version}, rules {interp.ruleset_version}"),
            (final_stage, "; ".join(r.code for r in decision.reasons) or ("" if interp.qc.informative
                                                                        else interp.qc.summary)),
        ], actor=SERVICE)
        reasons = [ReviewReason(rule_id=r.rule_id, code=r.code, summary=r.summary) for r in decision.reasons]
        await self.publish(topics.CASES_ANNOTATED, event.case_id, CaseAnnotated(
            result_key=event.result_key, result_id=event.result_id, result_version=event.result_version,
            case_id=event.case_id, tumor_type=event.tumor_type, findings=interp.finding_summaries(),
            tmb_per_mb=interp.tmb.tmb_per_mb, msi_status=interp.msi_status, needs_review=interp.alert,
            priority=decision.priority if interp.alert else None, reasons=reasons if interp.alert else [],
            kb_version=interp.kb_version, ruleset_version=interp.ruleset_version,
            published_at=event.published_at, annotated_at=now,
        ))
        metrics.set_versions(interp.kb_version, interp.ruleset_version)  # what was used, even if not announced
        metrics.END_TO_END_SECONDS.labels("annotated").observe((now - event.published_at).total_seconds())
        if interp.alert:
            await self._raise_alert(event, interp, reasons, event.result_key, now)
        metrics.PROCESSING_SECONDS.labels(SERVICE, "annotate").observe(time.perf_counter() - started)
        return interp

    @staticmethod
    def _measure(event: VariantsIngested, interp: Interpretation) -> None:
        measures = result_measures(event, interp)
        lab, assay = metrics.lab_labels(event.lab_id, event.assay.name)
        metrics.LAB_INTERPRETED.labels(lab, assay, str(measures.informative).lower()).inc()
        for histogram, value in ((metrics.LAB_TMB, measures.tmb_per_mb), (metrics.LAB_MEDIAN_VAF, measures.median_vaf),
                                 (metrics.LAB_TUMOUR_CONTENT, measures.tumour_content)):
            if value is not None:
                histogram.labels(lab, assay).observe(value)

    async def _interpret(self, event: VariantsIngested) -> Interpretation:
        interpreter = ResultInterpreter(ResultContext.from_event(event), self.kb, self.oncotree, self.interpret_settings)
        run = runner(event.variant_count <= SMALL_RESULT_VARIANTS)
        async for variants in self.store.variant_chunks(event.result_key, event.variant_count, run):
            await run(interpreter.add, variants)
        history = await self._history(event)
        previous = await self._previous(event)
        return await run(interpreter.finish, self.rules, history, previous)

    async def _history(self, event: VariantsIngested) -> PatientHistory:
        earlier = await self.store.specimen_history(event.patient_pseudonym, event.result_key)
        specimens = [
            SpecimenObservation.model_validate(d["observation"]) for d in earlier
            if d["result_id"] != event.result_id  # an amended result replaces, not follows, its earlier version
        ]
        return PatientHistory(patient_pseudonym=event.patient_pseudonym, specimens=specimens)

    async def _previous(self, event: VariantsIngested) -> Interpretation | None:
        if event.result_version == 1:
            return None
        stored = await self.store.previous_interpretation(event.result_id, event.result_version)
        return Interpretation.model_validate(stored) if stored else None

    def _document(self, event: VariantsIngested, interp: Interpretation) -> Document:
        """The stored interpretation's plain fields: ids and triage facts for replay (the model itself is stored
        packed beside them, see InterpretationStore.save_interpretation_once)."""
        return {
            "result_id": event.result_id,
            "result_version": event.result_version,
            "case_id": event.case_id,
            "patient_pseudonym": event.patient_pseudonym,
            "facts": case_facts(interp).model_dump(mode="json"),
            "kb_version": interp.kb_version,
            "event": event.model_dump(mode="json"),  # what re-tiering needs to interpret the result again
            "annotated_at": self.clock(),
        }
