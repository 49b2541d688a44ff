"""Evaluation of the interpretation against expert calls made outside this project: CIViC's assertions with AMP
tiers and its accepted level A/B predictive evidence items (CIViC data, CC0).

Each expert call becomes a Variant input (gene + variant name -> p. change or class; disease -> OncoTree code via
knowledge/civic_disease_to_oncotree.yaml) and goes through `interpret`. The headline number uses a knowledge base of
the curated built-in set ONLY: evaluating with a KB built from the same CIViC release would be circular. The same
cases are also run with built-in + CIViC as a consistency check of the importer and tiering, labelled as such.

Expected tiers: an assertion's own AMP category; an A/B predictive item that supports sensitivity or resistance in a
disease = Tier I in that disease (AMP Tier I: level A/B evidence, Li et al. 2017, PMID:27993330).

    python -m oncorelay.civic_evaluation [CIVIC_DIR] [--write-doc docs/evaluation.md]
"""

import argparse
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from contracts.variant import Variant
from oncorelay.truth_evaluation import TABLE_HEADERS, evaluate_truth, percent, tally, tier_agreement
from oncorelay.truth_evaluation import agreement_line as _agreement_line
from oncorelay.truth_evaluation import disagreement_lines as truth_disagreements
from oncorelay.truth_evaluation import table as agreement_table
from services.annotate.domain.civic import import_release
from services.annotate.domain.disease_mapping import SHIPPED_MAPPING, DiseaseMapping
from services.annotate.domain.interpret import ResultContext, interpret
from services.annotate.domain.knowledge import KbRecord, KnowledgeBase
from services.annotate.domain.protein import parse_protein
from services.annotate.domain.triage import RuleSet
from services.annotate.domain.truthset import read_truth
from services.common.oncotree import OncoTree, load_oncotree

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
DEFAULT_CIVIC_DIR = SHARED_DATA / "civic"
DEFAULT_ONCOTREE = SHARED_DATA / "oncotree" / "oncotree_2025_10_03.json"
LABEL_REGRESSION = REPO_ROOT / "services" / "annotate" / "knowledge" / "truth" / "label-regression.tsv"
_EVALUATED_SIGNIFICANCE = {"sensitivity", "resistance", "reduced_sensitivity"}


@dataclass
class Case:
    """One expert call: the CIViC record, the variant built from it and the expected AMP tier/level."""

    record: KbRecord
    expected_tier: str
    expected_level: str | None
    variant: Variant | None = None
    tumour: str | None = None
    not_evaluable: str | None = None


@dataclass
class Outcome:
    case: Case
    tier: str
    level: str | None
    agree: bool
    reason: str = ""
    cause: str = ""  # the disagreement's class (CAUSES)


@dataclass
class Report:
    label: str
    outcomes: list[Outcome] = field(default_factory=list)
    not_evaluable: list[Case] = field(default_factory=list)

    def per_tier(self) -> dict[str, Counter]:
        return tally((f"{o.case.expected_tier}{o.case.expected_level or ''}", o.tier, o.agree) for o in self.outcomes)


def expert_cases(records: list[KbRecord]) -> list[Case]:
    """Assertions with an AMP category, then accepted A/B predictive evidence supporting sensitivity/resistance."""
    cases = [Case(r, r.amp_tier, r.amp_level) for r in records if r.record_type == "assertion" and r.amp_tier]
    cases += [Case(r, "I", r.evidence_level) for r in records
              if r.record_type == "evidence" and r.evidence_type == "predictive" and r.evidence_level in {"A", "B"}
              and r.direction == "supports" and r.significance in _EVALUATED_SIGNIFICANCE]
    return cases


def _reference_residues(records: list[KbRecord]) -> dict[tuple[str, int], str]:
    """(gene, codon) -> reference amino acid, learned from CIViC variant names of the same release."""
    out: dict[tuple[str, int], str] = {}
    for r in records:
        if r.record_type == "variant":
            for protein in r.match.proteins:
                if (change := parse_protein(protein)) is not None:
                    out.setdefault((r.gene, change.start), change.ref)
    return out


def _missense(gene: str, codon: int, residues: dict[tuple[str, int], str], locus: dict) -> Variant:
    ref = residues.get((gene, codon), "X")
    alt = "D" if ref != "D" else "E"  # codon-level call instantiated as a change to Asp (Glu when ref is Asp)
    return Variant(kind="snv", gene=gene, hgvsp=f"p.{ref}{codon}{alt}", consequence="missense_variant", **locus)


