"""QC-aware calls: a result whose QC fails is non-informative, never report-ready; "not detected" respects the
limit of detection."""

from datetime import date

import pytest

from contracts.events import ResultQc
from services.annotate.domain.interpret import ResultContext, interpret
from services.annotate.domain.longitudinal import (
    ObservedVariant,
    PatientHistory,
    SpecimenObservation,
    detect,
)
from services.annotate.domain.qc import QcThresholds, assess
from services.annotate.domain.triage import CaseFacts, RuleSet, decide


@pytest.mark.parametrize("qc, specimen, reason", [
    (ResultQc(tumour_cell_content=0.1), "tissue", "tumour cell content 10% is below 20%"),
    (ResultQc(ctdna_tumour_fraction=0.004), "plasma", "ctDNA tumour fraction 0.4% is below 1%"),
    (ResultQc(lab_status="fail"), "tissue", "the lab's QC failed"),
])
def test_each_failed_measure_makes_the_result_non_informative_and_is_named(qc, specimen, reason):
    verdict = assess(qc, specimen, QcThresholds())
    assert not verdict.informative and reason in verdict.reasons[0]


def test_passing_unreported_and_unjudged_measures_leave_the_result_informative():
    assert assess(ResultQc(tumour_cell_content=0.45, median_target_depth=80), "tissue", QcThresholds()).informative
    assert assess(None, "tissue", QcThresholds()).not_reported
    assert assess(ResultQc(ctdna_tumour_fraction=0.004), "tissue", QcThresholds()).informative  # plasma-only measure
    depth = QcThresholds(min_median_target_depth=250)
    assert "median target depth 80x is below 250x" in assess(ResultQc(median_target_depth=80), "tissue", depth).reasons


def test_a_non_informative_result_is_never_report_ready():
    facts = CaseFacts(case_id="C", non_informative=True, qc_reasons=["tumour cell content 10% is below 20%"])
    rules = RuleSet.load()
    decision = decide(facts, rules)
    assert (decision.status, decision.priority, [r.code for r in decision.reasons]) == (
        "needs_review", "routine", ["non_informative"])
    assert decision.reasons[0].summary == ("Non-informative result (tumour cell content 10% is below 20%): "
                                           "consider re-testing")
    without = rules.model_copy(update={"rules": [r for r in rules.rules if r.code != "non_informative"]})
    quiet = decide(facts, without)
    assert (quiet.status, quiet.needs_review) == ("non_informative", False)
    assert decide(CaseFacts(case_id="C"), without).status == "report_ready"


def _ctx(**qc) -> ResultContext:
    return ResultContext(result_key="R-QC@1", case_id="CASE-QC", tumor_type="LUAD", specimen_id="SP-1",
                         specimen_type="tissue", collected_on=date(2026, 3, 1), genome_build="GRCh38",
                         panel_size_mb=1.2, qc=ResultQc(**qc) if qc else None)


def test_a_low_purity_tissue_result_without_findings_alerts_as_non_informative(kb, tree):
    rules = RuleSet.load()
    low = interpret(_ctx(tumour_cell_content=0.08), [], kb, tree, rules)
    assert low.alert and [r.code for r in low.triage.reasons] == ["non_informative"]
    assert low.qc.reasons == ["tumour cell content 8% is below 20%"]
    good = interpret(_ctx(tumour_cell_content=0.6, limit_of_detection_vaf=0.05), [], kb, tree, rules)
    assert (good.alert, good.triage.status, good.qc.informative) == (False, "report_ready", True)
    assert good.current_specimen.lod_vaf == 0.05
    assert interpret(_ctx(), [], kb, tree, rules).qc.not_reported


def _plasma(sid, day, lod=None, *variants):
    return SpecimenObservation(specimen_id=sid, type="plasma", collected_on=date(2026, 1, day), lod_vaf=lod,
                               variants=list(variants))


def _kras(vaf):
    return ObservedVariant(track_key="KRAS:G12D", gene="KRAS", alteration="G12D", vaf=vaf)


def test_not_detected_counts_only_where_the_assay_could_have_seen_the_variant(kb, tree):
    contexts = kb.reference.resistance_contexts
    blind = PatientHistory(patient_pseudonym="P", specimens=[_plasma("S1", 1, None, _kras(0.002)),
                                                            _plasma("S2", 10, 0.005)])
    assert detect(blind, _plasma("S3", 20, None, _kras(0.003)), "COAD", [], contexts, tree) == []
    seeing = PatientHistory(patient_pseudonym="P", specimens=[_plasma("S1", 1, None, _kras(0.002)),
                                                             _plasma("S2", 10, 0.001)])
    [event] = detect(seeing, _plasma("S3", 20, None, _kras(0.003)), "COAD", [], contexts, tree)
    assert event.code == "molecular_relapse"
    assert "not detected (limit of detection 0.1%) in 1 plasma specimen(s)" in event.summary
    assert "negative" not in event.summary
