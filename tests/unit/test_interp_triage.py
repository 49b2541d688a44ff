from datetime import date
from pathlib import Path

import pytest
import yaml

from contracts.variant import Variant
from services.annotate.domain.amendment import ClinicalSnapshot, compare
from services.annotate.domain.interpret import ResultContext, case_facts, interpret
from services.annotate.domain.longitudinal import ObservedVariant, PatientHistory, SpecimenObservation
from services.annotate.domain.triage import CaseFacts, FindingFact, RuleSet, decide, replay
from services.common.oncotree import OncoTree

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return RuleSet.load()


@pytest.fixture(scope="module")
def tree() -> OncoTree:
    return OncoTree.load(DATA / "oncotree" / "oncotree_2025_10_03.json")


def facts(**kw) -> CaseFacts:
    return CaseFacts(case_id="CASE-1", **kw)


def codes(decision) -> list[str]:
    return [r.code for r in decision.reasons]


def test_ruleset_is_versioned_and_rejects_unknown_conditions(rules, tmp_path):
    assert rules.version == "2026.12-1"
    bad = tmp_path / "rules.yaml"
    bad.write_text(yaml.safe_dump({"version": "x", "rules": [{"id": "R", "code": "c", "when": {"tier": ["I"]},
                                                              "priority": "info", "reason": "r", "source": "s"}]}))
    with pytest.raises(ValueError):
        RuleSet.load(bad)


def test_no_actionable_finding_is_report_ready_without_alert(rules):
    decision = decide(facts(), rules)
    assert (decision.needs_review, decision.status, decision.priority) == (False, "report_ready", None)
    assert decision.ruleset_version == "2026.12-1"


@pytest.mark.parametrize("case, code, priority", [
    (dict(findings=[FindingFact(gene="BRAF", alteration="V600E", amp_tier="I", amp_label="IA")]), "tier_i_finding", "routine"),
    (dict(findings=[FindingFact(gene="BRCA2", alteration="K3326*", amp_tier="II", amp_label="IIC")]), "tier_ii_finding", "routine"),
    (dict(germline=["BRCA2 K3326*: possible germline - refer to genetics"]), "possible_germline", "routine"),
    (dict(events=[{"code": "molecular_relapse", "summary": "KRAS G12D back"}]), "molecular_relapse", "urgent"),
    (dict(events=[{"code": "emergent_resistance", "summary": "EGFR C797S"}]), "emergent_resistance", "urgent"),
    (dict(events=[{"code": "ctdna_rise", "summary": "x3"}]), "ctdna_rise", "routine"),
    (dict(tmb_high=True, tmb_per_mb=14.2), "tmb_high", "routine"),
    (dict(msi_high=True), "msi_high", "routine"),
    (dict(amendment_meaningful=True, amendment_changes=["added BRAF V600E (IA)"]), "amended_result", "info"),
])
def test_each_rule_fires_on_its_fact(rules, case, code, priority):
    decision = decide(facts(**case), rules)
    assert codes(decision) == [code]
    assert decision.priority == priority


def test_tier_iii_alone_is_report_ready(rules):
    decision = decide(facts(findings=[FindingFact(gene="X", alteration="R1W", amp_tier="III", amp_label="III")]), rules)
    assert decision.status == "report_ready"


def test_priority_is_the_highest_matched_and_reasons_carry_details(rules):
    decision = decide(facts(tmb_high=True, tmb_per_mb=12.0, events=[{"code": "emergent_resistance", "summary": "C797S"}]),
                      rules)
    assert decision.priority == "urgent"
    assert codes(decision) == ["emergent_resistance", "tmb_high"]
    assert decision.reasons[1].summary == "TMB-high: 12 mut/Mb (>= 10)"


def test_replay_shows_which_decisions_a_new_ruleset_changes(rules):
    stricter = rules.model_copy(update={"version": "2026.12-1", "rules": [
        r.model_copy(update={"priority": "urgent"}) if r.code == "possible_germline" else r
        for r in rules.rules if r.code != "tmb_high"]})
    cases = [facts(tmb_high=True, tmb_per_mb=11.0), facts(germline=["BRCA1 ..."]), facts()]
    changes = replay(cases, rules, stricter)
    assert [c.change for c in changes] == ["alert no longer raised; reasons +[] -['tmb_high']",
                                           "priority routine -> urgent"]


