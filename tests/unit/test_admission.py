"""Admission of a valid result: registered lab, its hospitals, its own result ids, the case's hospital."""

from pathlib import Path

from contracts.events import SequencingResult
from contracts.reasons import RejectionCode
from contracts.registry import Lab
from services.ingest.domain.admission import admit, channel_problem

EXAMPLE = SequencingResult.model_validate_json(
    (Path(__file__).resolve().parents[2] / "contracts" / "examples" / "SequencingResult.json").read_text())
SITE = EXAMPLE.treating_site
LAB = Lab(lab_id=EXAMPLE.lab_id, site_ids=[SITE])


def _code(lab=LAB, open_enrolment=False, owner=None, case_site=None):
    refused = admit(EXAMPLE, lab, open_enrolment, owner, case_site)
    return refused.code if refused else None


def test_a_registered_lab_for_its_hospital_is_admitted():
    assert _code() is None
    assert _code(owner=EXAMPLE.lab_id, case_site=SITE) is None  # its own amendment of its own case


def test_an_unregistered_lab_is_refused_unless_enrolment_is_open():
    assert _code(lab=None) == RejectionCode.UNKNOWN_LAB
    assert _code(lab=None, open_enrolment=True) is None


def test_a_lab_may_send_only_for_its_registered_hospitals():
    assert _code(lab=Lab(lab_id=EXAMPLE.lab_id, site_ids=["HOSP-OTHER"])) == RejectionCode.SITE_NOT_PERMITTED
    assert _code(lab=Lab(lab_id=EXAMPLE.lab_id, any_site=True)) is None


def test_another_labs_result_id_is_refused_at_any_version():
    refused = admit(EXAMPLE, LAB, False, "LAB-B", None)
    assert refused.code == RejectionCode.RESULT_OWNED_BY_OTHER_LAB and refused.field == "result_id"
    assert "LAB-B" not in refused.message  # the other lab is not named to the sender


def test_a_case_of_another_hospital_is_refused():
    refused = admit(EXAMPLE, LAB, False, None, "HOSP-B")
    assert refused.code == RejectionCode.CASE_SITE_CONFLICT and "HOSP-B" not in refused.message


def test_open_enrolment_does_not_lift_ownership():
    assert _code(lab=None, open_enrolment=True, owner="LAB-B") == RejectionCode.RESULT_OWNED_BY_OTHER_LAB
    assert _code(lab=None, open_enrolment=True, case_site="HOSP-B") == RejectionCode.CASE_SITE_CONFLICT


def test_the_principal_mapping_defaults_to_the_lab_id():
    assert LAB.principal() == f"User:{EXAMPLE.lab_id}"
    assert Lab(lab_id="LAB-X", kafka_principal="User:lab-x-prod").principal() == "User:lab-x-prod"


def test_a_result_on_a_labs_own_topic_must_be_that_labs():
    own = frozenset({"LAB-A"})
    assert channel_problem("LAB-A", "LAB-A", own) is None
    mismatch = channel_problem("LAB-B", "LAB-A", own)
    assert mismatch.code == RejectionCode.LAB_TOPIC_MISMATCH and mismatch.field == "lab_id"
    assert "oncorelay.lab.LAB-A.results.v1" in mismatch.message


def test_a_lab_with_its_own_topic_is_refused_on_the_shared_one_and_others_are_not():
    own = frozenset({"LAB-A"})
    assert channel_problem("LAB-A", None, own).code == RejectionCode.LAB_TOPIC_REQUIRED
    assert channel_problem("LAB-B", None, own) is None
    assert channel_problem("LAB-A", None, frozenset()) is None
