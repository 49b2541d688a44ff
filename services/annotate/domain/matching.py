"""Match a sequenced Variant to knowledge-base records: by gene + protein change (1- or 3-letter HGVS p.),
by genomic coordinates (GRCh37 / GRCh38), and by variant class (codon, exon 19 deletion, exon 20 insertion,
MET exon 14 skipping, truncating, amplification, deletion, fusion, oncogenic mutation)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from contracts.variant import Variant
from services.annotate.domain.knowledge import AlterationMatch, KbRecord, KnowledgeBase
from services.annotate.domain.protein import (
    ProteinChange,
    in_codon_range,
    is_egfr_exon19_deletion,
    is_egfr_exon20_insertion,
    is_inframe_deletion_within,
    is_inframe_insertion,
    is_met_exon14_skipping,
    is_truncating,
    parse_protein,
    same_insertion,
    short_form,
)

# Copy-number thresholds (absolute copies) when the lab does not report its assay's own (Assay
# amplification_min_copy_number / deletion_max_copy_number, schema 1.1). Amplification >= 6 copies follows common
# panel practice for focal ERBB2/MET amplification (e.g. FoundationOne CDx reports amplification at CN >= 6 for
# most genes); deep (homozygous) deletion <= 0.5 copies.
DEFAULT_AMP_COPY_NUMBER = 6.0
DEFAULT_DELETION_COPY_NUMBER = 0.5

# Consequences that alter the protein sequence (VEP SO terms); used by the 'oncogenic_mutation' class and TMB.
PROTEIN_ALTERING = frozenset({
    "missense_variant", "stop_gained", "stop_lost", "start_lost", "frameshift_variant", "inframe_insertion",
    "inframe_deletion", "protein_altering_variant", "splice_donor_variant", "splice_acceptor_variant",
})
FUSION_SVTYPES = frozenset({"BND", "TRA", "INV", "DEL", "DUP", "FUSION"})


@dataclass(frozen=True)
class RecordMatch:
    record: KbRecord
    matched_by: str  # 'protein', 'codon', 'codon_range', 'coordinates' or 'class:<kind>'


_T = TypeVar("_T")
_V = TypeVar("_V")


class _computed_once(Generic[_T, _V]):
    """Like functools.cached_property without its per-access lock (Python 3.11 takes one on every
    first access; this runs per variant): the value replaces the descriptor in the instance dict."""

    def __init__(self, compute: Callable[[_T], _V]) -> None:
        self.compute = compute
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type[_T], name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> "_computed_once[_T, _V]": ...
    @overload
    def __get__(self, instance: _T, owner: type[Any] | None = None) -> _V: ...

    def __get__(self, instance: _T | None, owner: type[Any] | None = None) -> "_computed_once[_T, _V] | _V":
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


class VariantView:
    """A Variant with the parsed facts matching needs, computed once."""

    def __init__(self, variant: Variant, build: str, amplification_cn: float | None = None,
                 deletion_cn: float | None = None):
        self.variant = variant
        self.build = build
        self.gene = variant.gene
        self.amplification_cn = DEFAULT_AMP_COPY_NUMBER if amplification_cn is None else amplification_cn
        self.deletion_cn = DEFAULT_DELETION_COPY_NUMBER if deletion_cn is None else deletion_cn

    @_computed_once
    def change(self) -> ProteinChange | None:
        return parse_protein(self.variant.hgvsp)

    @_computed_once
    def protein(self) -> str | None:
        return short_form(self.variant.hgvsp)

    @_computed_once
    def consequences(self) -> set[str]:
        return set((self.variant.consequence or "").replace(",", "&").split("&")) - {""}

    @_computed_once
    def truncating(self) -> bool:
        return self.variant.kind in {"snv", "mnv", "indel"} and is_truncating(self.variant.consequence, self.variant.hgvsp)

    @_computed_once
    def protein_altering(self) -> bool:
        if self.variant.kind not in {"snv", "mnv", "indel"}:
            return False
        if self.consequences & PROTEIN_ALTERING:
            return True
        return self.change is not None and self.change.kind not in {"synonymous"}

    @_computed_once
    def is_fusion(self) -> bool:
        v = self.variant
        return v.kind == "fusion" or (v.kind == "sv" and bool(v.partner_gene) and (v.svtype or "BND").upper() in FUSION_SVTYPES)

    @_computed_once
    def label(self) -> str:
        """Alteration label: protein change, or the class for CNV / fusion records."""
        v = self.variant
        if self.is_fusion:
            return f"{v.partner_gene}::{v.gene} fusion" if v.partner_gene else f"{v.gene} fusion"
        if v.kind == "cnv":
            cn = v.copy_number
            if cn is not None and cn >= self.amplification_cn:
                return "amplification"
            if cn is not None and cn <= self.deletion_cn:
                return "deep deletion"
            return f"copy number {cn:g}" if cn is not None else "copy-number change"
        return self.protein or v.hgvsc or v.key()

    def normalised_locus(self) -> tuple[str, int, str, str]:
        """chrom without 'chr', pos, ref, alt with a shared leading (VCF padding) base removed."""
        v = self.variant
        pos, ref, alt = v.pos, v.ref, v.alt
        if len(ref) != len(alt) and ref and alt and ref[0] == alt[0]:
            pos, ref, alt = pos + 1, ref[1:], alt[1:]
        return v.chrom.removeprefix("chr"), pos, ref, alt


def matches_class(match: AlterationMatch, view: VariantView, oncogenic: bool = False) -> str | None:
    """How this variant satisfies the matcher (None if it does not)."""
    v = view.variant
    kind = match.kind
    if kind == "protein":
        if view.protein and view.protein in match.proteins:
            return "protein"
        change = view.change
        if match.codons and change and change.kind == "missense" and change.start in match.codons:
            return "codon"
        if match.codon_range and in_codon_range(change, *match.codon_range):
            return "codon_range"
        if change and change.kind in {"duplication", "insertion"} \
                and any(same_insertion(change, parse_protein(p)) for p in match.proteins):
            return "protein"
        return None
    if kind == "exon19_inframe_deletion":
        return "class:exon19_inframe_deletion" if is_egfr_exon19_deletion(v.gene, v.hgvsp) else None
    if kind == "exon20_insertion":
        return "class:exon20_insertion" if is_egfr_exon20_insertion(v.gene, v.hgvsp) else None
    if kind == "inframe_insertion":  # codons, when given, are the first and last codon of the region
        region = (match.codons[0], match.codons[-1]) if match.codons else None
        return "class:inframe_insertion" if is_inframe_insertion(v.hgvsp, region) else None
    if kind == "inframe_deletion":  # codons: the first and last codon of the region
        hit = is_inframe_deletion_within(v.hgvsp, (match.codons[0], match.codons[-1]))
        return "class:inframe_deletion" if hit else None
    if kind == "met_exon14_skipping":
        hit = is_met_exon14_skipping(v.gene, v.consequence, v.hgvsc, v.chrom, v.pos, view.build)
        return "class:met_exon14_skipping" if hit else None
    if kind == "truncating":
        return "class:truncating" if view.truncating else None
    if kind == "amplification":
        threshold = match.min_copy_number or view.amplification_cn
        return "class:amplification" if v.kind == "cnv" and (v.copy_number or 0) >= threshold else None
    if kind == "deletion":
        hit = v.kind == "cnv" and v.copy_number is not None and v.copy_number <= view.deletion_cn
        return "class:deletion" if hit else None
    if kind == "fusion":
        if not view.is_fusion:
            return None
        partners = {g for g in (v.gene, v.partner_gene) if g}
        # CIViC names partners loosely ('NPM-ALK' for NPM1::ALK), so a prefix is enough.
        hit = match.partner is None or any(g.startswith(match.partner) for g in partners)
        return "class:fusion" if hit else None
    if kind == "oncogenic_mutation":
        return "class:oncogenic_mutation" if oncogenic and view.protein_altering else None
    return None


def _genes(view: VariantView) -> list[str]:
    genes = [g for g in (view.gene,) if g]
    if view.is_fusion and view.variant.partner_gene:
        genes.append(view.variant.partner_gene)
    return genes


def match_specific(view: VariantView, kb: KnowledgeBase) -> list[RecordMatch]:
    """Records matched by protein, codon, coordinates or a named class (everything but 'oncogenic_mutation')."""
    found: dict[str, RecordMatch] = {}
    for gene in _genes(view):
        for record in kb.by_gene.get(gene, ()):
            if record.match.kind in {"oncogenic_mutation", "unsupported"}:
                continue
            if gene != view.gene and record.match.kind != "fusion":
                continue  # the partner gene of a fusion only matches fusion records
            how = matches_class(record.match, view)
            if how:
                found.setdefault(record.record_id, RecordMatch(record, how))
    if view.variant.kind in {"snv", "mnv", "indel"}:
        chrom, pos, ref, alt = view.normalised_locus()
        for record in kb.by_locus.get((view.build, chrom, pos), ()):
            if any(lc.build == view.build and lc.pos == pos and lc.ref == ref and lc.alt == alt for lc in record.loci):
                found.setdefault(record.record_id, RecordMatch(record, "coordinates"))
    return list(found.values())


def match_broad(view: VariantView, kb: KnowledgeBase, oncogenic: bool) -> list[RecordMatch]:
    """Gene-level 'mutation' records; they apply only to variants already called (likely) oncogenic."""
    if not oncogenic or not view.gene:
        return []
    out = []
    for record in kb.by_gene.get(view.gene, ()):
        if record.match.kind == "oncogenic_mutation" and matches_class(record.match, view, oncogenic=True):
            out.append(RecordMatch(record, "class:oncogenic_mutation"))
    return out
