from pathlib import Path

import pytest

from contracts.variant import Variant
from services.annotate.domain.civic import import_release
from services.annotate.domain.disease_mapping import DiseaseMapping
from services.annotate.domain.knowledge import KbRecord, KnowledgeBase
from services.annotate.domain.matching import VariantView, match_broad, match_specific

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
MAPPING = REPO / "services" / "annotate" / "knowledge" / "civic_disease_to_oncotree.yaml"


@pytest.fixture(scope="module")
def civic_kb() -> KnowledgeBase:
    civic = import_release(DATA / "civic", DiseaseMapping.load(MAPPING))
    return KnowledgeBase.build(civic_records=civic.records, civic_release=civic.release)


def snv(gene=None, hgvsp=None, consequence="missense_variant", chrom="7", pos=1, ref="A", alt="T", **kw) -> Variant:
    return Variant(chrom=chrom, pos=pos, ref=ref, alt=alt, kind=kw.pop("kind", "snv"), gene=gene, hgvsp=hgvsp,
                   consequence=consequence, **kw)


def ids(matches) -> set[str]:
    return {m.record.record_id for m in matches}


def test_protein_matches_in_one_and_three_letter_forms(kb):
    for hgvsp in ("p.Val600Glu", "p.V600E", "NP_004324.2:p.(Val600Glu)"):
        assert "BI-BRAF-V600-MEL" in ids(match_specific(VariantView(snv("BRAF", hgvsp), "GRCh38"), kb))


def test_braf_v600e_matches_by_coordinates_on_both_builds_without_annotation(kb):
    grch38 = snv(chrom="chr7", pos=140753336, ref="A", alt="T")
    grch37 = snv(chrom="7", pos=140453136, ref="A", alt="T")
    assert "BI-BRAF-V600E-NSCLC" in ids(match_specific(VariantView(grch38, "GRCh38"), kb))
    assert "BI-BRAF-V600E-NSCLC" in ids(match_specific(VariantView(grch37, "GRCh37"), kb))
    assert not match_specific(VariantView(grch37, "GRCh38"), kb)


def test_civic_grch37_coordinates_match_egfr_t790m(civic_kb):
    found = match_specific(VariantView(snv(chrom="7", pos=55249071, ref="C", alt="T"), "GRCh37"), civic_kb)
    assert {m.matched_by for m in found} == {"coordinates"}
    assert "civic:EID879" in ids(found) or any(m.record.alteration == "T790M" for m in found)


def test_any_kras_codon_12_change_matches_the_crc_resistance_class(kb):
    found = match_specific(VariantView(snv("KRAS", "p.Gly12Asp"), "GRCh37"), kb)
    assert {"BI-RAS-CRC-RES"} <= ids(found)
    assert next(m for m in found if m.record.record_id == "BI-RAS-CRC-RES").matched_by == "codon"
    assert "BI-KRAS-G12C-NSCLC" not in ids(found)


def test_egfr_exon19_deletion_class_matches_a_real_deletion(kb):
    variant = snv("EGFR", "p.Glu746_Ala750del", "inframe_deletion", pos=55242464, ref="AGGAATTAAGAGAAGC", alt="A", kind="indel")
    assert "BI-EGFR-EX19DEL-NSCLC" in ids(match_specific(VariantView(variant, "GRCh37"), kb))


def test_truncating_brca1_matches_and_missense_does_not(kb):
    truncating = snv("BRCA1", "p.Gln1756ProfsTer74", "frameshift_variant", kind="indel")
    assert "BI-BRCA-LOF-BREAST" in ids(match_specific(VariantView(truncating, "GRCh38"), kb))
    assert not match_specific(VariantView(snv("BRCA1", "p.Arg1699Trp"), "GRCh38"), kb)


def test_amplification_needs_copy_number_at_threshold(kb):
    high = Variant(chrom="17", pos=37856333, ref="N", alt="<DUP>", kind="cnv", gene="ERBB2", copy_number=8)
    low = high.model_copy(update={"copy_number": 3.0})
    assert "BI-ERBB2-AMP-BREAST" in ids(match_specific(VariantView(high, "GRCh37"), kb))
    assert not match_specific(VariantView(low, "GRCh37"), kb)


def test_fusion_from_bnd_record_matches_either_gene(kb):
    bnd = Variant(chrom="2", pos=29446394, ref="N", alt="N[2:42522656[", kind="sv", svtype="BND", gene="EML4",
                  partner_gene="ALK")
    assert "BI-ALK-FUSION-NSCLC" in ids(match_specific(VariantView(bnd, "GRCh37"), kb))
    lone = bnd.model_copy(update={"partner_gene": None})
    assert not match_specific(VariantView(lone, "GRCh37"), kb)


