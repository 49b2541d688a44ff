"""What a knowledge-base update changes in a stored interpretation: calls side by side, decision changed or not."""

from datetime import date

from contracts.variant import Variant
from services.annotate.domain.interpret import ResultContext, interpret
from services.annotate.domain.knowledge import KnowledgeBase
from services.annotate.domain.retier import knowledge_change
from services.annotate.domain.triage import RuleSet

CTX = ResultContext(result_key="R-KB@1", case_id="CASE-KB", tumor_type="PV", specimen_id="SP-1",
                    specimen_type="tissue", collected_on=date(2026, 3, 1), genome_build="GRCh38", panel_size_mb=1.2)
JAK2 = Variant(chrom="chr9", pos=5073770, ref="G", alt="T", kind="snv", gene="JAK2", hgvsp="p.Val617Phe",
               consequence="missense_variant", vaf=0.3, depth=500)


def _with_jak2_row(kb: KnowledgeBase) -> KnowledgeBase:
    row = next(r for r in kb.records if r.record_id == "BI-EGFR-L858R-NSCLC")
    jak2 = row.model_copy(update={"record_id": "civic:EID-TEST", "source": "civic", "gene": "JAK2",
                                  "alteration": "V617F", "match": row.match.model_copy(update={"proteins": ["V617F"]}),
                                  "tumor_types": ["PV"], "loci": [], "amp_level": "B", "evidence_level": "B"})
    return KnowledgeBase(kb.records + [jak2], kb.reference, civic_release="test")


def test_a_call_that_moves_to_tier_i_changes_the_decision_and_names_both_calls(kb, tree):
    rules = RuleSet.load()
    old = interpret(CTX, [JAK2], kb, tree, rules)
    new = interpret(CTX, [JAK2], _with_jak2_row(kb), tree, rules)
    change = knowledge_change(old, new)
    assert change.decision_changed and not old.triage.needs_review and new.triage.needs_review
    assert change.calls == ["JAK2 V617F: III -> IB"]
    assert change.decision == "report_ready (-) -> needs_review (routine)"
    assert change.summary.startswith(f"Knowledge changed under this case (kb {kb.version} -> ")


def test_the_same_interpretation_is_no_change(kb, tree):
    rules = RuleSet.load()
    first, again = interpret(CTX, [JAK2], kb, tree, rules), interpret(CTX, [JAK2], kb, tree, rules)
    assert knowledge_change(first, again) is None
