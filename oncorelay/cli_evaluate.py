"""`oncorelay evaluate TRUTH.tsv`: oncorelay's tiers against any truth set, in memory, with no services."""

import json
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from oncorelay.truth_evaluation import (
    TABLE_HEADERS,
    as_json,
    disagreement_lines,
    evaluate_truth,
    level_notes,
    table,
)
from services.annotate.domain.civic import import_release
from services.annotate.domain.disease_mapping import SHIPPED_MAPPING, DiseaseMapping
from services.annotate.domain.knowledge import KnowledgeBase
from services.annotate.domain.triage import RuleSet
from services.annotate.domain.truthset import TruthFileError, read_truth
from services.common.oncotree import load_oncotree


def _knowledge(civic: Path | None) -> tuple[KnowledgeBase, str]:
    if civic is None:
        return KnowledgeBase.build(), "built-in curated set"
    try:
        release = import_release(civic, DiseaseMapping.load(SHIPPED_MAPPING))
    except (OSError, ValueError) as error:
        raise click.ClickException(f"cannot import the CIViC release in {civic}: {error}") from error
    return (KnowledgeBase.build(civic_records=release.records, civic_release=release.release),
            f"built-in curated set + CIViC {release.release}")


@click.command("evaluate")
@click.argument("truth", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--civic", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Add this CIViC release (an export directory) to the built-in knowledge for the run.")
@click.option("--json", "as_json_output", is_flag=True, help="Print the report as one JSON document.")
def evaluate_command(truth: Path, civic: Path | None, as_json_output: bool) -> None:
    """Compare oncorelay's AMP/ASCO/CAP tiers with the expected ones in TRUTH (a TSV; see docs/evaluation.md).

    Columns: id, gene, alteration, partner, tumor_type, expected_tier, expected_level, source. The last line
    printed is `agreement: NN.N% (n=N)`, n being the rows evaluated."""
    try:
        text = truth.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise click.ClickException(f"{truth} is not UTF-8 text (byte {error.start}); save it as UTF-8 TSV") from error
    tree = load_oncotree()
    try:
        rows, unevaluable = read_truth(text, tree.__contains__)
    except TruthFileError as error:
        raise click.ClickException(f"{truth}: {error}") from error
    kb, knowledge = _knowledge(civic)
    err = Console(stderr=True)
    with Progress(console=err, transient=True, disable=as_json_output or len(rows) < 50) as progress:
        task = progress.add_task("interpreting", total=len(rows))
        report = evaluate_truth(rows, unevaluable, kb, tree, RuleSet.load(), knowledge,
                                progress=lambda: progress.advance(task))
    if as_json_output:
        click.echo(json.dumps(as_json(report), indent=2))
        return
    out = Console(width=120, highlight=False)
    grid = Table(title=f"{truth.name}: oncorelay ({knowledge}) vs expected tiers")
    for header in TABLE_HEADERS:
        grid.add_column(header, justify="right")
    for row in table(report.per_tier()):
        grid.add_row(*row)
    out.print(grid)
    for title, lines in (("disagreements", disagreement_lines(report)),
                         ("same tier, other level (not counted)", level_notes(report)),
                         ("not evaluable", [f"line {u.line} {u.id or '-'}: {u.reason}" for u in report.unevaluable])):
        out.print(f"{title}: {len(lines)}")
        for line in lines:
            out.print(f"  {line}", markup=False)
    out.print(report.agreement_line(), markup=False)
