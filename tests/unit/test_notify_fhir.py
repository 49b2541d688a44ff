"""FHIR export of a case (Genomics Reporting IG) and the FHIR Subscriptions notification bundle:
valid for the fhir.resources R4B models and, field by field, shaped like the IG's own examples."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from services.notify.domain import fhir

IG_EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "fhir-genomics-reporting"
EXAMPLE_FILES = ["oncology-report-example.json", "stu2-build/Bundle-oncologyexamples-r4.json",
                 "stu2-build/Bundle-oncology-diagnostic.json"]
NOW = datetime(2026, 11, 28, 9, 20, tzinfo=UTC)
FINDING = {"gene": "BRAF", "alteration": "p.V600E", "amp_tier": "I", "amp_level": "B", "escat_tier": "I-B",
           "oncogenicity": "oncogenic", "therapies": ["dabrafenib + trametinib", "encorafenib + binimetinib"],
           "sources": ["PMID:27283860"], "chrom": "chr7", "pos": 140753336, "ref": "A", "alt": "T",
           "hgvsc": "ENST00000646891.2:c.1799T>A", "hgvsp": "p.Val600Glu", "vaf": 0.31}


def _docs(**changes) -> dict:
    docs = {
        "case": {"_id": "MTB-BE-000042", "treating_site": "HOSP-GENT", "tumor_type": "LUAD",
                 "patient_pseudonym": "PSN-7F3A9C21"},
        "results": [{"_id": "R1@1", "case_id": "MTB-BE-000042", "patient_pseudonym": "PSN-7F3A9C21",
                     "specimen": {"specimen_id": "SP-1", "type": "tissue", "collected_on": "2026-11-20"},
                     "assay": {"genome_build": "GRCh38"}, "msi_status": "MSS", "tmb_reported": 4.2}],
        "interpretations": [{"_id": "R1@1", "result_key": "R1@1", "result_version": 1, "tumor_type": "LUAD",
                             "findings": [FINDING], "tmb_per_mb": 4.7, "msi_status": "MSS", "annotated_at": NOW}],
        "alerts": [], "decisions": [],
    }
    docs.update(changes)
    return docs


def _resources(bundle: dict, profile: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if profile in e["resource"].get("meta", {}).get("profile", [])]


def _example_resources(profile: str) -> list[dict]:
    found = []
    for name in EXAMPLE_FILES:
        found += _resources(json.loads((IG_EXAMPLES / name).read_text()), profile)
    assert found, f"no {profile} in the IG examples"
    return found


def _codings(concepts) -> set[tuple]:
    return {(c["system"], c["code"]) for concept in concepts for c in concept.get("coding", [])}


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_the_ig_examples_themselves_are_valid_r4b_bundles(name):
    Bundle.model_validate(json.loads((IG_EXAMPLES / name).read_text()))


def test_case_bundle_is_a_valid_fhir_bundle_with_stable_ids():
    bundle = fhir.case_bundle(_docs(), now=NOW)
    Bundle.model_validate(bundle)
    assert bundle == fhir.case_bundle(_docs(), now=NOW)
    references = {e["fullUrl"] for e in bundle["entry"]}
    for entry in bundle["entry"]:
        for ref in json.dumps(entry["resource"]).split('"reference": "')[1:]:
            assert ref.split('"')[0] in references  # every reference resolves inside the bundle


def test_report_is_shaped_like_the_ig_genomics_report():
    report = fhir.case_bundle(_docs(), now=NOW)["entry"][0]["resource"]
    example = json.loads((IG_EXAMPLES / "oncology-report-example.json").read_text())
    example_report = next(e["resource"] for e in example["entry"] if e["resource"]["resourceType"] == "DiagnosticReport")
    assert report["meta"]["profile"] == [fhir.IG + "genomics-report"]
    assert report["code"]["coding"] == example_report["code"]["coding"]
    assert report["category"] == example_report["category"]
    assert report["status"] == "final"
    assert len(report["result"]) == 1 + 2 + 2  # variant, two therapies, TMB and MSI


def test_variant_observation_matches_the_ig_examples_field_by_field():
    ours = _resources(fhir.case_bundle(_docs(), now=NOW), fhir.IG + "variant")
    examples = _example_resources(fhir.IG + "variant")
    assert len(ours) == 1
    variant = ours[0]
    for field in ("code", "valueCodeableConcept", "method"):
        assert all(variant[field]["coding"] == e[field]["coding"] for e in examples), field
    assert all(_codings(e["category"]) <= _codings(variant["category"]) for e in examples)
    example_components = {}
    for example in examples:
        for component in example["component"]:
            for coding in component["code"]["coding"]:
                example_components.setdefault((coding["system"], coding["code"]), []).append((coding, component))
    for component in variant["component"]:
        coding = component["code"]["coding"][0]
        key = (coding["system"], coding["code"])
        assert key in example_components, f"component {key} is not used by the IG examples"
        assert coding.get("display") in {c.get("display") for c, _ in example_components[key]}
        value_kinds = {k for _, c in example_components[key] for k in c if k.startswith("value")}
        assert {k for k in component if k.startswith("value")} <= value_kinds
    values = {c["code"]["coding"][0]["code"]: c for c in variant["component"]}
    assert values["48018-6"]["valueCodeableConcept"]["coding"][0]["system"] == "http://www.genenames.org/geneId"
    assert values["48005-3"]["valueCodeableConcept"]["coding"][0]["code"] == "p.Val600Glu"
    assert values["81290-9"]["valueCodeableConcept"]["coding"][0]["code"] == "7:g.140753336A>T"
    assert values["62374-4"]["valueCodeableConcept"]["coding"][0]["code"] == "LA26806-2"
    assert values["81258-6"]["valueQuantity"]["value"] == 0.31


def test_therapeutic_implications_match_the_ig_example_and_point_at_their_variant():
    bundle = fhir.case_bundle(_docs(), now=NOW)
    ours = _resources(bundle, fhir.IG + "therapeutic-implication")
    examples = _example_resources(fhir.IG + "therapeutic-implication")
    variant_ref = next(e["fullUrl"] for e in bundle["entry"]
                       if fhir.IG + "variant" in e["resource"].get("meta", {}).get("profile", []))
    assert [o["component"][0]["valueCodeableConcept"]["text"] for o in ours] == FINDING["therapies"]
    example_codes = {(c["code"]["coding"][0]["system"], c["code"]["coding"][0]["code"])
                     for e in examples for c in e["component"]}
    for observation in ours:
        assert all(observation["code"]["coding"] == e["code"]["coding"] for e in examples)
        assert all(observation["method"]["coding"] == e["method"]["coding"] for e in examples)
        assert observation["derivedFrom"] == [{"reference": variant_ref}]
        assert {(c["code"]["coding"][0]["system"], c["code"]["coding"][0]["code"])
                for c in observation["component"]} <= example_codes
    evidence = {c["code"]["coding"][0]["code"]: c for c in ours[0]["component"]}["93044-6"]
    assert evidence["valueCodeableConcept"]["text"] == "AMP/ASCO/CAP Tier I level B; ESCAT I-B"


def test_specimen_and_patient_carry_no_identifier_beyond_the_pseudonym():
    bundle = fhir.case_bundle(_docs(), now=NOW)
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert patient == {"resourceType": "Patient",
                       "identifier": [{"system": fhir.PSEUDONYM_SYSTEM, "value": "PSN-7F3A9C21"}]}
    specimen = _resources(bundle, fhir.IG + "specimen")[0]
    assert specimen["collection"] == {"collectedDateTime": "2026-11-20"}


def test_a_case_known_only_from_its_alert_still_exports():
    alert = {"_id": "a1", "case_id": "C9", "result_key": "R9@1", "tumor_type": "COAD", "raised_at": NOW,
             "findings": [{"gene": "KRAS", "alteration": "p.G12D", "therapies": []}],
             "reasons": [{"rule_id": "r", "code": "c", "summary": "KRAS p.G12D in COAD"}]}
    bundle = fhir.case_bundle({"case": None, "results": [], "interpretations": [], "alerts": [alert]}, now=NOW)
    Bundle.model_validate(bundle)
    assert bundle["identifier"]["value"] == "C9"
    assert bundle["entry"][0]["resource"]["conclusion"] == "KRAS p.G12D in COAD"


def test_a_decision_becomes_the_report_conclusion():
    decision = {"outcome": "clinical_trial", "recommendation": "Enrol in trial X.", "rationale": "Tier II."}
    report = fhir.case_bundle(_docs(decisions=[decision]), now=NOW)["entry"][0]["resource"]
    assert report["conclusion"].startswith("MTB decision (clinical_trial): Enrol in trial X.")


def test_notification_bundle_is_a_valid_subscription_event_notification():
    alert = json.loads((Path(__file__).resolve().parents[2] / "contracts" / "examples" / "MtbReviewRequired.json")
                       .read_text())
    bundle = fhir.notification_bundle(alert, "sub-1", 7, "https://mtb.example.org/cases/", now=NOW)
    Bundle.model_validate(bundle)
    status = bundle["entry"][0]["resource"]
    assert status["eventsSinceSubscriptionStart"] == "7"
    assert status["notificationEvent"][0]["eventNumber"] == "7"
    assert status["notificationEvent"][0]["focus"]["reference"] == bundle["entry"][1]["fullUrl"]
    assert "https://mtb.example.org/cases/MTB-BE-000042" in json.dumps(bundle)


def test_the_eu_status_of_a_finding_is_part_of_its_evidence_text():
    assert fhir.evidence_text({**FINDING, "eu_status": "FDA only, not EMA-authorised"}) == (
        "AMP/ASCO/CAP Tier I level B; ESCAT I-B; EU: FDA only, not EMA-authorised")
    assert fhir.evidence_text(FINDING) == "AMP/ASCO/CAP Tier I level B; ESCAT I-B"
