"""Property-based tests (hypothesis) for the contracts and ingest's first look at a message: whatever bytes
arrive, intake answers with a result or precise reasons and never raises; valid results survive JSON;
pseudonyms never carry dates or national-id numbers; case states never sort backwards."""

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.events import IngestReceipt, SequencingResult
from contracts.pseudonym import identifier_problem
from contracts.reasons import ADVICE, RejectionCode
from services.common.case_state import STAGES, order_key, stage_of
from services.ingest.domain.lab_message import read_message

EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "contracts" / "examples" / "SequencingResult.json").read_text())
MAX = 1024 * 1024

identifiers = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:-]{0,40}\Z")
pseudonyms = st.from_regex(r"\APSN-[A-F]{2}[0-9]{3}[A-F]{3}\Z")  # letters break every digit run: never a date/id
timestamps = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@st.composite
def sequencing_results(draw) -> dict:
    document = json.loads(json.dumps(EXAMPLE))
    document.update(
        result_id=draw(identifiers), result_version=draw(st.integers(1, 10_000)), lab_id="LAB01",
        case_id=draw(identifiers), treating_site=draw(identifiers), patient_pseudonym=draw(pseudonyms),
        tumor_type=draw(st.from_regex(r"\A[A-Z][A-Z0-9_]{1,10}\Z")),
        msi_status=draw(st.sampled_from([None, "MSI-H", "MSI-L", "MSS"])),
        tmb_reported=draw(st.none() | st.floats(0, 500, allow_nan=False)),
        current_therapies=draw(st.lists(st.text(st.characters(codec="utf-8"), min_size=1, max_size=30), max_size=5)),
        published_at=draw(timestamps).isoformat(),
    )
    document["specimen"].update(specimen_id=draw(identifiers), type=draw(st.sampled_from(["tissue", "plasma"])),
                                collected_on=draw(st.dates(date(2000, 1, 1), date(2100, 1, 1))).isoformat())
    document["assay"].update(genome_build=draw(st.sampled_from(["GRCh37", "GRCh38"])),
                             panel_size_mb=draw(st.floats(0.001, 3200, allow_nan=False)),
                             tumor_only=draw(st.booleans()))
    return document


def _check_answer(raw: bytes) -> None:
    intake = read_message(raw, MAX)
    assert (intake.result is None) == bool(intake.reasons)
    for item in intake.reasons:
        assert isinstance(item.code, RejectionCode) and item.code in ADVICE and item.message


@given(st.binary(max_size=2000))
def test_any_bytes_get_an_answer_never_an_exception(raw):
    _check_answer(raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.sampled_from(sorted(EXAMPLE) + ["extra", "name", "dob"]), json_values, max_size=8))
def test_any_json_object_gets_an_answer(document):
    _check_answer(json.dumps(document).encode())


@given(sequencing_results(), st.sampled_from(sorted(EXAMPLE)), json_values)
def test_one_field_replaced_by_anything_gets_an_answer(document, field, value):
    document[field] = value
    _check_answer(json.dumps(document).encode())


@given(sequencing_results(), st.data())
def test_bytes_flipped_in_a_valid_message_get_an_answer(document, data):
    raw = bytearray(json.dumps(document).encode())
    for _ in range(data.draw(st.integers(1, 5))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    _check_answer(bytes(raw))


@given(sequencing_results())
def test_valid_results_are_accepted_and_survive_a_json_round_trip(document):
    raw = json.dumps(document).encode()
    intake = read_message(raw, MAX)
    assert intake.reasons == []
    again = SequencingResult.model_validate_json(intake.result.model_dump_json())
    assert again == intake.result
    assert intake.result.result_id == document["result_id"]


@given(sequencing_results(), st.sampled_from([k for k in EXAMPLE if k not in ("msi_status", "tmb_reported",
                                                                            "current_therapies", "result_version",
                                                                            "schema_version")]))
def test_a_missing_required_field_is_named(document, field):
    del document[field]
    intake = read_message(json.dumps(document).encode(), MAX)
    assert [(r.code, r.field) for r in intake.reasons] == [(RejectionCode.SCHEMA_VIOLATION, field)]


@given(sequencing_results(), st.dates(date(1900, 1, 1), date(2030, 12, 31)),
       st.sampled_from(["%Y-%m-%d", "%Y%m%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d"]), st.sampled_from(["", "PSN-", "X"]))
def test_a_birth_date_in_the_pseudonym_is_refused_as_a_patient_identifier(document, born, form, prefix):
    document["patient_pseudonym"] = prefix + born.strftime(form)
    intake = read_message(json.dumps(document).encode(), MAX)
    assert [r.code for r in intake.reasons] == [RejectionCode.PATIENT_IDENTIFIER]


@given(st.from_regex(r"\A[0-9]{9,15}\Z") | st.from_regex(r"\A[0-9]{6}-[0-9]{4}\Z"), st.sampled_from(["", "P-", "ID"]))
def test_national_id_numbers_are_never_pseudonyms(number, prefix):
    assert identifier_problem(prefix + number) is not None


@given(st.text(st.characters(categories=["L"]), min_size=1, max_size=30))
def test_names_are_never_pseudonyms(name):
    assert identifier_problem(name) is not None  # letters only (no digit), or with spaces


@given(pseudonyms)
def test_generated_pseudonyms_are_accepted(value):
    assert identifier_problem(value) is None


result_keys = st.from_regex(r"R-[A-Za-z0-9._|-]{1,20}@[1-9][0-9]{0,2}", fullmatch=True)


@given(timestamps, st.timedeltas(timedelta(microseconds=1), timedelta(days=3000)),
       st.sampled_from(STAGES), st.sampled_from(STAGES), result_keys, result_keys)
def test_case_states_never_sort_backwards(earlier, gap, stage_a, stage_b, key_a, key_b):
    later = earlier + gap
    assert order_key(earlier, stage_a, key_a) < order_key(later, stage_b, key_b)  # a newer result always moves on
    same = sorted([order_key(earlier, stage_a, key_a), order_key(earlier, stage_b, key_a)])
    assert same == [order_key(earlier, s, key_a) for s in sorted([stage_a, stage_b], key=STAGES.index)]


@given(timestamps, st.sampled_from(STAGES), result_keys)
def test_the_order_key_names_its_stage_and_result(published_at, stage, key):
    assert stage_of(order_key(published_at, stage, key)) == (stage, key)


@settings(max_examples=50)
@given(st.sampled_from(list(RejectionCode)), st.text(max_size=200), identifiers)
def test_every_rejection_makes_a_valid_receipt(code, message, result_id):
    receipt = IngestReceipt(result_id=result_id, status="rejected", reasons=[{"code": code, "message": message}],
                            message="Rejected", received_at=datetime.now(UTC))
    assert IngestReceipt.model_validate_json(receipt.model_dump_json()) == receipt
