"""Truth sets for `oncorelay evaluate`: the TSV format, every alteration form, and rows that cannot be evaluated."""

import pytest

from services.annotate.domain.truthset import TruthFileError, build_input, read_truth

HEADER = "id\tgene\talteration\tpartner\ttumor_type\texpected_tier\texpected_level\tsource\n"
KNOWN = {"LUAD", "MEL", "COADREAD", "BRCA"}.__contains__


def _read(body: str, header: str = HEADER):
    return read_truth(header + body, KNOWN)


def test_rows_are_read_in_any_column_order_with_comments_blank_lines_and_extra_columns():
    text = ("# a comment\n\nsource\tnote\texpected_level\texpected_tier\ttumor_type\tpartner\talteration\tgene\tid\n"
            "FDA label\tx\ta\tTier I\tluad\t\tp.Leu858Arg\tegfr\tr1\n")
    [row], unevaluable = read_truth(text, KNOWN)
    assert unevaluable == []
    assert (row.line, row.id, row.gene, row.alteration, row.tumor_type, row.expected_tier, row.expected_level) == (
        4, "r1", "EGFR", "p.Leu858Arg", "LUAD", "I", "A")


def test_a_header_without_a_required_column_names_its_line_and_the_columns():
    with pytest.raises(TruthFileError, match=r"line 2: the header lacks the column\(s\) partner, expected_level"):
        read_truth("# x\nid\tgene\talteration\ttumor_type\texpected_tier\tsource\n", KNOWN)
    with pytest.raises(TruthFileError, match="no header row"):
        read_truth("# only a comment\n\n", KNOWN)


@pytest.mark.parametrize("body, reason", [
    ("r\tBRAF\tV600E\t\tXYZ\tI\tA\ts\n", "tumor_type 'XYZ' is not an OncoTree code"),
    ("r\tBRAF\tV600E\t\t\tI\tA\ts\n", "tumor_type is empty"),
    ("r\tBRAF\tV600\t\tMEL\tI\tA\ts\n", "neither an HGVS protein change"),
    ("r\tBRAF\tV600E\t\tMEL\tV\tA\ts\n", "expected_tier 'V' is not I, II, III or IV"),
    ("r\tBRAF\tV600E\t\tMEL\tI\tE\ts\n", "expected_level 'E' is not A, B, C, D or empty"),
    ("r\t\tV600E\t\tMEL\tI\tA\ts\n", "gene is empty"),
    ("r\tBRAF\t\t\tMEL\tI\tA\ts\n", "alteration is empty"),
    ("\tBRAF\tV600E\t\tMEL\tI\tA\ts\n", "the id is empty"),
    ("r\tKRAS\texon19_deletion\t\tLUAD\tI\tA\ts\n", "exon19_deletion is represented for EGFR only, not KRAS"),
    ("r\tBRAF\tV600E\t\tMEL\tI\tA\ts\textra\n", "9 tab-separated fields, the header has 8"),
])
def test_a_row_that_cannot_be_evaluated_is_kept_with_its_line_and_reason(body, reason):
    rows, [unevaluable] = _read("ok\tBRAF\tV600E\t\tMEL\tI\tA\ts\n" + body)
    assert [r.id for r in rows] == ["ok"]
    assert unevaluable.line == 3 and reason in unevaluable.reason


def test_a_level_may_be_written_with_the_tier():
    rows, unevaluable = _read("a\tBRAF\tV600E\t\tMEL\tIA\t\ts\nb\tBRAF\tV600E\t\tMEL\tTier IIC\tC\ts\n"
                              "c\tBRAF\tV600E\t\tMEL\tIB\tA\ts\n")
    assert [(r.expected_tier, r.expected_level) for r in rows] == [("I", "A"), ("II", "C")]
    assert unevaluable[0].line == 4 and "disagree" in unevaluable[0].reason


def test_short_rows_are_padded_and_crlf_lines_read():
    [row], _ = read_truth(HEADER.replace("\n", "\r\n") + "r\tBRAF\tV600E\t\tMEL\tii\r\n", KNOWN)
    assert (row.expected_tier, row.expected_level, row.source) == ("II", None, "")


@pytest.mark.parametrize("gene, alteration, partner, expected", [
    ("BRAF", "V600E", "", ("snv", "p.V600E", "missense_variant")),
    ("BRAF", "p.Val600Glu", "", ("snv", "p.Val600Glu", "missense_variant")),
    ("TP53", "R273*", "", ("snv", "p.R273*", "stop_gained")),
    ("EGFR", "E746_A750del", "", ("indel", "p.E746_A750del", "inframe_deletion")),
    ("EGFR", "exon20_insertion", "", ("indel", "p.D770_N771insSVD", "inframe_insertion")),
    ("ERBB2", "exon20_insertion", "", ("indel", "p.Y772_A775dup", "inframe_insertion")),
    ("MET", "exon14_skipping", "", ("snv", None, "splice_donor_variant")),
    ("BRCA2", "truncating", "", ("indel", None, "frameshift_variant")),
    ("ERBB2", "Amplification", "", ("cnv", None, None)),
    ("CDKN2A", "deletion", "", ("cnv", None, None)),
])
def test_every_alteration_form_becomes_a_variant(gene, alteration, partner, expected):
    variant = build_input(gene, alteration, partner).variant
    assert (variant.kind, variant.hgvsp, variant.consequence) == expected
    assert variant.gene == gene


def test_fusions_name_the_partner_or_any_and_signatures_are_result_level():
    assert build_input("ALK", "fusion", "EML4").variant.partner_gene == "EML4"
    assert build_input("NTRK1", "fusion").variant.partner_gene is None
    assert build_input("", "MSI-H").signature == "MSI-H" and build_input("", "MSI-H").variants() == []
    tmb = build_input("", "tmb-h")
    assert tmb.signature == "TMB-H" and len(tmb.variants()) >= 10  # ≥ 10 mut/Mb on the 1 Mb panel evaluated
