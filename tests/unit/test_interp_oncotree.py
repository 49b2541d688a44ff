from pathlib import Path

import pytest
import yaml

from services.annotate.domain.disease_mapping import DiseaseMapping
from services.common.oncotree import OncoTree

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
MAPPING = REPO / "services" / "annotate" / "knowledge" / "civic_disease_to_oncotree.yaml"


@pytest.fixture(scope="module")
def tree() -> OncoTree:
    return OncoTree.load(DATA / "oncotree" / "oncotree_2025_10_03.json")


def test_release_has_all_898_nodes(tree):
    assert len(tree.nodes) == 898
    assert tree.release == "oncotree_2025_10_03"


def test_luad_ancestry_is_nsclc_then_lung(tree):
    assert tree.ancestors("LUAD") == ("LUAD", "NSCLC", "LUNG", "TISSUE")
    assert tree.is_same_or_descendant("LUAD", "NSCLC")
    assert not tree.is_same_or_descendant("NSCLC", "LUAD")
    assert not tree.is_same_or_descendant("SCLC", "NSCLC")


def test_colon_adenocarcinoma_is_within_colorectal_and_bowel(tree):
    assert tree.is_same_or_descendant("COAD", "COADREAD")
    assert tree.is_same_or_descendant("COAD", "BOWEL")
    assert tree.is_same_or_descendant("COAD", "TISSUE")


def test_unknown_code_has_no_ancestors(tree):
    assert tree.ancestors("NOTACODE") == ()


def test_every_mapped_code_exists_and_names_match_the_release(tree):
    rows = yaml.safe_load(MAPPING.read_text())["mappings"]
    for row in rows:
        assert row["oncotree_code"] in tree, row
        assert tree.name(row["oncotree_code"]) == row["oncotree_name"], row


def test_civic_diseases_map_by_doid_then_name():
    mapping = DiseaseMapping.load(MAPPING)
    assert mapping.code_for("Lung Non-small Cell Carcinoma", "3908") == "NSCLC"
    assert mapping.code_for("Her2-receptor Positive Breast Cancer", "0060079") == "BRCA"
    assert mapping.code_for("Anaplastic Thyroid Carcinoma", "") == "THAP"
    assert mapping.code_for("Cancer", "162") == "TISSUE"
    assert mapping.code_for("Some Rare Disease", "999999") is None
