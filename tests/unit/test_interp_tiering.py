from pathlib import Path

import pytest

from contracts.variant import Variant
from services.annotate.domain.civic import import_release
from services.annotate.domain.disease_mapping import DiseaseMapping
from services.annotate.domain.knowledge import KnowledgeBase
from services.annotate.domain.matching import VariantView, match_broad, match_specific
from services.annotate.domain.oncogenicity import classify
from services.annotate.domain.tiering import tier
from services.common.oncotree import OncoTree

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
MAPPING = REPO / "services" / "annotate" / "knowledge" / "civic_disease_to_oncotree.yaml"


@pytest.fixture(scope="module")
def tree() -> OncoTree:
    return OncoTree.load(DATA / "oncotree" / "oncotree_2025_10_03.json")


def call(kb, tree, tumour, gene, hgvsp=None, consequence="missense_variant", **kw):
    variant = Variant(chrom="1", pos=1, ref="A", alt="T", kind=kw.pop("kind", "snv"), gene=gene, hgvsp=hgvsp,
                      consequence=consequence, **kw)
    view = VariantView(variant, "GRCh38")
    specific = match_specific(view, kb)
    onc = classify(view, specific, kb)
    return tier(specific + match_broad(view, kb, onc.call != "vus"), tumour, tree), onc


def test_braf_v600e_in_cutaneous_melanoma_is_tier_ia_and_escat_ia(kb, tree):
    result, onc = call(kb, tree, "SKCM", "BRAF", "p.Val600Glu")
    assert (result.amp_label, result.escat_tier, onc.call) == ("IA", "I-A", "oncogenic")
    assert "dabrafenib + trametinib" in result.therapies_sensitive
    assert any("Tafinlar" in c for c in result.citations)
    assert result.discordance is None


def test_nsclc_evidence_applies_to_luad(kb, tree):
    result, _ = call(kb, tree, "LUAD", "EGFR", "p.Leu858Arg")
    assert (result.amp_label, result.escat_tier) == ("IA", "I-A")
    assert "osimertinib" in result.therapies_sensitive


def test_evidence_in_another_tumour_type_is_tier_iic_and_escat_iiia(kb, tree):
    result, _ = call(kb, tree, "PAAD", "EGFR", "p.Leu858Arg")
    assert (result.amp_label, result.escat_tier) == ("IIC", "III-A")
    assert result.therapies_sensitive == [] and "osimertinib" in result.therapies_other_tumour
    assert all(not e.same_tumour_type for e in result.evidence)


def test_tumour_agnostic_label_excludes_colorectal_but_crc_row_applies(kb, tree):
    result, _ = call(kb, tree, "COAD", "BRAF", "p.V600E")
    applied = {e.record_id: e.same_tumour_type for e in result.evidence}
    assert applied["BI-BRAF-V600E-AGNOSTIC"] is False and applied["BI-BRAF-V600E-CRC"] is True
    assert result.therapies_sensitive[:2] == ["encorafenib + cetuximab", "encorafenib + cetuximab + mfolfox6"]
    agnostic, _ = call(kb, tree, "CHOL", "BRAF", "p.V600E")
    assert (agnostic.amp_label, agnostic.escat_tier) == ("IA", "I-C")


def test_kras_in_colorectal_is_tier_i_for_resistance_with_a_discordance_note(kb, tree):
    result, _ = call(kb, tree, "READ", "KRAS", "p.Gly13Asp")
    assert result.amp_label == "IA"
    assert result.therapies_resistant == ["cetuximab", "panitumumab"]
    assert "resistance" in result.discordance


def test_erbb2_amplification_in_crc_shows_amp_escat_disagreement(kb, tree):
    result, _ = call(kb, tree, "COADREAD", "ERBB2", kind="cnv", consequence=None, copy_number=12.0)
    assert (result.amp_label, result.escat_tier) == ("IA", "II-B")
    assert result.discordance.startswith("AMP Tier IA but ESCAT II-B")


def test_unknown_missense_is_an_explicit_vus_tier_iii(kb, tree):
    result, onc = call(kb, tree, "LUAD", "ZNF217", "p.Arg10Trp")
    assert (result.amp_tier, result.amp_level, onc.call) == ("III", None, "vus")
    assert "unknown significance" in onc.basis


def test_truncating_tumour_suppressor_is_likely_oncogenic(kb, tree):
    _, onc = call(kb, tree, "LUAD", "STK11", "p.Gln37Ter", "stop_gained")
    assert onc.call == "likely_oncogenic"


