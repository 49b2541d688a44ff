"""annotate's memory per result is bounded whatever the input: repeated records are interpreted once, and what
is kept per result is capped (finding 5 of issue 18: 2,000,000 identical records made 2,000,000 findings)."""

from datetime import date

import pytest

from contracts.reasons import RejectionCode
from contracts.variant import Variant
from services.annotate.domain import interpret as interpret_mod
from services.annotate.domain.interpret import ResultContext, ResultInterpreter, TooManyFindings, interpret
from services.annotate.domain.triage import RuleSet


def context(tumor_only: bool = False) -> ResultContext:
    return ResultContext(result_key="R-B@1", case_id="CASE-B", tumor_type="COAD", specimen_id="SP-B",
                         collected_on=date(2026, 11, 1), genome_build="GRCh38", panel_size_mb=1.0,
                         tumor_only=tumor_only)


def braf(vaf: float = 0.31) -> Variant:
    return Variant(chrom="chr7", pos=140753336, ref="A", alt="T", kind="snv", gene="BRAF", hgvsp="p.Val600Glu",
                   consequence="missense_variant", vaf=vaf, depth=500)


def kras(n: int) -> Variant:
    """A variant of a gene with knowledge-base records, at its own position."""
    return Variant(chrom="chr12", pos=25_000_000 + n, ref="C", alt="T", kind="snv", gene="KRAS",
                   hgvsp=f"p.Arg{n + 300}Trp", consequence="missense_variant", vaf=0.2, depth=300)


def brca1(n: int) -> Variant:
    """A frameshift of a hereditary-cancer gene at a germline-like VAF: a germline flag in tumour-only sequencing."""
    return Variant(chrom="chr17", pos=43_045_000 + 10 * n, ref="CA", alt="C", kind="indel", gene="BRCA1",
                   hgvsp=f"p.Glu{n + 23}fs", consequence="frameshift_variant", vaf=0.5, depth=300)


def test_repeated_identical_records_are_one_finding_counted_once(kb, tree):
    interpreter = ResultInterpreter(context(), kb, tree)
    for _ in range(20):  # 200,000 records, stored in chunks as ingest writes them
        interpreter.add([braf()] * 10_000)
    result = interpreter.finish(RuleSet.load())
    assert [(f.gene, f.alteration) for f in result.findings] == [("BRAF", "V600E")]
    assert result.duplicate_count == 199_999
    assert len(result.current_specimen.variants) == 1
    assert result.tmb.counted == interpret(context(), [braf()], kb, tree, RuleSet.load()).tmb.counted == 1


def test_a_repeat_away_from_its_first_record_is_recognised_among_the_variants_kept(kb, tree):
    variants = [braf(), kras(1), braf(), kras(1), braf()]
    result = interpret(context(), variants, kb, tree, RuleSet.load())
    assert (len(result.findings), result.duplicate_count) == (2, 3)


def test_records_that_differ_in_any_field_are_different_variants(kb, tree):
    result = interpret(context(), [braf(0.31), braf(0.12)], kb, tree, RuleSet.load())
    assert (len(result.findings), result.duplicate_count) == (2, 0)


def test_more_reportable_findings_than_the_cap_are_refused_not_cut(kb, tree, monkeypatch):
    monkeypatch.setattr(interpret_mod, "MAX_REPORTABLE_FINDINGS", 3)
    three = [braf(0.1 + i / 100) for i in range(3)]
    assert len(interpret(context(), three, kb, tree, RuleSet.load()).reportable()) == 3
    with pytest.raises(TooManyFindings) as caught:
        interpret(context(), three + [braf(0.5)], kb, tree, RuleSet.load())
    assert caught.value.code == RejectionCode.TOO_MANY_FINDINGS


def test_other_findings_and_germline_flags_are_capped_and_counted(kb, tree, monkeypatch):
    monkeypatch.setattr(interpret_mod, "MAX_LISTED_OTHER", 4)
    monkeypatch.setattr(interpret_mod, "MAX_GERMLINE_FLAGS", 2)
    real_tier = interpret_mod.tier
    monkeypatch.setattr(interpret_mod, "tier", lambda *args: real_tier(*args).model_copy(update={"amp_tier": "IV"}))
    result = interpret(context(), [kras(n) for n in range(10)], kb, tree, RuleSet.load())
    assert (len(result.findings), result.findings_omitted) == (4, 6)
    assert (len(result.current_specimen.variants), result.current_specimen.untracked_count) == (4, 6)
    monkeypatch.setattr(interpret_mod, "tier", real_tier)
    flagged = interpret(context(tumor_only=True), [brca1(n) for n in range(5)], kb, tree, RuleSet.load())
    assert (len(flagged.germline_flags), flagged.germline_flags_omitted) == (2, 3)
    assert len(flagged.reportable()) == 5  # every tier I/II finding is still listed


def test_what_a_result_keeps_is_bounded_by_the_caps(kb, tree, monkeypatch):
    """Many distinct plain VUS at one position (so the repeat memory there is full) keep only the capped lists."""
    monkeypatch.setattr(interpret_mod, "MAX_KEYS_PER_LOCUS", 50)
    monkeypatch.setattr(interpret_mod, "MAX_TRACKED_VARIANTS", 100)
    interpreter = ResultInterpreter(context(), kb, tree)
    variants = [Variant(chrom="chr2", pos=1000, ref="C", alt="T", kind="snv", gene="ORF9", hgvsp="p.Arg5Trp",
                        consequence="missense_variant", vaf=0.2, depth=300 + n) for n in range(3000)]
    interpreter.add(variants)
    assert len(interpreter._at_locus) == 50 and len(interpreter._kept) == 100
    assert len(interpreter.findings) == interpret_mod.MAX_LISTED_VUS and len(interpreter.observed) == 100
