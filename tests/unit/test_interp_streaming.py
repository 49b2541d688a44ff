"""annotate interprets a result chunk by chunk in bounded memory, with the same outcome as all at once."""

from datetime import date

import pytest

from contracts.variant import Variant
from services.annotate.domain import interpret as interpret_mod
from services.annotate.domain.interpret import MAX_LISTED_VUS, ResultContext, ResultInterpreter, interpret
from services.annotate.domain.knowledge import KnowledgeBase
from services.annotate.domain.triage import RuleSet

AMINO = "ACDEFGHIKLMNPQRSTVWY"


def context() -> ResultContext:
    return ResultContext(result_key="R-S@1", case_id="CASE-S", tumor_type="COAD", specimen_id="SP-S",
                         collected_on=date(2026, 11, 1), genome_build="GRCh38", panel_size_mb=1.5, tumor_only=False)


def vus(n: int) -> Variant:
    """A missense variant in a gene without knowledge-base records: a plain VUS."""
    return Variant(chrom="chr2", pos=1000 + n, ref="C", alt="T", kind="snv", gene=f"ORF{n % 97}",
                   hgvsp=f"p.{AMINO[n % 20]}{n + 10}{AMINO[(n + 3) % 20]}", consequence="missense_variant",
                   vaf=0.2, depth=300)


