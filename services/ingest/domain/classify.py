"""Variant kind, allele validity, breakend mates and genome-build checks. Pure: plain strings and dicts in."""

import re
from collections.abc import Iterable, Mapping

from contracts.reasons import RejectionCode

_BASES = frozenset("ACGTN")
# ALT alleles that mean "no variant here": gVCF reference blocks, spanning deletions, missing.
NON_VARIANT_ALTS = frozenset({".", "<NON_REF>", "<*>", "*", "<X>"})
CNV_SYMBOLS = frozenset({"<CNV>", "<AMP>", "<GAIN>", "<LOSS>", "<CN0>"})
# A breakend ALT: t[p[, t]p], ]p]t, [p[t. The mate chromosome may itself contain ':' (HLA, "1:1").
_BREAKEND = re.compile(r"[\[\]](?P<chrom>.+):(?P<pos>\d+)[\[\]]")


def is_symbolic(alt: str) -> bool:
    """True for <...> alleles and breakends (mated or single)."""
    return alt.startswith("<") or "[" in alt or "]" in alt or (len(alt) > 1 and (alt[0] == "." or alt[-1] == "."))


def invalid_allele(ref: str, alt: str) -> str | None:
    """Why REF/ALT are not acceptable (a sentence), or None. Symbolic ALTs are checked for shape only."""
    if not ref or not set(ref.upper()) <= _BASES:
        return f"REF {ref!r} contains characters other than A, C, G, T, N"
    if is_symbolic(alt):
        if alt.startswith("<") and not alt.endswith(">"):
            return f"ALT {alt!r} is neither a base sequence nor a well-formed symbolic allele"
        return None
    if not set(alt.upper()) <= _BASES:
        return f"ALT {alt!r} contains characters other than A, C, G, T, N"
    return None


def small_variant_kind(ref: str, alt: str) -> str:
    """snv, mnv or indel for a sequence (non-symbolic) ALT."""
    if len(ref) == len(alt):
        return "snv" if len(ref) == 1 else "mnv"
    return "indel"


def parse_breakend(alt: str) -> tuple[str, int] | None:
    """Mate (chrom, 1-based pos) of a mated breakend ALT such as ']15:80623247]C'; None otherwise."""
    if "[" not in alt and "]" not in alt:
        return None
    match = _BREAKEND.search(alt)
    if match is None:
        return None
    return match.group("chrom"), int(match.group("pos"))


def symbolic_kind(alt: str, svtype: str | None, cnv_evidence: bool, fusion: bool) -> str:
    """cnv, sv or fusion for a symbolic/breakend ALT.

    cnv_evidence: the record comes from a copy-number caller (FORMAT CN without split/paired-read support,
    INFO FOLD_CHANGE/log2, ...). fusion: an annotator or the caller named two partner genes.
    """
    alt_upper = alt.upper()
    svtype_upper = (svtype or "").upper()
    if fusion:
        return "fusion"
    if "[" in alt or "]" in alt or svtype_upper == "BND":
        return "sv"
    if alt_upper in CNV_SYMBOLS or svtype_upper == "CNV" or alt_upper.startswith("<CN"):
        return "cnv"
    if cnv_evidence and (alt_upper.startswith("<DEL") or alt_upper.startswith("<DUP")):
        return "cnv"
    return "sv"


def fusion_partners(gene: str | None, partner: str | None) -> tuple[str, str] | None:
    """Two distinct genes from caller INFO (GENE + PARTNER, or one 'A--B' / 'A::B' / 'A&B' value)."""
    if gene and not partner:
        for separator in ("::", "--", "&"):
            if separator in gene:
                first, _, second = gene.partition(separator)
                gene, partner = first, second
                break
    if gene and partner and gene != partner:
        return gene, partner
    return None


def simple_ann_fusion(values: Iterable[str]) -> tuple[str, str] | None:
    """Partner genes from SnpEff's SIMPLE_ANN 'BND|FUSION|GENE1-GENE2|...' when the two genes differ."""
    for value in values:
        parts = value.split("|")
        if len(parts) >= 3 and parts[1].upper() == "FUSION":
            genes = parts[2].split("-")
            if len(genes) == 2 and all(genes) and genes[0] != genes[1]:
                return genes[0], genes[1]
    return None