def build_variant(record: KbRecord, residues: dict[tuple[str, int], str], kb: KnowledgeBase) -> Variant | str:
    """A representative Variant for a CIViC variant name, or the reason none can be built."""
    m, gene = record.match, record.gene
    locus = {"chrom": "0", "pos": 0, "ref": "N", "alt": "N", "vaf": 0.2, "depth": 500}
    if record.loci and record.loci[0].ref and record.loci[0].alt and record.loci[0].build == "GRCh37":
        lc = record.loci[0]
        locus.update(chrom=lc.chrom, pos=lc.pos, ref=lc.ref, alt=lc.alt)
    if m.kind == "protein" and m.proteins:
        change = parse_protein(m.proteins[0])
        simple = change is not None and change.kind in {"missense", "nonsense"}
        consequence = {"missense": "missense_variant", "nonsense": "stop_gained", "frameshift": "frameshift_variant",
                       "deletion": "inframe_deletion", "insertion": "inframe_insertion", "duplication": "inframe_insertion",
                       "delins": "protein_altering_variant"}.get(change.kind if change else "", "protein_altering_variant")
        return Variant(kind="snv" if simple else "indel", gene=gene, hgvsp=f"p.{m.proteins[0]}", consequence=consequence,
                       **locus)
    if m.kind == "protein" and m.codons:
        return _missense(gene, m.codons[0], residues, locus)
    simple = {
        "exon19_inframe_deletion": dict(kind="indel", hgvsp="p.E746_A750del", consequence="inframe_deletion"),
        "exon20_insertion": dict(kind="indel", hgvsp="p.D770_N771insSVD", consequence="inframe_insertion"),
        "met_exon14_skipping": dict(kind="snv", hgvsc="NM_000245.2:c.3028+1G>T", consequence="splice_donor_variant"),
        "truncating": dict(kind="indel", consequence="frameshift_variant"),
    }
    if m.kind in simple:
        return Variant(gene=gene, **{**locus, **simple[m.kind]})
    if m.kind in {"amplification", "deletion"}:
        return Variant(chrom="0", pos=0, ref="N", alt="<CNV>", kind="cnv", gene=gene,
                       copy_number=10.0 if m.kind == "amplification" else 0.0)
    if m.kind == "fusion":
        return Variant(chrom="0", pos=0, ref="N", alt="<BND>", kind="fusion", gene=gene, partner_gene=m.partner)
    if m.kind == "oncogenic_mutation":
        if gene in kb.hotspots:
            return _missense(gene, min(kb.hotspots[gene]), residues, locus)
        if gene in kb.tumour_suppressors:
            return Variant(gene=gene, **{**locus, **simple["truncating"]})
        return f"gene-level mutation in a gene with no curated hotspot or tumour-suppressor role: '{record.alteration}'"
    return ("not a DNA sequence variant this pipeline represents (expression, methylation, rsID, combination, ITD...): "
            f"'{record.alteration}'")


def prepare(cases: list[Case], residues: dict[tuple[str, int], str], kb: KnowledgeBase) -> None:
    """Attach the variant and OncoTree code to each case, or the reason it cannot be evaluated."""
    for case in cases:
        built = build_variant(case.record, residues, kb)
        if isinstance(built, str):
            case.not_evaluable = built
        elif not case.record.tumor_types:
            case.not_evaluable = f"disease has no OncoTree mapping: '{case.record.disease}'"
        else:
            case.variant, case.tumour = built, case.record.tumor_types[0]


CAUSES = {
    "no_row": "no built-in row for the gene",
    "drug_not_labelled": "CIViC evidence for drugs no built-in row names for this gene (no label or guideline found)",
    "representative": "a codon- or gene-level CIViC variant, instantiated as a change outside the labelled ones",
    "other_tumour": "built-in evidence for this alteration in other tumour types only",
    "not_covered": "built-in rows for the gene do not cover this alteration",
    "other": "tier differs otherwise",
}


