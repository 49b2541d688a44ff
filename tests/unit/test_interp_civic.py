from pathlib import Path

import pytest

from services.annotate.domain.civic import diff, import_release, parse_variant_name
from services.annotate.domain.disease_mapping import DiseaseMapping

REPO = Path(__file__).resolve().parents[2]
CIVIC = REPO.parent / "shared" / "data" / "civic"
MAPPING = REPO / "services" / "annotate" / "knowledge" / "civic_disease_to_oncotree.yaml"


@pytest.fixture(scope="module")
def release():
    return import_release(CIVIC, DiseaseMapping.load(MAPPING))


def test_release_counts_match_the_published_export(release):
    assert release.release == "01-Aug-2021"
    assert release.counts == {"variant": 1469, "evidence": 3650, "assertion": 18}


def test_ragged_variant_rows_are_kept_and_reported(release):
    ragged = [w for w in release.warnings if "VariantSummaries" in w]
    assert len(ragged) == 6
    braf = next(r for r in release.records if r.record_id == "civic:VID12")
    assert (braf.loci[0].chrom, braf.loci[0].pos, braf.loci[0].ref, braf.loci[0].alt) == ("7", 140453136, "A", "T")


def test_assertion_amp_category_is_parsed(release):
    by_id = {r.record_id: r for r in release.records}
    erbb2 = by_id["civic:AID2"]
    assert (erbb2.amp_tier, erbb2.amp_level, erbb2.tumor_types, erbb2.match.kind) == ("I", "A", ["BRCA"], "amplification")
    acvr1 = by_id["civic:AID9"]
    assert (acvr1.amp_tier, acvr1.amp_level, acvr1.tumor_types) == ("II", "C", ["DMG"])


def test_evidence_item_keeps_level_direction_drugs_and_pmid(release):
    eid = next(r for r in release.records if r.record_id == "civic:EID1")
    assert (eid.gene, eid.alteration, eid.evidence_type, eid.direction, eid.evidence_level) == (
        "JAK2", "V617F", "diagnostic", "supports", "B")
    assert eid.citations[0].startswith("PMID:16081687")


def test_variant_names_become_matchers():
    assert parse_variant_name("BRAF", "V600E").proteins == ["V600E"]
    assert parse_variant_name("KRAS", "G12/G13").codons == [12, 13]
    assert parse_variant_name("EGFR", "EXON 19 DELETION").kind == "exon19_inframe_deletion"
    assert parse_variant_name("ALK", "EML4-ALK").partner == "EML4"
    assert parse_variant_name("ABL1", "BCR-ABL T315I").proteins == ["T315I"]
    assert parse_variant_name("VHL", "Q195* (c.583C>T)").proteins == ["Q195*"]
    assert parse_variant_name("ERBB2", "AMPLIFICATION").kind == "amplification"
    assert parse_variant_name("CD274", "EXPRESSION").kind == "unsupported"


def test_diff_reports_added_removed_and_changed_by_type(release):
    old = release.records
    new = [r for r in old if r.record_id != "civic:EID1"]
    new = [r.model_copy(update={"rating": 1}) if r.record_id == "civic:EID2" else r for r in new]
    new.append(old[0].model_copy(update={"record_id": "civic:VID999999"}))
    change = diff(old, new)
    assert change.added == {"variant": 1}
    assert change.removed == {"evidence": 1}
    assert change.changed == {"evidence": 1}
    assert change.unchanged == len(old) - 2


@pytest.fixture(scope="module")
def release_2024(tmp_path_factory):
    """The 01-Apr-2024 release in the molecular-profile layout, alone in its directory (no variant or assertion
    file of that release exists)."""
    directory = tmp_path_factory.mktemp("civic-2024")
    (directory / "01-Apr-2024-ClinicalEvidenceSummaries.tsv").symlink_to(CIVIC / "01-Apr-2024-ClinicalEvidenceSummaries.tsv")
    return import_release(directory, DiseaseMapping.load(MAPPING))


def test_a_release_of_the_molecular_profile_layout_imports_from_its_evidence_file_alone(release_2024):
    assert release_2024.release == "01-Apr-2024"
    assert release_2024.counts == {"evidence": 4301 - 364}
    assert "364 evidence items on combined molecular profiles (AND/OR/NOT)" in release_2024.warnings[0]
    eid = next(r for r in release_2024.records if r.record_id == "civic:EID1869")  # NTRK3 ETV6::NTRK3, entrectinib
    assert (eid.gene, eid.alteration, eid.match.kind, eid.match.partner) == ("NTRK3", "ETV6::NTRK3", "fusion", "ETV6")
    assert (eid.therapies, eid.significance, eid.evidence_type) == (["entrectinib"], "sensitivity", "predictive")


def test_combined_profiles_never_become_single_variant_evidence(release_2024):
    alterations = {r.alteration for r in release_2024.records}
    assert not any(" AND " in a or " OR " in a or a.startswith("NOT ") for a in alterations)
    assert not any(r.gene == "ABL1" and r.alteration == "BCR::ABL AND ABL1 T315I" for r in release_2024.records)


@pytest.mark.parametrize("gene, name, kind, detail", [
    ("NTRK3", "ETV6::NTRK3", "fusion", "ETV6"),
    ("ABL1", "BCR::ABL", "fusion", "BCR"),
    ("ALK", "EML4::ALK e6-e20", "fusion", "EML4"),
    ("ROS1", "CD74::ROS1 G2032R", "protein", ["G2032R"]),
])
def test_current_fusion_notation_is_read_like_the_older_one(gene, name, kind, detail):
    match = parse_variant_name(gene, name)
    assert match.kind == kind
    assert (match.partner if kind == "fusion" else match.proteins) == detail


def test_both_layouts_give_the_same_record_for_the_same_evidence_item(release, release_2024):
    old = next(r for r in release.records if r.record_id == "civic:EID1")
    new = next(r for r in release_2024.records if r.record_id == "civic:EID1")
    assert (old.gene, old.alteration, old.evidence_type, old.tumor_types) == (
        new.gene, new.alteration, new.evidence_type, new.tumor_types)
