"""ingest's first look at raw messages: each kind of bad message gets its precise reason code."""

import json
from pathlib import Path

from contracts.reasons import RejectionCode
from services.ingest.domain.lab_message import read_message

EXAMPLE = (Path(__file__).resolve().parents[2] / "contracts" / "examples" / "SequencingResult.json").read_text()


def _codes(raw: bytes) -> list[str]:
    return [r.code for r in read_message(raw, 1024 * 1024).reasons]


def _with(**changes) -> bytes:
    document = json.loads(EXAMPLE)
    document.update(changes)
    return json.dumps(document).encode()


def test_valid_example_is_accepted():
    intake = read_message(EXAMPLE.encode(), 1024 * 1024)
    assert intake.reasons == [] and intake.result.result_id == "LAB01-R2026-000123"


def test_malformed_json():
    assert _codes(b'{"schema_version": "1.0", ') == [RejectionCode.MALFORMED_JSON]
    assert _codes(b"\xff\xfe") == [RejectionCode.MALFORMED_JSON]
    assert _codes(b"[1, 2]") == [RejectionCode.MALFORMED_JSON]


def test_schema_version_missing_or_future():
    assert _codes(_with(schema_version="2.0")) == [RejectionCode.UNSUPPORTED_SCHEMA_VERSION]
    document = json.loads(EXAMPLE)
    del document["schema_version"]
    assert _codes(json.dumps(document).encode()) == [RejectionCode.UNSUPPORTED_SCHEMA_VERSION]


def test_missing_field_names_the_field():
    document = json.loads(EXAMPLE)
    del document["tumor_type"]
    intake = read_message(json.dumps(document).encode(), 1024 * 1024)
    assert [(r.code, r.field) for r in intake.reasons] == [(RejectionCode.SCHEMA_VIOLATION, "tumor_type")]
    assert intake.result_id == "LAB01-R2026-000123"


def test_identifying_fields_and_values():
    assert _codes(_with(patient_name="Jane Doe")) == [RejectionCode.PATIENT_IDENTIFIER]
    assert _codes(_with(date_of_birth="1975-03-14")) == [RejectionCode.PATIENT_IDENTIFIER]
    assert _codes(_with(patient_pseudonym="Jane Doe")) == [RejectionCode.PATIENT_IDENTIFIER]
    assert _codes(_with(patient_pseudonym="19750314")) == [RejectionCode.PATIENT_IDENTIFIER]


def test_oversized_message():
    assert [r.code for r in read_message(b"x" * 11, 10).reasons] == [RejectionCode.MESSAGE_TOO_LARGE]


def test_reason_message_is_actionable():
    reason = read_message(_with(schema_version="9"), 1024 * 1024).reasons[0]
    assert "'9' is not supported" in reason.message and "1.0" in reason.message


def test_schema_1_1_adds_qc_and_schema_1_0_messages_are_read_as_before():
    qc = {"tumour_cell_content": 0.35, "median_target_depth": 612, "limit_of_detection_vaf": 0.05}
    assert read_message(_with(schema_version="1.1", qc=qc), 1024 * 1024).result.qc.median_target_depth == 612
    assert read_message(_with(schema_version="1.1"), 1024 * 1024).result.qc is None
    refused = read_message(_with(qc=qc), 1024 * 1024).reasons  # 1.0 with qc
    assert [r.code for r in refused] == [RejectionCode.SCHEMA_VIOLATION]
    assert 'schema_version "1.1"' in refused[0].message
    assert _codes(_with(schema_version="1.1", qc={"tumour_cell_content": 35})) == [RejectionCode.SCHEMA_VIOLATION]
    assert _codes(_with(schema_version=["1.1"])) == [RejectionCode.UNSUPPORTED_SCHEMA_VERSION]