def result_variants(plain_vus: int) -> list[Variant]:
    braf = Variant(chrom="chr7", pos=140753336, ref="A", alt="T", kind="snv", gene="BRAF", hgvsp="p.Val600Glu",
                   consequence="missense_variant", vaf=0.31, depth=500)
    synonymous = Variant(chrom="chr3", pos=5, ref="G", alt="A", kind="snv", gene="ORF1", hgvsp="p.Leu5=",
                         consequence="synonymous_variant", vaf=0.3, depth=200)
    filtered = vus(10_000).model_copy(update={"filter": "LowQual"})
    return [vus(n) for n in range(plain_vus // 2)] + [braf, synonymous, filtered] + \
        [vus(n) for n in range(plain_vus // 2, plain_vus)]


def test_chunk_by_chunk_equals_all_at_once(kb, tree):
    variants = result_variants(300)
    whole = interpret(context(), variants, kb, tree, RuleSet.load())
    interpreter = ResultInterpreter(context(), kb, tree)
    for start in range(0, len(variants), 7):
        interpreter.add(variants[start:start + 7])
    chunked = interpreter.finish(RuleSet.load())
    assert chunked.model_dump() == whole.model_dump()
    assert (whole.filtered_count, whole.not_assessed_count, whole.findings_omitted) == (1, 1, 0)
    assert whole.findings[0].gene == "BRAF" and whole.findings[0].amp_tier == "I"


def test_plain_vus_beyond_the_limit_are_counted_not_listed(kb, tree):
    extra = 40
    result = interpret(context(), result_variants(MAX_LISTED_VUS + extra), kb, tree, RuleSet.load())
    assert result.findings_omitted == extra
    assert result.vus_count == MAX_LISTED_VUS + extra
    assert [f.gene for f in result.findings if f.amp_tier == "I"] == ["BRAF"]  # listed although it came late
    assert sum(f.amp_tier == "III" for f in result.findings) == MAX_LISTED_VUS
    assert result.tmb.counted == MAX_LISTED_VUS + extra + 1  # every variant still counts towards TMB


def test_tracked_variants_are_capped_but_actionable_ones_always_tracked(kb, tree, monkeypatch):
    monkeypatch.setattr(interpret_mod, "MAX_TRACKED_VARIANTS", 50)
    result = interpret(context(), result_variants(120), kb, tree, RuleSet.load())
    tracked = result.current_specimen.variants
    assert len(tracked) == 51 and result.current_specimen.untracked_count == 70
    assert any(v.gene == "BRAF" for v in tracked)


def test_notify_reads_the_stored_interpretation_as_annotate_writes_it(kb, tree):
    """The FHIR export and case summary get the reportable findings, with coordinates, of a real interpretation."""
    from bson import Binary

    from services.common import packed
    from services.notify.adapters.alert_store import interpretation_view

    interp = interpret(context(), result_variants(20), kb, tree, RuleSet.load())
    # as services.annotate.adapters.interpretation_store packs it
    stored = packed.pack_json(interp.model_dump_json().encode("utf-8"))
    assert packed.unpack(stored) == interp.model_dump(mode="json")  # what readers had when it was packed as a dict
    document = {"_id": "R-S@1", "case_id": "CASE-S", "interpretation": Binary(stored), "encoding": packed.ENCODING}
    view = interpretation_view(document)
    # 21 coding mutations in 1.5 Mb make TMB-high; the 20 plain VUS themselves are not reported
    assert [(f["gene"], f["amp_tier"]) for f in view["findings"]] == [("TMB", "I"), ("BRAF", "I")]
    assert "chrom" not in view["findings"][0]
    braf = view["findings"][1]
    assert (braf["chrom"], braf["pos"], braf["ref"], braf["alt"], braf["hgvsp"]) == ("chr7", 140753336, "A", "T", "p.Val600Glu")
    assert braf["sources"] and view["result_version"] == 1


@pytest.fixture(scope="module")
def civic_variants():
    """The variants of CIViC's expert calls (real, named alterations across many genes) and the CIViC release."""
    from oncorelay.civic_evaluation import DEFAULT_CIVIC_DIR, _reference_residues, expert_cases, prepare
    from services.annotate.domain.civic import import_release
    from services.annotate.domain.disease_mapping import SHIPPED_MAPPING, DiseaseMapping

    civic = import_release(DEFAULT_CIVIC_DIR, DiseaseMapping.load(SHIPPED_MAPPING))
    cases = expert_cases(civic.records)
    prepare(cases, _reference_residues(civic.records), KnowledgeBase.build())
    return [c.variant for c in cases if c.variant is not None], civic


@pytest.mark.parametrize("with_civic", [False, True])
@pytest.mark.parametrize("tumour, tumour_only", [("LUAD", True), ("COAD", False), ("BRCA", True)])
def test_the_no_knowledge_shortcut_changes_no_interpretation(civic_variants, tree, with_civic, tumour, tumour_only,
                                                             monkeypatch, tmp_path):
    from bench.gen_vcf import write_vcf
    from services.ingest.adapters.vcf.loader import open_vcf

    known, civic = civic_variants
    kb = KnowledgeBase.build(civic_records=civic.records, civic_release=civic.release) if with_civic \
        else KnowledgeBase.build()
    with open_vcf(str(write_vcf(tmp_path / "generated.vcf.gz", 2000, seed=7, braf_v600e=True)), "GRCh38",
                  10 ** 6) as reader:
        generated = list(reader.variants())  # the bench's synthetic VCF: mostly VUS, a BRAF V600E
    ctx = context().model_copy(update={"tumor_type": tumour, "tumor_only": tumour_only})
    for variants in (known, generated):
        shortcut = interpret(ctx, variants, kb, tree, RuleSet.load())
        used = any(interpret_mod.unknown_to(kb, interpret_mod.VariantView(v, "GRCh38")) for v in variants)
        assert used or (with_civic and variants is known)  # with CIViC loaded every expert-call gene is known
        with monkeypatch.context() as patched:
            patched.setattr(interpret_mod, "unknown_to", lambda kb, view: False)
            assert interpret(ctx, variants, kb, tree, RuleSet.load()).model_dump() == shortcut.model_dump()


def test_an_amplification_is_called_at_the_assays_reported_threshold(kb, tree):
    erbb2 = Variant(chrom="chr17", pos=39699000, ref="N", alt="<DUP>", kind="cnv", gene="ERBB2", copy_number=5)
    breast = context().model_copy(update={"tumor_type": "BRCA"})
    default = interpret(breast, [erbb2], kb, tree, RuleSet.load())
    assay_says_four = interpret(breast.model_copy(update={"amplification_min_copy_number": 4.0}), [erbb2], kb, tree,
                                RuleSet.load())
    assert not [f for f in default.findings if f.amp_tier == "I"]
    assert [(f.alteration, f.amp_tier) for f in assay_says_four.findings] == [("amplification", "I")]
