"""Pick one transcript annotation per ALT allele from Ensembl VEP (CSQ) or SnpEff (ANN) INFO values.

Pure: works on the header Description string and the INFO entries as plain strings. The field list is
always read from the header Description, never assumed, and the annotator is recognised from that
Description, not from the INFO key (bcftools' split-vep.7.vcf stores VEP output under ANN).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple
from urllib.parse import unquote

AnnotationSource = Literal["vep", "snpeff", "oncomine", "pave"]

# Ensembl's consequence order, most severe first, as listed on
# https://www.ensembl.org/info/genome/variation/prediction/predicted_data.html (Ensembl release 110+).
ENSEMBL_SEVERITY: tuple[str, ...] = (
    "transcript_ablation",
    "splice_acceptor_variant",
    "splice_donor_variant",
    "stop_gained",
    "frameshift_variant",
    "stop_lost",
    "start_lost",
    "transcript_amplification",
    "feature_elongation",
    "feature_truncation",
    "inframe_insertion",
    "inframe_deletion",
    "missense_variant",
    "protein_altering_variant",
    "splice_donor_5th_base_variant",
    "splice_region_variant",
    "splice_donor_region_variant",
    "splice_polypyrimidine_tract_variant",
    "incomplete_terminal_codon_variant",
    "start_retained_variant",
    "stop_retained_variant",
    "synonymous_variant",
    "coding_sequence_variant",
    "mature_miRNA_variant",
    "5_prime_UTR_variant",
    "3_prime_UTR_variant",
    "non_coding_transcript_exon_variant",
    "intron_variant",
    "NMD_transcript_variant",
    "non_coding_transcript_variant",
    "coding_transcript_variant",
    "upstream_gene_variant",
    "downstream_gene_variant",
    "TFBS_ablation",
    "TFBS_amplification",
    "TF_binding_site_variant",
    "regulatory_region_ablation",
    "regulatory_region_amplification",
    "regulatory_region_variant",
    "intergenic_variant",
    "sequence_variant",
)

# SnpEff terms that are not in Ensembl's list, ranked like their nearest Ensembl equivalent.
_SNPEFF_EQUIVALENT = {
    "gene_fusion": "transcript_ablation",
    "bidirectional_gene_fusion": "transcript_ablation",
    "chromosome_number_variation": "transcript_ablation",
    "exon_loss_variant": "transcript_ablation",
    "feature_ablation": "transcript_ablation",
    "rearranged_at_DNA_level": "transcript_ablation",
    "duplication": "transcript_amplification",
    "inversion": "transcript_amplification",
    "translocation": "transcript_amplification",
    "feature_fusion": "transcript_amplification",
    "3_prime_UTR_truncation": "feature_truncation",
    "5_prime_UTR_truncation": "feature_truncation",
    "disruptive_inframe_insertion": "inframe_insertion",
    "conservative_inframe_insertion": "inframe_insertion",
    "disruptive_inframe_deletion": "inframe_deletion",
    "conservative_inframe_deletion": "inframe_deletion",
    "rare_amino_acid_variant": "missense_variant",
    "protein_protein_contact": "protein_altering_variant",
    "structural_interaction_variant": "protein_altering_variant",
    "splice_branch_variant": "splice_region_variant",
    "initiator_codon_variant": "start_retained_variant",
    "non_canonical_start_codon": "start_retained_variant",
    "5_prime_UTR_premature_start_codon_gain_variant": "5_prime_UTR_variant",
    "miRNA": "mature_miRNA_variant",
    "non_coding_exon_variant": "non_coding_transcript_exon_variant",
    "conserved_intron_variant": "intron_variant",
    "intragenic_variant": "non_coding_transcript_variant",
    "exon_variant": "coding_transcript_variant",
    "gene_variant": "coding_transcript_variant",
    "transcript_variant": "coding_transcript_variant",
    "conserved_intergenic_variant": "intergenic_variant",
    "intergenic_region": "intergenic_variant",
}

_RANK: dict[str, int] = {term: rank for rank, term in enumerate(ENSEMBL_SEVERITY)}
_RANK.update({term: _RANK[equivalent] for term, equivalent in _SNPEFF_EQUIVALENT.items()})
_UNKNOWN_RANK = len(ENSEMBL_SEVERITY)
FUSION_TERMS = frozenset({"gene_fusion", "bidirectional_gene_fusion"})

# Field-name aliases: VEP spelling first, then SnpEff's.
_ALIASES = {
    "allele": ("Allele",),
    "consequence": ("Consequence", "Annotation"),
    "symbol": ("SYMBOL", "Gene_Name"),
    "gene_id": ("Gene", "Gene_ID"),
    "transcript": ("Feature", "Feature_ID"),
    "hgvsc": ("HGVSc", "HGVS.c"),
    "hgvsp": ("HGVSp", "HGVS.p"),
    "canonical": ("CANONICAL",),
    "mane": ("MANE_SELECT", "MANE"),
    "allele_num": ("ALLELE_NUM",),
}

_VEP_FORMAT = re.compile(r"Format:\s*'?\s*(Allele\s*\|[^'\"]*)")
_SNPEFF_FORMAT = re.compile(r"Functional annotations:\s*'([^']*)'")


@dataclass(frozen=True)
class AnnotationFormat:
    """Where the fields we need sit in one annotation entry, read from the header once."""

    source: AnnotationSource
    fields: tuple[str, ...]
    allele: int
    consequence: int
    symbol: int | None
    gene_id: int | None
    transcript: int | None
    hgvsc: int | None
    hgvsp: int | None
    canonical: int | None
    mane: int | None
    allele_num: int | None
    # Split each entry only this far: the fields we read all come before it.
    maxsplit: int


class Annotation(NamedTuple):
    """The chosen transcript's annotation for one ALT allele."""

    source: AnnotationSource
    gene: str | None
    consequence: str | None
    transcript: str | None
    hgvsc: str | None
    hgvsp: str | None
    partner_gene: str | None = None

    @property
    def is_fusion(self) -> bool:
        """True when the annotator called this a gene fusion (SnpEff gene_fusion and similar terms)."""
        return bool(self.consequence and any(term in FUSION_TERMS for term in self.consequence.split("&")))


