"""VEP CSQ / SnpEff ANN parsing and transcript choice (pure functions, header strings from real files)."""

from pathlib import Path

import pytest

from services.ingest.domain import annotation as ann


def _info_description(path: Path, key: str) -> str:
    for line in path.read_text().splitlines():
        if line.startswith(f"##INFO=<ID={key},"):
            return line
    raise AssertionError(f"no ##INFO={key} in {path}")


def _info_value(data_line: str, key: str) -> list[str]:
    info = data_line.split()[7]
    for item in info.split(";"):
        if item.startswith(f"{key}="):
            return item[len(key) + 1:].split(",")
    raise AssertionError(f"no {key} in {data_line[:80]}")


def _first_record(path: Path) -> str:
    return next(line for line in path.read_text().splitlines() if line and not line.startswith("#"))


def test_vep_format_is_read_from_the_header(shared_data):
    fmt = ann.annotation_format(_info_description(shared_data / "bcftools/split-vep.5.vcf", "CSQ"))
    assert fmt is not None and fmt.source == "vep"
    assert fmt.fields[:4] == ("Allele", "Consequence", "IMPACT", "SYMBOL")
    assert fmt.fields[fmt.hgvsp] == "HGVSp" and fmt.fields[fmt.canonical] == "CANONICAL"
    assert fmt.allele_num == fmt.fields.index("ALLELE_NUM")


def test_field_positions_follow_each_header_not_a_fixed_list(shared_data):
    five = ann.annotation_format(_info_description(shared_data / "bcftools/split-vep.5.vcf", "CSQ"))
    six = ann.annotation_format(_info_description(shared_data / "bcftools/split-vep.6.vcf", "CSQ"))
    assert five.fields != six.fields
    assert six.mane is not None and five.mane is None
    assert six.allele_num is None


def test_vep_output_under_key_ann_is_recognised_as_vep(shared_data):
    fmt = ann.annotation_format(_info_description(shared_data / "bcftools/split-vep.7.vcf", "ANN"))
    assert fmt is not None and fmt.source == "vep"


def test_snpeff_ann_format_is_recognised(shared_data):
    fmt = ann.annotation_format(_info_description(shared_data / "nf-core-test-datasets/GRIAFFLKY_snpeff.vcf", "ANN"))
    assert fmt is not None and fmt.source == "snpeff"
    assert fmt.fields[fmt.consequence] == "Annotation"
    assert fmt.fields[fmt.hgvsc] == "HGVS.c" and fmt.fields[fmt.transcript] == "Feature_ID"


def test_descriptions_without_a_field_list_are_not_annotations(shared_data):
    lof = _info_description(shared_data / "nf-core-test-datasets/GRIAFFLKY_snpeff.vcf", "LOF")
    assert ann.annotation_format(lof) is None
    assert ann.annotation_format("Allele frequency") is None
    assert ann.annotation_format(None) is None


def test_snpeff_ann_string_from_griafflky_gives_sytl4_missense(shared_data):
    """The file itself is rejected (no ##fileformat); its real SnpEff 4.1 ANN string still parses."""
    path = shared_data / "nf-core-test-datasets/GRIAFFLKY_snpeff.vcf"
    fmt = ann.annotation_format(_info_description(path, "ANN"))
    entries = _info_value(_first_record(path), "ANN")
    assert len(entries) == 4
    chosen = ann.choose_annotation(fmt, entries, "G", ("A",), 0)
    assert chosen == ann.Annotation(
        source="snpeff",
        gene="SYTL4",
        consequence="missense_variant",
        transcript="ENST00000263033",  # first of the equally severe missense entries
        hgvsc="c.1088C>T",
        hgvsp="p.Ser363Phe",
    )


def test_vep_hgvsp_loses_its_protein_prefix_and_url_escapes(shared_data):
    path = shared_data / "bcftools/split-vep.5.vcf"
    fmt = ann.annotation_format(_info_description(path, "CSQ"))
    chosen = ann.choose_annotation(fmt, _info_value(_first_record(path), "CSQ"), "A", ("G",), 0)
    assert (chosen.gene, chosen.consequence, chosen.transcript) == ("OR4F5", "synonymous_variant", "ENST00000335137")
    assert chosen.hgvsc == "c.180A>G"
    assert chosen.hgvsp == "p.Ser60="  # ENSP00000334393.3:p.Ser60%3D