def test_vaf_only_amendment_is_not_meaningful():
    before = ClinicalSnapshot(actionable={"BRAF V600E": "IA"})
    assert not compare(before, ClinicalSnapshot(actionable={"BRAF V600E": "IA"})).meaningful
    diff = compare(before, ClinicalSnapshot(actionable={"BRAF V600E": "IA", "EGFR L858R": "IA"}, tmb_high=True), 1)
    assert diff.meaningful and diff.changes == ["added EGFR L858R (IA)", "TMB-high now met"]
    assert compare(before, ClinicalSnapshot(actionable={"BRAF V600E": "IIC"})).changes == ["BRAF V600E: IA -> IIC"]


def ctx(**kw) -> ResultContext:
    base = dict(result_key="R-1@1", case_id="CASE-1", patient_pseudonym="PSN-0001", tumor_type="LUAD",
                specimen_id="SP-2", specimen_type="plasma", collected_on=date(2026, 3, 1), genome_build="GRCh38",
                panel_size_mb=1.2, current_therapies=["osimertinib"])
    return ResultContext(**{**base, **kw})


def egfr(hgvsp, vaf, pos=55181378):
    return Variant(chrom="chr7", pos=pos, ref="C", alt="T", kind="snv", gene="EGFR", hgvsp=hgvsp,
                   consequence="missense_variant", vaf=vaf, depth=2000)


def test_interpret_end_to_end_emergent_resistance_is_urgent_and_recorded(kb, tree, rules):
    baseline = SpecimenObservation(specimen_id="SP-1", type="tissue", collected_on=date(2025, 6, 1), variants=[
        ObservedVariant(track_key="EGFR:L858R", gene="EGFR", alteration="L858R", vaf=0.3)])
    history = PatientHistory(patient_pseudonym="PSN-0001", specimens=[baseline])
    result = interpret(ctx(), [egfr("p.Leu858Arg", 0.02), egfr("p.Cys797Ser", 0.01, 55181398)], kb, tree, rules,
                       history=history)
    assert [e.code for e in result.longitudinal_events] == ["emergent_resistance"]
    assert (result.triage.priority, result.alert) == ("urgent", True)
    assert result.kb_version == kb.version and result.ruleset_version == "2026.12-1"
    labels = {(f.gene, f.alteration): f.amp_label for f in result.findings}
    assert labels == {("EGFR", "L858R"): "IA", ("EGFR", "C797S"): "IIC"}
    assert result.finding_summaries()[0].gene == "EGFR"
    assert Interpretation_is_serialisable(result)


def Interpretation_is_serialisable(result) -> bool:
    type(result).model_validate_json(result.model_dump_json())
    return True


def test_amended_result_with_vaf_change_only_raises_no_new_alert(kb, tree, rules):
    first = interpret(ctx(specimen_type="tissue"), [egfr("p.Leu858Arg", 0.30)], kb, tree, rules)
    second = interpret(ctx(result_key="R-1@2", result_version=2, specimen_type="tissue"), [egfr("p.Leu858Arg", 0.25)],
                       kb, tree, rules, previous=first)
    assert first.alert and second.triage.needs_review and not second.alert
    assert second.amendment.meaningful is False
    third = interpret(ctx(result_key="R-1@3", result_version=3, specimen_type="tissue"),
                      [egfr("p.Leu858Arg", 0.25), egfr("p.Thr790Met", 0.1)], kb, tree, rules, previous=second)
    assert third.alert and "amended_result" in codes(third.triage)
    assert decide(case_facts(third), rules).priority == third.triage.priority


def test_panel_sized_result_is_fully_interpreted(kb, tree, rules):
    """Every variant of a 500-variant panel result becomes a finding (speed is measured in bench/, not here)."""
    variants = [Variant(chrom="chr1", pos=1000 + i, ref="C", alt="T", kind="snv", gene=f"G{i % 300}",
                        hgvsp=f"p.Arg{i + 1}Trp", consequence="missense_variant", vaf=0.2, depth=300)
                for i in range(495)]
    variants += [egfr("p.Leu858Arg", 0.3), egfr("p.Thr790Met", 0.1)]
    variants += [Variant(chrom="chr17", pos=1 + i, ref="N", alt="<DUP>", kind="cnv", gene="ERBB2", copy_number=9)
                 for i in range(3)]  # three records: identical ones would be one variant (test_interp_bounds.py)
    result = interpret(ctx(), variants, kb, tree, rules)
    assert len(result.findings) == 500 and result.vus_count == 495
    assert result.tmb.tmb_high
