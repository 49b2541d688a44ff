from services.annotate.domain.protein import (
    is_egfr_exon19_deletion,
    is_egfr_exon20_insertion,
    is_met_exon14_skipping,
    is_truncating,
    normalise_hgvsp,
    parse_protein,
    short_form,
)


def test_three_and_one_letter_forms_normalise_to_the_same_change():
    assert normalise_hgvsp("p.Val600Glu") == normalise_hgvsp("p.V600E") == "V600E"
    assert normalise_hgvsp("NP_004324.2:p.(Val600Glu)") == "V600E"


def test_stop_notations_become_star():
    assert normalise_hgvsp("p.Gln195Ter") == "Q195*"
    assert normalise_hgvsp("Q179X") == "Q179*"
    assert parse_protein("p.Arg213*").kind == "nonsense"


def test_frameshift_short_form_drops_the_new_stop_position():
    assert short_form("p.Leu747SerfsTer3") == "L747fs"
    assert parse_protein("p.(Glu23fs)").kind == "frameshift"


def test_ranges_deletions_insertions_duplications_parse():
    change = parse_protein("p.Glu746_Ala750del")
    assert (change.ref, change.start, change.end, change.kind) == ("E", 746, 750, "deletion")
    assert parse_protein("p.Asp770_Asn771insSerValAsp").alt == "SVD"
    assert parse_protein("Y772_A775DUP").kind == "duplication"
    assert parse_protein("p.Leu747_Pro753delinsSer").kind == "delins"
    assert parse_protein("p.Ter1187GlnextTer?").kind == "extension"
    assert parse_protein("p.?") is None


def test_truncating_by_consequence_or_protein():
    assert is_truncating("stop_gained", None)
    assert is_truncating("splice_acceptor_variant&intron_variant", None)
    assert is_truncating(None, "p.Lys1690fs")
    assert not is_truncating("missense_variant", "p.Arg175His")


def test_egfr_exon19_deletion_is_an_inframe_deletion_within_codons_729_to_761():
    assert is_egfr_exon19_deletion("EGFR", "p.Glu746_Ala750del")
    assert is_egfr_exon19_deletion("EGFR", "p.Leu747_Pro753delinsSer")
    assert not is_egfr_exon19_deletion("EGFR", "p.Leu858Arg")
    assert not is_egfr_exon19_deletion("EGFR", "p.Glu746fs")
    assert not is_egfr_exon19_deletion("ERBB2", "p.Glu746_Ala750del")


def test_egfr_exon20_insertion_within_codons_762_to_823():
    assert is_egfr_exon20_insertion("EGFR", "p.Asp770_Asn771insSVD")
    assert is_egfr_exon20_insertion("EGFR", "p.Ala767_Val769dup")
    assert not is_egfr_exon20_insertion("EGFR", "p.Glu746_Ala750del")


def test_met_exon14_skipping_by_splice_site_cdna_or_grch37_position():
    assert is_met_exon14_skipping("MET", "splice_donor_variant", "NM_000245.2:c.3028+1G>T")
    assert is_met_exon14_skipping("MET", "splice_acceptor_variant", "NM_001127500.3:c.2942-2A>G")
    assert is_met_exon14_skipping("MET", "splice_region_variant&intron_variant", None, "7", 116412045, "GRCh37")
    assert is_met_exon14_skipping("MET", "exon 14 skipping", None)
    assert not is_met_exon14_skipping("MET", "missense_variant", "NM_000245.2:c.3029C>T")
    assert not is_met_exon14_skipping("EGFR", "splice_donor_variant", "NM_000245.2:c.3028+1G>T")
