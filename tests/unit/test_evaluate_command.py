"""`oncorelay evaluate` on small truth files, in memory: the table, disagreements, unevaluable rows, JSON."""

import json
from pathlib import Path

from click.testing import CliRunner

from oncorelay.cli import main

REPO = Path(__file__).resolve().parents[2]
HEADER = "id\tgene\talteration\tpartner\ttumor_type\texpected_tier\texpected_level\tsource\n"


def _run(tmp_path, body: str, *options: str):
    truth = tmp_path / "truth.tsv"
    truth.write_text(HEADER + body)
    return CliRunner().invoke(main, ["evaluate", str(truth), *options])


def test_the_example_truth_set_is_evaluated_and_ends_with_the_agreement_line():
    run = CliRunner().invoke(main, ["evaluate", str(REPO / "docs" / "examples" / "truth-example.tsv")])
    assert run.exit_code == 0, run.output
    assert run.output.rstrip().splitlines()[-1] == "agreement: 100.0% (n=8)"


def test_disagreements_and_unevaluable_rows_are_listed_and_n_counts_evaluated_rows(tmp_path):
    run = _run(tmp_path, "a\tBRAF\tV600E\t\tMEL\tI\tA\ts\n"
                         "b\tBRAF\tV600E\t\tMEL\tIII\t\ts\n"
                         "c\tBRAF\tV600E\t\tNOPE\tI\tA\ts\n"
                         "d\tFAKEGENE1\tR100W\t\tLUAD\tI\tA\ts\n")
    assert run.exit_code == 0, run.output
    lines = run.output.rstrip().splitlines()
    assert lines[-1] == "agreement: 33.3% (n=3)"
    assert "disagreements: 2" in run.output
    assert "line 3 b: BRAF V600E in MEL: expected III, oncorelay IA" in run.output
    assert "line 5 d: FAKEGENE1 R100W in LUAD: expected IA, oncorelay III - no knowledge row for FAKEGENE1" in run.output
    assert "line 4 c: tumor_type 'NOPE' is not an OncoTree code" in run.output


def test_json_output_is_one_document(tmp_path):
    run = _run(tmp_path, "a\tBRAF\tV600E\t\tMEL\tI\tA\ts\nb\t\tMSI-H\t\tCOADREAD\tI\tA\ts\nc\tX\t?\t\tMEL\tI\tA\ts\n",
               "--json")
    assert run.exit_code == 0, run.output
    report = json.loads(run.output)
    assert (report["n"], report["agreement_percent"]) == (2, 100.0)
    assert [r["tier"] for r in report["rows"]] == ["I", "I"]
    assert report["rows"][0]["therapies"] and report["not_evaluable"][0]["line"] == 4


def test_a_malformed_file_gets_an_error_naming_the_line_not_a_traceback(tmp_path):
    truth = tmp_path / "bad.tsv"
    truth.write_text("id\tgene\talteration\n")
    run = CliRunner().invoke(main, ["evaluate", str(truth)])
    assert run.exit_code == 1 and "line 1: the header lacks the column(s) partner" in run.output
    truth.write_bytes(b"\xff\xfe\x00id")
    run = CliRunner().invoke(main, ["evaluate", str(truth)])
    assert run.exit_code == 1 and "not UTF-8 text" in run.output
    run = CliRunner().invoke(main, ["evaluate", str(tmp_path / "missing.tsv")])
    assert run.exit_code == 2 and "does not exist" in run.output


def test_a_civic_release_is_added_for_the_run(tmp_path, shared_data):
    run = _run(tmp_path, "a\tBRAF\tV600E\t\tMEL\tI\tA\ts\n", "--civic", str(shared_data / "civic"), "--json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["knowledge"].startswith("built-in curated set + CIViC ")
    run = _run(tmp_path, "a\tBRAF\tV600E\t\tMEL\tI\tA\ts\n", "--civic", str(tmp_path))
    assert run.exit_code == 1 and "cannot import the CIViC release" in run.output


def test_the_label_regression_set_agrees_in_full():
    """The project's own truth set, written from the labels: a regression guard for matching and tiering."""
    truth = REPO / "services" / "annotate" / "knowledge" / "truth" / "label-regression.tsv"
    run = CliRunner().invoke(main, ["evaluate", str(truth)])
    assert run.exit_code == 0, run.output
    assert run.output.rstrip().splitlines()[-1] == "agreement: 100.0% (n=59)"
