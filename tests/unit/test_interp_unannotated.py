"""Unannotated VCFs (no CSQ/ANN) still get named findings when a record matches by genomic position."""

from datetime import date

from contracts.variant import Variant
from services.annotate.domain.interpret import ResultContext, interpret
from services.annotate.domain.knowledge import KnowledgeBase
from services.annotate.domain.triage import RuleSet
from services.common.oncotree import load_oncotree


def test_braf_v600e_by_grch38_position_is_named_and_tier_i_in_colorectal():
    ctx = ResultContext(result_key="R@1", case_id="C", tumor_type="COAD", specimen_id="S", collected_on=date(2026, 11, 1),
                        genome_build="GRCh38", panel_size_mb=30.0)
    variant = Variant(chrom="7", pos=140753336, ref="A", alt="T", kind="snv", vaf=0.31)  # as in PCGR T001-COAD
    interp = interpret(ctx, [variant], KnowledgeBase.build(), load_oncotree(), RuleSet.load())
    finding = interp.reportable()[0]
    assert (finding.gene, finding.amp_tier) == ("BRAF", "I")
    assert "V600E" in finding.alteration
    assert interp.triage.needs_review