def _reason(case: Case, tier: str, level: str | None, kb: KnowledgeBase) -> tuple[str, str]:
    """(cause, the sentence that explains it) for a disagreement."""
    rows = [r for r in kb.by_gene.get(case.record.gene, []) if r.source == "builtin"]
    if not rows:
        return "no_row", f"no curated built-in row for {case.record.gene}"
    labelled = {drug.strip().lower() for r in rows for t in r.therapies for drug in t.split("+")}
    drugs = set(case.record.therapies)
    if tier != "I" and drugs and not any(d.lower() in labelled or d.lower().split()[0] in labelled for d in drugs):
        return "drug_not_labelled", (f"CIViC's evidence is for {', '.join(sorted(drugs))}, which no built-in "
                                     f"{case.record.gene} row names")
    generic = case.record.match.kind == "oncogenic_mutation" or bool(case.record.match.codons)
    if tier != "I" and generic:
        return "representative", (f"'{case.record.alteration}' was instantiated as {case.variant.hgvsp}, outside "
                                  f"the variants the built-in {case.record.gene} rows name for {case.tumour}")
    if tier == "II" and case.expected_tier == "I":
        return "other_tumour", (f"built-in evidence for {case.record.gene} {case.record.alteration} is for other "
                                f"tumour types than {case.tumour} ({case.record.disease}); or the therapy is not "
                                "approved there")
    if tier == "III":
        given = case.variant.hgvsp or case.variant.hgvsc or case.variant.consequence or case.variant.kind
        return "not_covered", (f"built-in rows for {case.record.gene} do not cover the input built from "
                               f"'{case.record.alteration}' ({given})")
    if tier == "I" and case.expected_tier == "II":
        return "other", f"built-in level A row for {case.record.gene} in {case.tumour}; CIViC assertion is Tier II"
    return "other", "tier differs"


def run(cases: list[Case], kb: KnowledgeBase, oncotree: OncoTree, rules: RuleSet, label: str) -> Report:
    """Interpret every evaluable case with this knowledge base and compare tiers."""
    report = Report(label)
    for case in cases:
        if case.variant is None:
            report.not_evaluable.append(case)
            continue
        ctx = ResultContext(result_key=case.record.record_id, case_id=case.record.record_id, tumor_type=case.tumour,
                            specimen_id="eval", collected_on=date(2021, 8, 1), genome_build="GRCh37", panel_size_mb=1.0)
        interp = interpret(ctx, [case.variant], kb, oncotree, rules)
        finding = interp.findings[0] if interp.findings else None
        tier = finding.amp_tier if finding else "III"
        level = finding.amp_level if finding else None
        agree = tier == case.expected_tier
        cause, reason = ("", "") if agree else _reason(case, tier, level, kb)
        report.outcomes.append(Outcome(case, tier, level, agree, reason, cause))
    return report


def evaluate(civic_dir: Path = DEFAULT_CIVIC_DIR, oncotree_path: Path = DEFAULT_ONCOTREE,
             limit: int | None = None) -> tuple[Report, Report]:
    """(built-in-only report, built-in + CIViC consistency report) for a CIViC export directory."""
    oncotree = OncoTree.load(oncotree_path)
    civic = import_release(civic_dir, DiseaseMapping.load(SHIPPED_MAPPING))
    builtin_kb = KnowledgeBase.build()
    full_kb = KnowledgeBase.build(civic_records=civic.records, civic_release=civic.release)
    rules = RuleSet.load()
    cases = expert_cases(civic.records)[:limit]
    prepare(cases, _reference_residues(civic.records), builtin_kb)
    return (run(cases, builtin_kb, oncotree, rules, f"built-in curated set vs CIViC {civic.release} expert calls"),
            run(cases, full_kb, oncotree, rules, f"consistency check: built-in + CIViC {civic.release} KB (circular)"))


def agreement_line(report: Report) -> str:
    return _agreement_line(sum(o.agree for o in report.outcomes), len(report.outcomes))


def table_rows(report: Report) -> list[list[str]]:
    return agreement_table(report.per_tier())


def _print_table(report: Report) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # plain text when rich is missing
        print(report.label)
        for row in [TABLE_HEADERS, *table_rows(report)]:
            print("  ".join(f"{c:>9}" for c in row))
        return
    table = Table(title=report.label)
    for h in TABLE_HEADERS:
        table.add_column(h, justify="right")
    for row in table_rows(report):
        table.add_row(*row)
    Console(width=120).print(table)


def disagreements(report: Report) -> list[str]:
    lines = []
    for o in report.outcomes:
        if not o.agree:
            r = o.case.record
            lines.append(f"{r.record_id} {r.gene} {r.alteration} in {r.disease} ({o.case.tumour}): expected "
                         f"{o.case.expected_tier}{o.case.expected_level or ''}, got {o.tier}{o.level or ''} - {o.reason}")
    return lines


