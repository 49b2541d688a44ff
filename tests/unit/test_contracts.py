"""Contracts: schemas in sync with the models, examples valid, strictness and pseudonym rules."""

import json
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from contracts.events import EVENT_MODELS, IngestReceipt, SequencingResult
from contracts.export import SCHEMA_DIR, schema_text
from contracts.pseudonym import identifier_problem

EXAMPLES = Path(__file__).resolve().parents[2] / "contracts" / "examples"


@pytest.mark.parametrize("name", sorted(EVENT_MODELS))
def test_committed_schema_matches_model(name):
    committed = (SCHEMA_DIR / f"{name}.json").read_text()
    assert committed == schema_text(name), f"run `python -m contracts.export` and commit contracts/schemas/{name}.json"


@pytest.mark.parametrize("name", sorted(EVENT_MODELS))
def test_every_event_has_an_example(name):
    assert (EXAMPLES / f"{name}.json").exists()


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_example_is_valid_for_model_and_json_schema(example):
    name = example.name.split(".")[0]
    raw = example.read_text()
    EVENT_MODELS[name].model_validate_json(raw)
    schema = json.loads((SCHEMA_DIR / f"{name}.json").read_text())
    jsonschema.validate(json.loads(raw), schema)


def _result(**changes) -> str:
    document = json.loads((EXAMPLES / "SequencingResult.json").read_text())
    document.update(changes)
    return json.dumps(document)


def test_unknown_field_is_refused():
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        SequencingResult.model_validate_json(_result(comment="hello"))


def test_strict_types_refuse_coercion():
    with pytest.raises(ValidationError):
        SequencingResult.model_validate_json(_result(result_version="2"))


def test_future_schema_version_is_refused():
    with pytest.raises(ValidationError, match="schema_version"):
        SequencingResult.model_validate_json(_result(schema_version="2.0"))


def test_genome_build_is_restricted():
    document = json.loads(_result())
    document["assay"]["genome_build"] = "hg19"
    with pytest.raises(ValidationError, match="GRCh37"):
        SequencingResult.model_validate_json(json.dumps(document))


def test_inline_vcf_is_bounded():
    document = json.loads(_result())
    document["vcf"]["data"] = "A" * 800_000
    with pytest.raises(ValidationError, match="at most 700000"):
        SequencingResult.model_validate_json(json.dumps(document))


@pytest.mark.parametrize(
    "value, problem",
    [
        ("Jane Doe", "no spaces"),
        ("JANEDOE", "must contain a digit"),
        ("PSN-1975-03-14", "date"),
        ("14.03.1975-X1", "date"),
        ("85073003328", "national identification"),  # Belgian national register number shape
        ("PSN-900314-1234", "national identification"),  # Swedish personnummer shape
        ("RSSMRA85T10A562S", "national identification"),  # Italian codice fiscale shape
    ],
)
def test_direct_identifiers_are_not_pseudonyms(value, problem):
    assert problem in identifier_problem(value)


@pytest.mark.parametrize("value", ["PSN-7F3A9C21", "BALLETT-0042", "p_00017"])
def test_pseudonyms_pass(value):
    assert identifier_problem(value) is None


def test_rejected_receipt_needs_reasons():
    with pytest.raises(ValidationError, match="needs reasons"):
        IngestReceipt.model_validate_json(
            json.dumps({"result_id": "R1", "status": "rejected", "message": "x", "received_at": "2026-11-28T00:00:00Z"})
        )