def test_canonical_transcript_wins_over_a_more_severe_non_canonical_one(shared_data):
    fmt = ann.annotation_format(_info_description(shared_data / "bcftools/split-vep.6.vcf", "CSQ"))
    width = len(fmt.fields)

    def entry(consequence: str, feature: str, canonical: str) -> str:
        fields = [""] * width
        fields[fmt.allele], fields[fmt.consequence], fields[fmt.symbol] = "C", consequence, "GENE"
        fields[fmt.transcript], fields[fmt.canonical] = feature, canonical
        return "|".join(fields)

    entries = [entry("stop_gained", "ENST1", ""), entry("missense_variant", "ENST2", "YES"),
               entry("intron_variant", "ENST3", "YES")]
    assert ann.choose_annotation(fmt, entries, "T", ("C",), 0).transcript == "ENST2"
    # Without any canonical entry the most severe consequence wins.
    plain = [e.replace("|YES|", "||") for e in entries]
    assert ann.choose_annotation(fmt, plain, "T", ("C",), 0).transcript == "ENST1"
    # An empty entry (",," in the VCF; pysam reads it as None) is skipped, not an error.
    assert ann.choose_annotation(fmt, [entries[0], None, entries[1]], "T", ("C",), 0).transcript == "ENST2"
    assert ann.choose_annotation(fmt, [entries[0], ""], "T", ("C",), 0).transcript == "ENST1"


def test_fast_and_allele_matching_paths_choose_the_same_entry(shared_data):
    path = shared_data / "bcftools/split-vep.6.vcf"
    fmt = ann.annotation_format(_info_description(path, "CSQ"))
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            continue
        columns = line.split("\t")
        entries = _info_value(line, "CSQ")
        fast = ann.choose_annotation(fmt, entries, columns[3], (columns[4],), 0)
        slow = ann._annotation(fmt, _pad(ann._choose_by_allele(fmt, entries, (columns[4],), "1", True), fmt))
        assert fast == slow


def _pad(entry: str, fmt: ann.AnnotationFormat) -> list[str]:
    parts = entry.split("|", fmt.maxsplit)
    return parts + [""] * (fmt.maxsplit - len(parts))


def test_multiallelic_entries_are_matched_by_allele_num(shared_data):
    fmt = ann.annotation_format(_info_description(shared_data / "bcftools/split-vep.5.vcf", "CSQ"))
    width = len(fmt.fields)

    def entry(allele: str, number: str, consequence: str, gene: str) -> str:
        fields = [""] * width
        fields[fmt.allele], fields[fmt.allele_num], fields[fmt.consequence], fields[fmt.symbol] = (
            allele, number, consequence, gene)
        return "|".join(fields)

    entries = [entry("A", "1", "stop_gained", "FIRST"), entry("-", "2", "frameshift_variant", "SECOND")]
    assert ann.choose_annotation(fmt, entries, "CT", ("CA", "C"), 0).gene == "FIRST"
    assert ann.choose_annotation(fmt, entries, "CT", ("CA", "C"), 1).gene == "SECOND"


def test_vep_allele_names_drop_the_shared_padding_base():
    assert ann.allele_names("ACAATT", ("A",), "A") == ("A", "-")
    assert ann.allele_names("G", ("GC",), "GC") == ("GC", "C")
    assert ann.allele_names("C", ("T",), "T") == ("T",)
    assert ann.allele_names("CT", ("GT", "C"), "GT") == ("GT",)  # C and G differ: nothing is dropped


def test_severity_follows_ensembl_order_with_snpeff_terms():
    assert ann.severity("stop_gained") < ann.severity("missense_variant") < ann.severity("synonymous_variant")
    assert ann.severity("intron_variant&non_coding_transcript_variant") == ann.severity("intron_variant")
    assert ann.severity("splice_region_variant&intron_variant") == ann.severity("splice_region_variant")
    assert ann.severity("disruptive_inframe_deletion") == ann.severity("inframe_deletion")
    assert ann.severity("gene_fusion") == ann.severity("transcript_ablation")
    assert ann.severity("made_up_term") > ann.severity("intergenic_variant")


def test_snpeff_gene_fusion_names_the_partner_gene():
    fmt = ann.annotation_format(
        "Functional annotations: 'Allele | Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | "
        "Feature_ID | Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length | CDS.pos / CDS.length "
        "| AA.pos / AA.length | Distance | ERRORS / WARNINGS / INFO'"
    )
    entry = "]chr2:42522656]N|gene_fusion|HIGH|EML4&ALK|ENSG1&ENSG2|gene_variant|ENSG1|||||||||"
    chosen = ann.choose_annotation(fmt, [entry], "N", ("]chr2:42522656]N",), 0)
    assert (chosen.gene, chosen.partner_gene, chosen.is_fusion) == ("EML4", "ALK", True)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("ENSP00000334393.3:p.Ser60%3D", "p.Ser60="),
        ("ENST00000341290.6:c.1192A>G", "c.1192A>G"),
        ("p.Ser363Phe", "p.Ser363Phe"),
        ("c.662_663ins[CHR5:180477143[", "c.662_663ins[CHR5:180477143["),
        ("", None),
        (None, None),
    ],
)
def test_clean_hgvs(raw, clean):
    assert ann.clean_hgvs(raw) == clean
