import csv
from pathlib import Path

import pytest

from services.annotate.domain.knowledge import KnowledgeBase, load_builtin
from services.common.oncotree import OncoTree

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="module")
def builtin():
    return load_builtin()


def _walk(value, path="$"):
    if isinstance(value, dict):
        for key, item in value.items():
            assert "." not in key and not key.startswith("$"), f"bad key {path}.{key}"
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            assert not isinstance(item, list), f"array of arrays at {path}"
            yield from _walk(item, path)
    yield value


def test_every_builtin_row_has_a_source_and_known_tumour_types(builtin):
    records, reference = builtin
    tree = OncoTree.load(DATA / "oncotree" / "oncotree_2025_10_03.json")
    assert len(records) >= 40
    for record in records:
        assert record.citations, record.record_id
        assert record.amp_level in {"A", "B", "C", "D"}
        for code in record.tumor_types + record.tumor_types_excluded:
            assert code in tree, (record.record_id, code)
    for context in reference.resistance_contexts:
        assert context.source and all(code in tree for code in context.tumor_types)


def test_documents_are_mongodb_safe_and_round_trip(builtin):
    kb = KnowledgeBase(*builtin)
    meta, docs = kb.to_documents()
    for doc in [meta, *docs]:
        list(_walk(doc))
    again = KnowledgeBase.from_documents(meta, [{**d, "_id": i} for i, d in enumerate(docs)])
    assert again.version == kb.version == "builtin-2026.12-3"
    assert again.records == kb.records


def test_version_includes_the_civic_release_and_a_content_hash(builtin):
    records, reference = builtin
    civic = [records[0].model_copy(update={"record_id": "civic:EID1", "source": "civic"})]
    kb = KnowledgeBase(records + civic, reference, civic_release="01-Aug-2021")
    assert kb.version.startswith("builtin-2026.12-3+civic-01-Aug-2021-")
    changed = [civic[0].model_copy(update={"rating": 5})]
    assert KnowledgeBase(records + changed, reference, "01-Aug-2021").version != kb.version


def test_builtin_hotspot_codons_are_recurrent_in_cancerhotspots(builtin):
    """cancerhotspots (AGPL) is used here only as test input, to check the hand-written codons."""
    _, reference = builtin
    seen = set()
    with (DATA / "cancerhotspots" / "hotspot_variant_file.txt").open() as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            seen.add((row["Hugo_Symbol"], row["Amino_Acid_Position"]))
    with (DATA / "cancerhotspots" / "v2_multi_type_residue.txt").open() as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            seen.add((row["Hugo_Symbol"], row["Residue"][1:]))
    missing = [(h.gene, c) for h in reference.hotspots if h.source.startswith("Chang") for c in h.codons
               if (h.gene, str(c)) not in seen]
    assert missing == []


def test_every_tumour_area_file_is_loaded_and_ids_are_unique_across_files(builtin, tmp_path):
    records, _ = builtin
    ids = {r.record_id for r in records}
    assert {"BI-ABL1-BCR-FUSION-CML", "BI-NRG1-FUSION-NSCLC", "BI-ATM-TRUNC-PROSTATE"} <= ids  # one per area file
    import shutil

    from services.annotate.domain.knowledge import BUILTIN_PATH
    shutil.copy(BUILTIN_PATH, tmp_path / "biomarkers.yaml")
    (tmp_path / "biomarkers").mkdir()
    (tmp_path / "biomarkers" / "area.yaml").write_text(
        "biomarkers:\n  - {id: BI-EGFR-L858R-NSCLC, gene: EGFR, alteration: L858R}\n")
    with pytest.raises(ValueError, match="ids used twice: \\['BI-EGFR-L858R-NSCLC'\\]"):
        load_builtin(tmp_path / "biomarkers.yaml")
    (tmp_path / "biomarkers" / "area.yaml").write_text(
        "biomarkers:\n  - {id: BI-X, gene: X, alteration: x, eu_satus: fda_only}\n")
    with pytest.raises(ValueError, match="BI-X: unknown field\\(s\\) \\['eu_satus'\\]"):
        load_builtin(tmp_path / "biomarkers.yaml")


def test_every_row_says_what_europe_can_prescribe_and_dates_its_approvals(builtin):
    records, _ = builtin
    sensitivity = [r for r in records if r.significance == "sensitivity"]
    undetermined = [r for r in sensitivity if not r.eu_status]  # left empty on purpose: the note says why
    assert all(r.note and "EU status therefore not determined" in r.note for r in undetermined), [
        r.record_id for r in undetermined]
    for record in records:
        for approval in record.approvals:
            assert approval.source, record.record_id
            assert approval.date is None or (len(approval.date) == 10 and approval.date[4] == "-"), record.record_id