# Chromosome lengths (bp) of the primary assemblies, from UCSC chromInfo (hg19.chromInfo, hg38.chromInfo),
# which mirror the GRC's GRCh37.p13 and GRCh38 assembly reports (https://www.ncbi.nlm.nih.gov/grc/human).
# chrM: hg19's chrM is the 16,571 bp Yoruba sequence; b37/GRCh37 "MT" and GRCh38 use rCRS (16,569 bp), so
# 16,569 says nothing about the build and is listed for neither.
GRCH37_LENGTHS: dict[str, int] = {
    "1": 249250621, "2": 243199373, "3": 198022430, "4": 191154276, "5": 180915260, "6": 171115067,
    "7": 159138663, "8": 146364022, "9": 141213431, "10": 135534747, "11": 135006516, "12": 133851895,
    "13": 115169878, "14": 107349540, "15": 102531392, "16": 90354753, "17": 81195210, "18": 78077248,
    "19": 59128983, "20": 63025520, "21": 48129895, "22": 51304566, "X": 155270560, "Y": 59373566,
    "M": 16571,
}
GRCH38_LENGTHS: dict[str, int] = {
    "1": 248956422, "2": 242193529, "3": 198295559, "4": 190214555, "5": 181538259, "6": 170805979,
    "7": 159345973, "8": 145138636, "9": 138394717, "10": 133797422, "11": 135086622, "12": 133275309,
    "13": 114364328, "14": 107043718, "15": 101991189, "16": 90338345, "17": 83257441, "18": 80373285,
    "19": 58617616, "20": 64444167, "21": 46709983, "22": 50818468, "X": 156040895, "Y": 57227415,
}
BUILD_LENGTHS = {"GRCh37": GRCH37_LENGTHS, "GRCh38": GRCH38_LENGTHS}
_SHARED_MT_LENGTH = 16569

_BUILD_WORDS = {
    "GRCh37": re.compile(r"(?<![a-z0-9])(hg19|grch37|b37|hs37d5|hs37|human_g1k_v37|ncbi37)(?![0-9])", re.I),
    "GRCh38": re.compile(r"(?<![a-z0-9])(hg38|grch38|b38|hs38|hs38dh|gca_000001405\.15)(?![0-9])", re.I),
}
_BUILD_LINE_KEYS = ("##reference=", "##assembly=")


def chromosome_name(contig: str) -> str | None:
    """'chr1'/'1' -> '1', 'chrX' -> 'X', 'chrM'/'MT' -> 'M'; None for alt, decoy, HLA and other contigs."""
    name = contig[3:] if contig[:3].lower() == "chr" else contig
    name = name.upper()
    if name == "MT":
        name = "M"
    if name in GRCH37_LENGTHS:
        return name
    return None


def check_build(
    header_contigs: Mapping[str, int | None], header_lines: Iterable[str], declared_build: str
) -> tuple[RejectionCode, str] | None:
    """None when the header agrees with `declared_build`, else (GENOME_BUILD_MISMATCH or CONTIG_MISMATCH, why).

    Contig lengths are the strongest evidence: a primary chromosome whose length is the other build's is a
    build mismatch, one matching neither build is a contig mismatch. ##reference/##assembly lines naming the
    other build count only when no contig length confirms the declared one. Unknown contigs are ignored.
    """
    if declared_build not in BUILD_LENGTHS:
        return None
    other_build = "GRCh38" if declared_build == "GRCh37" else "GRCh37"
    expected, other = BUILD_LENGTHS[declared_build], BUILD_LENGTHS[other_build]
    confirmed = False
    for contig, length in header_contigs.items():
        chromosome = chromosome_name(contig)
        if chromosome is None or length is None or length == _SHARED_MT_LENGTH and chromosome == "M":
            continue
        if expected.get(chromosome) == length:
            confirmed = True
        elif other.get(chromosome) == length:
            return RejectionCode.GENOME_BUILD_MISMATCH, (
                f"contig {contig} has length {length}, which is {other_build}'s; "
                f"assay.genome_build says {declared_build}"
            )
        else:
            return RejectionCode.CONTIG_MISMATCH, (
                f"contig {contig} has length {length}, which is neither GRCh37 nor GRCh38 "
                f"({declared_build} expects {expected.get(chromosome)})"
            )
    if confirmed:
        return None
    for line in header_lines:
        if line.startswith(_BUILD_LINE_KEYS) and _BUILD_WORDS[other_build].search(line):
            if not _BUILD_WORDS[declared_build].search(line):
                return RejectionCode.GENOME_BUILD_MISMATCH, (
                    f"header line {line.strip()[:200]!r} names {other_build}; assay.genome_build says {declared_build}"
                )
    return None