def test_civic_named_fusion_partner_must_agree(civic_kb):
    fusion = Variant(chrom="2", pos=1, ref="N", alt="<BND>", kind="fusion", gene="ALK", partner_gene="EML4")
    alteration = {m.record.alteration for m in match_specific(VariantView(fusion, "GRCh37"), civic_kb)}
    assert "EML4-ALK" in alteration and "NPM-ALK" not in alteration


def test_gene_level_mutation_records_need_an_oncogenic_variant(civic_kb):
    view = VariantView(snv("KRAS", "p.Gly12Asp"), "GRCh37")
    assert match_broad(view, civic_kb, oncogenic=True)
    assert not match_broad(view, civic_kb, oncogenic=False)


@pytest.mark.parametrize("hgvsp, region, hit", [
    ("p.E598_Y599dup", None, True),  # an FLT3 internal tandem duplication as callers report it
    ("p.Asp600_Leu601insPheGluTyrAspLeuLysTrpGluPhe", None, True),
    ("p.D600delinsEFGH", None, True),  # more residues in than out
    ("p.D600delinsE", None, False),
    ("p.D835Y", None, False),
    ("p.E598_Y599dup", (762, 823), False),
    ("p.A767_V769dup", (762, 823), True),
])
def test_inframe_insertions_are_recognised_within_their_region(hgvsp, region, hit):
    from services.annotate.domain.protein import is_inframe_insertion
    assert is_inframe_insertion(hgvsp, region) is hit


def _record(match: dict, kb: KnowledgeBase) -> KnowledgeBase:
    row = KbRecord(record_id="T-1", source="builtin", record_type="biomarker", gene="KIT", alteration="exon 11",
                   match=match, tumor_types=["GIST"], significance="sensitivity")
    return KnowledgeBase([row], kb.reference)


@pytest.mark.parametrize("hgvsp, hit", [
    ("p.Trp557_Lys558del", True),           # the GIST exon 11 deletion
    ("p.Val560Asp", True),                  # missense inside the range
    ("p.Lys550_Lys558delinsAsn", True),     # delins from the first codon
    ("p.Ala502_Tyr503dup", False),          # exon 9, outside
    ("p.Gln556Ter", False),                 # truncating: not an in-frame change
    ("p.Val560=", False),                   # synonymous
    ("p.Pro590_Asp595del", False),          # runs past the last codon
])
def test_codon_range_matches_in_frame_changes_inside_the_exon(hgvsp, hit, kb):
    exon = _record({"kind": "protein", "codon_range": [550, 592]}, kb)
    assert bool(match_specific(VariantView(snv("KIT", hgvsp), "GRCh38"), exon)) is hit


@pytest.mark.parametrize("written, reported, hit", [
    ("A775_G776insYVMA", "p.Tyr772_Ala775dup", True),   # a label's insertion, the caller's duplication
    ("Y772_A775dup", "p.Ala775_Gly776insTyrValMetAla", True),
    ("A775_G776insYVMA", "p.Tyr772_Ala775del", False),
    ("A775_G776insYVMA", "p.Val773_Ala775dup", False),  # shorter duplication
    ("A775_G776insYVMG", "p.Tyr772_Ala775dup", False),  # inserted residues do not end with the duplicated one
])
def test_an_insertion_matches_its_duplication_form(written, reported, hit, kb):
    row = _record({"kind": "protein", "proteins": [written]}, kb)
    assert bool(match_specific(VariantView(snv("KIT", reported, kind="indel"), "GRCh38"), row)) is hit


def test_the_assays_copy_number_thresholds_decide_amplification_and_deletion(kb):
    five = Variant(chrom="17", pos=37856333, ref="N", alt="<DUP>", kind="cnv", gene="ERBB2", copy_number=5)
    assert not match_specific(VariantView(five, "GRCh37"), kb)
    lab_says_four = VariantView(five, "GRCh37", amplification_cn=4)
    assert "BI-ERBB2-AMP-BREAST" in ids(match_specific(lab_says_four, kb)) and lab_says_four.label == "amplification"
    one = Variant(chrom="13", pos=32315474, ref="N", alt="<DEL>", kind="cnv", gene="BRCA2", copy_number=0.8)
    assert "BI-BRCA2-HOMDEL-PROSTATE" not in ids(match_specific(VariantView(one, "GRCh38"), kb))
    assert "BI-BRCA2-HOMDEL-PROSTATE" in ids(match_specific(VariantView(one, "GRCh38", deletion_cn=1.0), kb))