TRUTH_SET_FORMAT = [
    "## Any truth set: `oncorelay evaluate`", "",
    "`oncorelay evaluate TRUTH.tsv [--civic DIR] [--json]` runs the interpretation in memory, with no services, on",
    "a truth set in the format below, and compares oncorelay's AMP/ASCO/CAP tier with the expected one. It prints the",
    "per-tier agreement table, every disagreement with its reason, rows with the expected tier but another level",
    "(listed, not counted), the rows it could not evaluate and why, and as its last line `agreement: NN.N% (n=N)`,",
    "n counting the rows evaluated. `--civic DIR` adds that CIViC release to the built-in knowledge for the run;",
    "`--json` prints one JSON document instead.", "",
    "The file: UTF-8, tab-separated, a header row, then one expected call per row. Blank lines and lines starting",
    "with `#` are skipped; columns may come in any order; other columns are ignored.", "",
    "| column | content |", "|---|---|",
    "| `id` | the row's name (required) |",
    "| `gene` | HGNC symbol; empty for `MSI-H` and `TMB-H` |",
    "| `alteration` | an HGVS protein change, 1- or 3-letter, with or without `p.` (`V600E`, `p.Val600Glu`, "
    "`E746_A750del`, `R273*`); or `amplification`, `deletion`, `fusion`, `truncating`, `exon19_deletion`, "
    "`exon20_insertion`, `exon14_skipping`, `MSI-H`, `TMB-H` |",
    "| `partner` | the other gene of a fusion; empty for any partner |",
    "| `tumor_type` | OncoTree code (`LUAD`, `COADREAD`...) |",
    "| `expected_tier` | `I`, `II`, `III` or `IV` (`Tier I`, `1`, and a tier with its level such as `IA` or "
    "`Tier IIC` are read too) |",
    "| `expected_level` | `A`-`D`, or empty |",
    "| `source` | where the expected call comes from (free text) |", "",
    "How each alteration is given to the interpretation: a protein change as one variant with that `p.` change and",
    "its consequence; `truncating` as a frameshift; `amplification` as copy number 10 and `deletion` as 0;",
    "`exon19_deletion` as EGFR p.E746_A750del, `exon20_insertion` as EGFR p.D770_N771insSVD or ERBB2",
    "p.Y772_A775dup, `exon14_skipping` as MET c.3028+1G>T (NM_000245); `MSI-H` as a result the lab reports",
    "MSI-H; `TMB-H` as a result of 12 coding mutations on a 1 Mb panel (TMB 12 mut/Mb).", "",
    "A header without the required columns is an error naming its line. A row that cannot be evaluated (an unknown",
    "OncoTree code, an alteration that is none of the above, a tier or level outside the lists, a wrong number of",
    "fields) is listed with its line and the reason, and the other rows are evaluated. Example:",
    "[`docs/examples/truth-example.tsv`](examples/truth-example.tsv).", "",
]


def label_regression_section() -> list[str]:
    """The project's label regression set run through `oncorelay evaluate`, as markdown lines."""
    tree = load_oncotree()
    rows, unevaluable = read_truth(LABEL_REGRESSION.read_text(), tree.__contains__)
    report = evaluate_truth(rows, unevaluable, KnowledgeBase.build(), tree, RuleSet.load(), "built-in curated set")
    out = ["## The project's label regression set", "",
           "`services/annotate/knowledge/truth/label-regression.tsv`: written by the oncorelay project from the biomarker",
           "wording of FDA labels and EMA SmPCs, one alteration per labelled biomarker as a lab's pipeline reports it",
           "(3-letter HGVS, fusions named from either gene, classes). It guards matching and tiering; it is not an",
           "independent benchmark, since the curated rows were written from the same labels. Run it with",
           "`oncorelay evaluate services/annotate/knowledge/truth/label-regression.tsv` (also part of `make evaluate`).", "",
           "| " + " | ".join(TABLE_HEADERS) + " |", "|" + "---|" * len(TABLE_HEADERS)]
    out += ["| " + " | ".join(row) + " |" for row in agreement_table(report.per_tier())]
    out += ["", f"`{report.agreement_line()}`", ""]
    out += [f"- {line}" for line in truth_disagreements(report)] or ["No disagreement."]
    return out + [""]


def _targets(builtin: Report) -> list[str]:
    """The targets and whether this run meets them (level A >= 90%, overall >= 80%)."""
    counts = builtin.per_tier().get("IA")
    level_a = tier_agreement(counts)[1] if counts else None
    overall = percent(sum(o.agree for o in builtin.outcomes), len(builtin.outcomes))
    verdict = [f"level A {level_a:.1f}% ({'met' if level_a >= 90 else 'not met'})" if level_a is not None
               else "no level A call", f"overall {overall:.1f}% ({'met' if overall >= 80 else 'not met'})"]
    return ["- Targets: at least 90% on CIViC level A and 80% overall with the built-in set alone. This run: "
            + ", ".join(verdict) + ". The table 'By cause' under the disagreements says why each one remains."]