def test_civic_assertion_gives_its_own_tier_in_its_disease(tree):
    civic = import_release(DATA / "civic", DiseaseMapping.load(MAPPING))
    assertions = [r for r in civic.records if r.record_type == "assertion"]
    kb = KnowledgeBase.build(civic_records=assertions, civic_release=civic.release)
    result, _ = call(kb, tree, "DMG", "ACVR1", "p.Gly328Val")
    assert result.amp_label == "IIC"
    assert [e.record_id for e in result.evidence] == ["civic:AID9"]


@pytest.fixture(scope="module")
def kb_with_eu_status(tmp_path_factory):
    """The core built-in set with EU context on two rows only (test values, not knowledge)."""
    import yaml

    from services.annotate.domain.knowledge import BUILTIN_PATH
    data = yaml.safe_load(BUILTIN_PATH.read_text())
    for row in data["biomarkers"]:
        for key in ("eu_status", "approvals", "label_wording"):
            row.pop(key, None)
    rows = {row["id"]: row for row in data["biomarkers"]}
    rows["BI-BRAF-V600-MEL"].update(eu_status="ema_authorised", label_wording="BRAF V600E or V600K mutation",
                                    approvals=[{"agency": "FDA", "date": "2001-02-03", "source": "test"},
                                               {"agency": "EMA", "date": "2002-03-04", "source": "test"}])
    rows["BI-ERBB2-MUT-NSCLC"].update(eu_status="fda_only")
    path = tmp_path_factory.mktemp("kb") / "biomarkers.yaml"
    path.write_text(yaml.safe_dump(data))
    return KnowledgeBase.build(path)


def test_a_finding_carries_the_eu_status_of_its_strongest_evidence(kb_with_eu_status, tree):
    melanoma, _ = call(kb_with_eu_status, tree, "SKCM", "BRAF", "p.Val600Glu")
    assert melanoma.eu_status == "EMA-authorised (since 2002-03-04)"
    lung, _ = call(kb_with_eu_status, tree, "LUAD", "ERBB2", "p.Y772_A775dup", consequence="inframe_insertion",
                   kind="indel")
    assert lung.eu_status == "FDA only, not EMA-authorised"


def test_no_eu_status_is_invented_where_the_knowledge_does_not_say(kb_with_eu_status, tree):
    other_tumour, _ = call(kb_with_eu_status, tree, "LUAD", "BRAF", "p.Val600Glu")  # NSCLC row: no EU status given
    assert other_tumour.amp_label == "IA" and other_tumour.eu_status is None
    resistance, _ = call(kb_with_eu_status, tree, "COADREAD", "KRAS", "p.Gly12Asp")
    assert resistance.eu_status is None


def test_resistance_in_another_tumour_type_is_no_tier_ii_evidence(kb, tree):
    in_crc, _ = call(kb, tree, "COADREAD", "NRAS", "p.Gln61Lys")
    in_lung, _ = call(kb, tree, "LUAD", "NRAS", "p.Gln61Lys")
    assert in_crc.amp_label == "IA" and "cetuximab" in in_crc.therapies_resistant
    assert in_lung.amp_tier == "III" and not in_lung.evidence


def test_a_lineage_specific_row_is_no_evidence_for_other_tumour_types(kb, tree):
    in_cll, _ = call(kb, tree, "CLLSLL", "TP53", "p.Arg175His")
    in_breast, _ = call(kb, tree, "BRCA", "TP53", "p.Arg175His")
    assert in_cll.amp_label == "IA" and "venetoclax" in in_cll.therapies_sensitive
    assert in_breast.amp_tier == "III" and not in_breast.therapies_other_tumour


@pytest.mark.parametrize("tumour, tier", [("COADREAD", "I"), ("SOFT_TISSUE", "I"), ("AML", "II"), ("DLBCLNOS", "II")])
def test_solid_tumour_agnostic_labels_do_not_cover_haematological_cancers(kb, tree, tumour, tier):
    fusion, _ = call(kb, tree, tumour, "NTRK1", kind="fusion", partner_gene="ETV6", consequence=None)
    assert fusion.amp_tier == tier


@pytest.mark.parametrize("hgvsp, resistant, not_resistant", [
    ("p.Phe317Leu", "dasatinib", "nilotinib"),
    ("p.Glu255Lys", "nilotinib", "dasatinib"),
    ("p.Val299Leu", "bosutinib", "nilotinib"),
])
def test_abl1_kinase_domain_resistance_is_kept_per_inhibitor(kb, tree, hgvsp, resistant, not_resistant):
    result, _ = call(kb, tree, "CML", "ABL1", hgvsp)
    assert result.amp_tier == "I" and resistant in result.therapies_resistant
    assert not_resistant not in result.therapies_resistant
