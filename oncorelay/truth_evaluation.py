"""`oncorelay evaluate`: the interpretation run on a truth set (services.annotate.domain.truthset), in memory,
compared tier by tier. A row agrees when oncorelay's AMP/ASCO/CAP tier is the expected one; a differing level
within the same tier is listed as a note, not counted as a disagreement."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from services.annotate.domain.interpret import Finding, ResultContext, interpret
from services.annotate.domain.knowledge import KnowledgeBase
from services.annotate.domain.triage import RuleSet
from services.annotate.domain.truthset import Input, TruthRow, Unevaluable, build_input
from services.common.oncotree import OncoTree

TIER_ORDER = ("I", "II", "III", "IV")
TABLE_HEADERS = ["expected", "n", "ours I", "ours II", "ours III", "ours IV", "agreement"]


def tally(calls: Iterable[tuple[str, str, bool]]) -> dict[str, Counter]:
    """(expected, oncorelay's tier, agrees) triples -> expected -> counts of oncorelay's tiers and "agree",
    in the order the expected values sort."""
    table: dict[str, Counter] = {}
    for expected, tier, agrees in calls:
        counts = table.setdefault(expected, Counter())
        counts[tier] += 1
        counts["agree"] += agrees
    return dict(sorted(table.items()))


def percent(agreeing: int, n: int) -> float:
    """Agreement in percent; 0 when nothing was evaluated."""
    return 100.0 * agreeing / n if n else 0.0


def tier_agreement(counts: Counter) -> tuple[int, float]:
    """(n, agreement %) of one expected tier's counts from `tally`."""
    n = sum(counts[t] for t in TIER_ORDER)
    return n, percent(counts["agree"], n)


def table(per_tier: dict[str, Counter]) -> list[list[str]]:
    """Rows of the per-tier agreement table: expected, n, oncorelay's I..IV, agreement."""
    out = []
    for expected, counts in per_tier.items():
        n, agreement = tier_agreement(counts)
        out.append([expected, str(n), *(str(counts[t]) for t in TIER_ORDER), f"{agreement:.1f}%"])
    return out


def agreement_line(agreeing: int, n: int) -> str:
    """The last line of every evaluation: 'agreement: NN.N% (n=N)'."""
    return f"agreement: {percent(agreeing, n):.1f}% (n={n})"


@dataclass(frozen=True)
class Judged:
    """One evaluated row: what oncorelay called, and why it differs when it does."""

    row: TruthRow
    tier: str
    level: str | None
    therapies: tuple[str, ...]
    reason: str = ""

    @property
    def agrees(self) -> bool:
        return self.tier == self.row.expected_tier


@dataclass
class TruthReport:
    knowledge: str
    judged: list[Judged] = field(default_factory=list)
    unevaluable: list[Unevaluable] = field(default_factory=list)

    @property
    def agreement(self) -> float:
        return percent(sum(j.agrees for j in self.judged), len(self.judged))

    def per_tier(self) -> dict[str, Counter]:
        """Expected tier -> counts of oncorelay's tiers (and "agree")."""
        return tally((j.row.expected_tier, j.tier, j.agrees) for j in self.judged)

    def agreement_line(self) -> str:
        return agreement_line(sum(j.agrees for j in self.judged), len(self.judged))


def _call(row: TruthRow, given: Input, kb: KnowledgeBase, tree: OncoTree, rules: RuleSet) -> Finding | None:
    ctx = ResultContext(result_key=f"truth-{row.line}", case_id=f"truth-{row.line}", tumor_type=row.tumor_type,
                        specimen_id="truth", collected_on=date.today(), genome_build="GRCh38", panel_size_mb=1.0,
                        msi_status="MSI-H" if given.signature == "MSI-H" else None)
    interpretation = interpret(ctx, given.variants(), kb, tree, rules)
    if given.signature:
        return next((f for f in interpretation.signature_findings if f.variant_key == given.signature), None)
    return interpretation.findings[0] if interpretation.findings else None


def _reason(row: TruthRow, tier: str, kb: KnowledgeBase) -> str:
    curated = kb.by_gene.get(row.gene, []) if row.gene else kb.signatures.get(row.alteration.upper(), [])
    if tier == "III" and not curated:
        return f"no knowledge row for {row.gene or row.alteration}"
    if tier == "III":
        return f"the rows for {row.gene} do not cover {row.alteration}"
    if TIER_ORDER.index(tier) > TIER_ORDER.index(row.expected_tier):
        return f"the knowledge for {row.gene or row.alteration} {row.alteration} has no level A/B row in {row.tumor_type}"
    return f"the knowledge holds a level {'A/B' if tier == 'I' else 'C/D'} row for it in {row.tumor_type}"


def evaluate_truth(rows: list[TruthRow], unevaluable: list[Unevaluable], kb: KnowledgeBase, tree: OncoTree,
                   rules: RuleSet, knowledge: str, progress=lambda: None) -> TruthReport:
    """Interpret every row with `kb` and compare tiers; `progress` is called once per row."""
    report = TruthReport(knowledge, unevaluable=list(unevaluable))
    for row in rows:
        given = build_input(row.gene, row.alteration, row.partner)
        assert not isinstance(given, str)  # read_truth kept only rows with an input
        finding = _call(row, given, kb, tree, rules)
        tier = finding.amp_tier if finding else "III"
        level = finding.amp_level if finding else None
        therapies = tuple(finding.therapies_sensitive + [f"resistance: {t}" for t in finding.therapies_resistant]
                          ) if finding else ()
        judged = Judged(row, tier, level, therapies)
        if not judged.agrees:
            judged = Judged(row, tier, level, therapies, _reason(row, tier, kb))
        report.judged.append(judged)
        progress()
    report.unevaluable.sort(key=lambda u: u.line)
    return report


def disagreement_lines(report: TruthReport) -> list[str]:
    return [f"line {j.row.line} {j.row.id}: {j.row.gene or '-'} {j.row.alteration} in {j.row.tumor_type}: expected "
            f"{j.row.expected_tier}{j.row.expected_level or ''}, oncorelay {j.tier}{j.level or ''} - {j.reason}"
            for j in report.judged if not j.agrees]


def level_notes(report: TruthReport) -> list[str]:
    return [f"line {j.row.line} {j.row.id}: tier {j.tier} as expected, level {j.level or '-'} "
            f"(expected {j.row.expected_level})"
            for j in report.judged if j.agrees and j.row.expected_level and j.level and j.level != j.row.expected_level]


def as_json(report: TruthReport) -> dict:
    """The report as one JSON document (--json)."""
    return {
        "knowledge": report.knowledge,
        "n": len(report.judged),
        "agreement_percent": round(report.agreement, 1),
        "per_tier": {tier: {**{t: counts[t] for t in TIER_ORDER}, "agree": counts["agree"]}
                     for tier, counts in report.per_tier().items()},
        "rows": [{"line": j.row.line, "id": j.row.id, "gene": j.row.gene, "alteration": j.row.alteration,
                  "tumor_type": j.row.tumor_type, "expected_tier": j.row.expected_tier,
                  "expected_level": j.row.expected_level, "tier": j.tier, "level": j.level,
                  "therapies": list(j.therapies), "agrees": j.agrees, "reason": j.reason or None}
                 for j in report.judged],
        "not_evaluable": [{"line": u.line, "id": u.id, "reason": u.reason} for u in report.unevaluable],
    }