def markdown(builtin: Report, consistency: Report) -> str:
    """docs/evaluation.md content: both tables, not-evaluable reasons, every disagreement."""
    out = ["# Evaluation", "", *TRUTH_SET_FORMAT, *label_regression_section(),
           "## Against CIViC expert calls", "",
           "Generated by `python -m oncorelay.civic_evaluation --write-doc docs/evaluation.md`. See the module",
           "docstring of `oncorelay/civic_evaluation.py` for the method.", "",
           "Reading the numbers:", "",
           "- The headline is the built-in curated set alone (the rows written for oncorelay) against CIViC's expert calls.",
           "  CIViC level B items are single studies, many on drugs or settings no label or guideline covers (e.g. KRAS",
           "  in NSCLC as EGFR-TKI resistance), and some genes (DNMT3A, JAK2, ERBB3, BTK...) have no built-in row, as",
           "  no label or guideline the curators read names them: those become Tier III here by design; Tier IIC means",
           "  the built-in row exists for another tumour type.",
           *_targets(builtin),
           "- Codon- and gene-level CIViC variants ('V600', 'MUTATION') are instantiated as one representative change",
           "  (a change to Asp at the codon, or the gene's first curated hotspot codon); when that change is outside the",
           "  labelled variants (e.g. BRAF V600D in colorectal cancer vs the V600E label) the call differs, which is correct for",
           "  the input but counts as a disagreement.",
           "- The consistency check puts the same CIViC release in the knowledge base; it is circular and only shows",
           "  that import, matching and tiering reproduce CIViC's own levels (the one IIC assertion becomes Tier I there",
           "  because CIViC also holds level B evidence for that variant and disease).",
           "- Not evaluable: expression, methylation, rsIDs, combinations, FLT3-ITD and similar names that no DNA",
           "  variant input represents, and diseases without an OncoTree mapping.", ""]
    for report in (builtin, consistency):
        out += [f"## {report.label}", "", "| " + " | ".join(TABLE_HEADERS) + " |", "|" + "---|" * len(TABLE_HEADERS)]
        out += ["| " + " | ".join(row) + " |" for row in table_rows(report)]
        out += ["", f"`{agreement_line(report)}`", ""]
    reasons = Counter((c.not_evaluable or "").split(":")[0] for c in builtin.not_evaluable)
    out += ["## Not evaluable", "", f"{len(builtin.not_evaluable)} expert calls could not be turned into a variant input:", ""]
    out += [f"- {n} x {reason}" for reason, n in reasons.most_common()]
    causes = Counter(o.cause for o in builtin.outcomes if not o.agree)
    out += ["", "## Disagreements (built-in curated set)", "", "By cause:", "", "| cause | n |", "|---|---|"]
    out += [f"| {CAUSES[cause]} | {n} |" for cause, n in causes.most_common()]
    out += [""] + [f"- {line}" for line in disagreements(builtin)]
    out += ["", "## Disagreements (consistency check with CIViC in the KB)", ""]
    out += [f"- {line}" for line in disagreements(consistency)]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Agreement of oncorelay tiers with CIViC expert calls")
    parser.add_argument("civic_dir", nargs="?", default=str(DEFAULT_CIVIC_DIR), help="CIViC TSV export directory")
    parser.add_argument("--oncotree", default=str(DEFAULT_ONCOTREE), help="OncoTree release JSON")
    parser.add_argument("--write-doc", metavar="PATH", help="also write the markdown report here")
    args = parser.parse_args(argv)
    builtin, consistency = evaluate(Path(args.civic_dir), Path(args.oncotree))
    _print_table(consistency)
    print(agreement_line(consistency).replace("agreement", "consistency agreement"))
    print(f"not evaluable: {len(builtin.not_evaluable)} expert calls (no DNA variant representation or unmapped disease)")
    print("disagreements (built-in curated set):")
    for line in disagreements(builtin):
        print(f"  {line}")
    if args.write_doc:
        Path(args.write_doc).write_text(markdown(builtin, consistency))
    _print_table(builtin)
    print(agreement_line(builtin))


if __name__ == "__main__":
    main()
