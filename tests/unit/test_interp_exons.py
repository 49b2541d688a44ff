"""Exon classes: the exon table's CIViC-derived ranges, and 'exon N' records matched by codon range."""

import csv
import re
from pathlib import Path

import pytest

from contracts.variant import Variant
from services.annotate.domain.civic import parse_variant_name
from services.annotate.domain.knowledge import KbRecord, KnowledgeBase, load_builtin
from services.annotate.domain.matching import VariantView, match_specific

REPO = Path(__file__).resolve().parents[2]
VARIANTS = REPO.parent / "shared" / "data" / "civic" / "01-Aug-2021-VariantSummaries.tsv"


def _derive(rows: list[dict], exon_variant_id: str, anchor_name: str) -> tuple[int, int]:
    """Codons of a CIViC exon variant's range, through an SNV of the same gene with g. and c. positions."""
    exon = next(r for r in rows if r["variant_id"] == exon_variant_id)
    anchor = next(r for r in rows if r["gene"] == exon["gene"] and r["variant"] == anchor_name)
    c_pos, c_ref = re.search(r"ENST\d+\.\d+:c\.(\d+)([ACGT])>", anchor["hgvs_expressions"]).groups()
    start, stop, g_pos = int(exon["start"]), int(exon["stop"]), int(anchor["start"])
    assert start <= g_pos <= stop, "the anchor lies inside the exon"
    plus = anchor["reference_bases"] == c_ref
    first, last = ((int(c_pos) - (g_pos - start), int(c_pos) + (stop - g_pos)) if plus
                   else (int(c_pos) - (stop - g_pos), int(c_pos) + (g_pos - start)))
    return max(1, (first + 2) // 3), (last + 2) // 3


def test_every_civic_derived_exon_range_is_derived_again_from_the_release():
    rows = list(csv.DictReader(VARIANTS.open(), delimiter="\t"))
    _, reference = load_builtin()
    derived = [e for e in reference.exons if e.source.startswith("CIViC")]
    assert len(derived) >= 5
    for entry in derived:
        variant_id, anchor = re.search(r"variant (\d+) .* anchored by variant (\S+?)[;,]?(?:\s|$)", entry.source).groups()
        assert _derive(rows, variant_id, anchor) == entry.codons, entry


@pytest.mark.parametrize("name, gene, hgvsp, hit", [
    ("EXON 11 MUTATION", "KIT", "p.Trp557_Lys558del", True),
    ("EXON 11 MUTATION", "KIT", "p.Val560Asp", True),
    ("EXON 11 MUTATION", "KIT", "p.Asp816Val", False),
    ("EXON 11 DELETION", "KIT", "p.Val560Asp", False),
    ("EXON 11 DELETION", "KIT", "p.Trp557_Lys558del", True),
    ("EXON 10 MUTATION", "PIK3CA", "p.Glu545Lys", True),
    ("EXON 2 MUTATION", "KRAS", "p.Gly12Asp", True),
    ("EXON 2 MUTATION", "KRAS", "p.Gln61His", False),
    ("EXON 9 MUTATION", "KIT", "p.Ala502_Tyr503dup", False),  # no KIT exon 9 range in the table: matches nothing
])
def test_a_civic_exon_class_matches_by_the_exon_tables_codons(kb, name, gene, hgvsp, hit):
    record = KbRecord(record_id="civic:T", source="civic", record_type="evidence", gene=gene, alteration=name,
                      match=parse_variant_name(gene, name), tumor_types=["GIST"], significance="sensitivity")
    exon_kb = KnowledgeBase([record], kb.reference)
    variant = Variant(chrom="4", pos=1, ref="A", alt="T", kind="snv", gene=gene, hgvsp=hgvsp)
    assert bool(match_specific(VariantView(variant, "GRCh38"), exon_kb)) is hit
