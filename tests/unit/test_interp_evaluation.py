"""The CIViC evaluation on a small fixed subset: the 18 assertions and the first A/B predictive evidence items of the
01-Aug-2021 release (60 expert calls). The numbers are the ones observed; a change means the curated set, the
matching or the tiering changed, and docs/evaluation.md should be regenerated."""

import pytest

from oncorelay import civic_evaluation as evaluation


@pytest.fixture(scope="module")
def reports():
    return evaluation.evaluate(limit=60)


def test_builtin_curated_set_agreement_on_the_fixed_subset(reports):
    builtin, _ = reports
    assert evaluation.agreement_line(builtin) == "agreement: 70.5% (n=44)"
    assert len(builtin.not_evaluable) == 16
    rows = {row[0]: row for row in evaluation.table_rows(builtin)}
    assert rows["IA"][1:] == ["15", "14", "1", "0", "0", "93.3%"]


def test_consistency_check_with_civic_in_the_kb_is_reported_separately(reports):
    _, consistency = reports
    assert evaluation.agreement_line(consistency) == "agreement: 97.7% (n=44)"
    assert "consistency" in consistency.label


def test_every_disagreement_has_a_reason(reports):
    builtin, _ = reports
    lines = evaluation.disagreements(builtin)
    assert len(lines) == 13
    assert all(" - " in line and line.split(" - ", 1)[1] for line in lines)
    assert any(line.startswith("civic:AID9 ACVR1 G328V") for line in lines)
    causes = {o.case.record.record_id: o.cause for o in builtin.outcomes if not o.agree}
    assert set(causes.values()) <= set(evaluation.CAUSES) and causes["civic:AID9"] == "no_row"


def test_not_evaluable_calls_say_why(reports):
    builtin, _ = reports
    assert all(case.not_evaluable for case in builtin.not_evaluable)