def annotation_format(description: str | None) -> AnnotationFormat | None:
    """Recognise VEP ("Format: Allele|...") or SnpEff ("Functional annotations: 'Allele | ...'") field lists."""
    if not description:
        return None
    snpeff = _SNPEFF_FORMAT.search(description)
    if snpeff:
        source: AnnotationSource = "snpeff"
        field_list = snpeff.group(1)
    else:
        vep = _VEP_FORMAT.search(description)
        if not vep:
            return None
        source, field_list = "vep", vep.group(1)
    fields = tuple(name.strip() for name in field_list.strip().strip("\"'").split("|"))
    where = {alias: _index(fields, names) for alias, names in _ALIASES.items()}
    allele, consequence = where["allele"], where["consequence"]
    if allele is None or consequence is None:
        return None
    needed = [index for index in where.values() if index is not None]
    optional = {alias: index for alias, index in where.items() if alias not in ("allele", "consequence")}
    return AnnotationFormat(source=source, fields=fields, maxsplit=max(needed) + 1, allele=allele,
                            consequence=consequence, **optional)


def _index(fields: tuple[str, ...], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in fields:
            return fields.index(name)
    return None


def allele_names(ref: str, alts: Sequence[str], alt: str) -> tuple[str, ...]:
    """The strings an annotator may write for `alt`: as in the VCF (SnpEff) and VEP's form, which drops the
    first base when REF and every ALT share it (an indel's padding base), writing "-" for nothing left."""
    if len(ref) > 1 or any(len(a) != 1 for a in alts):
        first = ref[:1]
        if all(a[:1] == first and not a.startswith("<") for a in alts):
            return (alt, alt[1:] or "-")
    return (alt,)


_severity_cache: dict[str, int] = {}


def severity(consequence: str) -> int:
    """Rank of the most severe term in an '&'-joined consequence (0 is most severe)."""
    rank = _severity_cache.get(consequence)
    if rank is None:
        rank = min((_RANK.get(term, _UNKNOWN_RANK) for term in consequence.split("&")), default=_UNKNOWN_RANK)
        if len(_severity_cache) < 10_000:
            _severity_cache[consequence] = rank
    return rank


def choose_annotation(
    fmt: AnnotationFormat, entries: Sequence[str], ref: str, alts: Sequence[str], alt_index: int
) -> Annotation | None:
    """The entry for ALT number `alt_index` (0-based): canonical/MANE transcripts first, then the most
    severe consequence.

    Entries are matched to the ALT by VEP's ALLELE_NUM when present, else by allele string (see
    allele_names). When no entry names the allele and the record has a single ALT, all are taken as its own.
    """
    single_alt = len(alts) == 1
    if single_alt and (fmt.canonical is not None or fmt.mane is None):
        chosen = _choose_single_alt(fmt, entries)
    else:
        alleles = allele_names(ref, alts, alts[alt_index])
        chosen = _choose_by_allele(fmt, entries, alleles, str(alt_index + 1), single_alt)
    if chosen is None:
        return None
    if isinstance(chosen, list):
        return _annotation(fmt, chosen)
    parts = chosen.split("|", fmt.maxsplit)
    if len(parts) < fmt.maxsplit:
        parts += [""] * (fmt.maxsplit - len(parts))
    return _annotation(fmt, parts)


def _choose_single_alt(fmt: AnnotationFormat, entries: Sequence[str]) -> str | list[str] | None:
    # Hot path, once per record; every entry belongs to the only ALT. Only the consequence is split off each
    # entry; then entries are visited from most to least severe and the first canonical/MANE one wins, so
    # usually one or two entries are searched for "YES" and split fully. (Measured against splitting every
    # entry fully or scanning the joined value: this is the cheapest.)
    consequence_at, canonical_at = fmt.consequence, fmt.canonical
    ranked = []
    for position, entry in enumerate(entries):
        if not entry:  # an empty entry (",," in the INFO value; pysam gives None for it)
            continue
        head = entry.split("|", consequence_at + 1)
        if len(head) <= consequence_at:
            continue
        rank = _severity_cache.get(head[consequence_at])
        if rank is None:
            rank = severity(head[consequence_at])
        ranked.append((rank, position))
    if not ranked:
        return None
    ranked.sort()
    if canonical_at is not None:
        mane_at, need = fmt.mane, fmt.maxsplit
        for _, position in ranked:
            entry = entries[position]
            # CANONICAL is "YES"; a MANE Select value is a RefSeq id ("NM_...").
            if "YES" in entry or (mane_at is not None and "NM_" in entry):
                parts = entry.split("|", need)
                if len(parts) < need:
                    parts += [""] * (need - len(parts))
                if parts[canonical_at] == "YES" or (mane_at is not None and parts[mane_at] != ""):
                    return parts
    return entries[ranked[0][1]]


def _choose_by_allele(
    fmt: AnnotationFormat, entries: Sequence[str], alleles: tuple[str, ...], num: str, single_alt: bool
) -> str | None:
    need = fmt.maxsplit
    best = fallback = None
    best_score = fallback_score = _NOT_PREFERRED * 2
    for entry in entries:
        if not entry:
            continue
        parts = entry.split("|", need)
        if len(parts) < need:
            parts += [""] * (need - len(parts))
        score = severity(parts[fmt.consequence])
        preferred = (fmt.canonical is not None and parts[fmt.canonical] == "YES") or (
            fmt.mane is not None and parts[fmt.mane] != ""
        )
        if not preferred:
            score += _NOT_PREFERRED
        if fmt.allele_num is not None and parts[fmt.allele_num]:
            matches = parts[fmt.allele_num] == num
        else:
            matches = parts[fmt.allele] in alleles
        if matches:
            if score < best_score:
                best, best_score = entry, score
        elif single_alt and score < fallback_score:
            fallback, fallback_score = entry, score
    return best if best is not None else fallback


_NOT_PREFERRED = 1000


def _annotation(fmt: AnnotationFormat, parts: list[str]) -> Annotation:
    # `parts` is padded to fmt.maxsplit, so every known index is valid.
    gene = (parts[fmt.symbol] if fmt.symbol is not None else "") or (
        parts[fmt.gene_id] if fmt.gene_id is not None else ""
    )
    consequence = parts[fmt.consequence]
    partner = None
    if "&" in gene and "fusion" in consequence:
        # SnpEff names both genes of a fusion as "GENE1&GENE2".
        gene, _, partner = gene.partition("&")
        partner = partner.split("&")[0] or None
    hgvsc = parts[fmt.hgvsc] if fmt.hgvsc is not None else ""
    hgvsp = parts[fmt.hgvsp] if fmt.hgvsp is not None else ""
    return Annotation(
        fmt.source,
        gene or None,
        consequence or None,
        (parts[fmt.transcript] if fmt.transcript is not None else "") or None,
        clean_hgvs(hgvsc) if hgvsc else None,
        clean_hgvs(hgvsp) if hgvsp else None,
        partner,
    )


def clean_hgvs(value: str | None) -> str | None:
    """Drop the "ENST...:"/"ENSP...:" reference prefix and undo VEP's URL escaping ("p.Ser60%3D" -> "p.Ser60=")."""
    if not value:
        return None
    if ":" in value and value[1:2] != ".":  # "c.662_663ins[CHR5:180477143[" has no prefix to drop
        value = value.split(":", 1)[1]
    if "%" in value:
        value = value.replace("%3D", "=")
        if "%" in value:
            value = unquote(value)
    return value or None
