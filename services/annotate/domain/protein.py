"""HGVS protein (p.) notation: normalisation, parsing and variant-class helpers.

Coordinates here are amino-acid positions on the canonical transcript the lab annotated with.
EGFR residues follow NM_005228 / NP_005219; MET exon 14 follows NM_000245 (and NM_001127500).
"""

import re
from dataclasses import dataclass
from functools import lru_cache

# Parsed protein changes are looked up several times per variant (view, oncogenicity, matching):
# results are immutable, so recent ones are cached.
PARSE_CACHE_SIZE = 16384

AA3_TO_1 = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E", "Gly": "G",
    "His": "H", "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F", "Pro": "P", "Ser": "S",
    "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V", "Sec": "U", "Pyl": "O", "Ter": "*", "Xaa": "X",
}
_AA3 = re.compile("|".join(AA3_TO_1))
_AA1 = "ACDEFGHIKLMNPQRSTVWYUO*"

# SO consequence terms that truncate the protein (Ensembl VEP "HIGH" impact loss-of-function terms).
TRUNCATING_CONSEQUENCES = frozenset({
    "stop_gained", "frameshift_variant", "splice_donor_variant", "splice_acceptor_variant",
    "transcript_ablation", "start_lost",
})

# EGFR exon 19 = c.2185_2283 of NM_005228.4 = codons 729-761 (CIViC variant 133, GRCh37 7:55242415-55242513).
EGFR_EXON19 = (729, 761)
# EGFR exon 20 = codons 762-823 (Yasuda et al., Lancet Oncol 2012, "EGFR exon 20 insertion mutations in NSCLC").
EGFR_EXON20 = (762, 823)
# MET exon 14 = c.2888_3028 of NM_000245 (c.2942_3082 of NM_001127500); GRCh37 7:116411903-116412043 (CIViC variant 324).
MET_EX14_CDNA = {"NM_000245": (2888, 3028), "NM_001127500": (2942, 3082)}
MET_EX14_GRCH37 = ("7", 116411903, 116412043)
# Splice-region window around exon 14 boundaries in which variants are taken as skipping candidates.
MET_EX14_SPLICE_WINDOW = 25


@dataclass(frozen=True)
class ProteinChange:
    """A parsed p. change. kind: missense, nonsense, synonymous, frameshift, deletion, insertion,
    delins, duplication, extension, start_lost or unknown. end is None for single-residue changes."""

    ref: str
    start: int
    kind: str
    alt: str = ""
    end: int | None = None
    end_ref: str = ""

    @property
    def last(self) -> int:
        return self.end if self.end is not None else self.start


def _to_one_letter(text: str) -> str:
    return _AA3.sub(lambda m: AA3_TO_1[m.group(0)], text)


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def normalise_hgvsp(hgvsp: str | None) -> str | None:
    """'NP_004324.2:p.(Val600Glu)' or 'p.V600E' -> 'V600E'; Ter/X -> '*'; None if empty or 'p.?'."""
    if not hgvsp:
        return None
    text = hgvsp.strip().split(":")[-1]
    if text.startswith("p."):
        text = text[2:]
    text = text.strip("()")
    text = _to_one_letter(text)
    text = re.sub(r"(?<=[\dA-Z])(DELINS|DEL|DUP|INS|FS|EXT)", lambda m: m.group(0).lower(), text)
    text = re.sub(r"(?<=\d)X$", "*", text)  # legacy nonsense notation, e.g. Q179X
    text = re.sub(r"(?<=\d)X(?=fs|$)", "*", text)
    if not text or text in {"?", "=", "0"}:
        return None
    return text


_RANGE = re.compile(r"^([A-Z*])(\d+)(?:_([A-Z*])(\d+))?(del|dup|ins|delins)([A-Z*]*)$")
_FS = re.compile(r"^([A-Z*])(\d+)([A-Z*]?)fs(?:\*|Ter)?(\d+|\?)?$")
_EXT = re.compile(r"^([A-Z*])(\d+)([A-Z*]?)ext")


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse_protein(hgvsp: str | None) -> ProteinChange | None:
    """Parse a p. change (1- or 3-letter) into a ProteinChange, or None when it is not parseable."""
    text = normalise_hgvsp(hgvsp)
    if not text:
        return None
    if m := _FS.match(text):
        return ProteinChange(m.group(1), int(m.group(2)), "frameshift", m.group(3))
    if m := _EXT.match(text):
        return ProteinChange(m.group(1), int(m.group(2)), "extension", m.group(3))
    if m := _RANGE.match(text):
        ref, start, end_ref, end, op, alt = m.groups()
        return ProteinChange(ref, int(start), {"del": "deletion", "dup": "duplication", "ins": "insertion",
                                               "delins": "delins"}[op], alt, int(end) if end else None, end_ref or "")
    if m := re.match(r"^([A-Z*])(\d+)([A-Z*=])$", text):
        ref, pos, alt = m.group(1), int(m.group(2)), m.group(3)
        if alt == "=" or alt == ref:
            kind = "synonymous"
        elif alt == "*":
            kind = "nonsense"
        elif ref == "M" and pos == 1:
            kind = "start_lost"
        else:
            kind = "missense"
        return ProteinChange(ref, pos, kind, ref if alt == "=" else alt)
    return None


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def short_form(hgvsp: str | None) -> str | None:
    """Canonical 1-letter label for display and matching, e.g. 'V600E', 'E746_A750del', 'L747fs'."""
    change = parse_protein(hgvsp)
    if change is None:
        return normalise_hgvsp(hgvsp)
    if change.kind == "frameshift":
        return f"{change.ref}{change.start}fs"
    return normalise_hgvsp(hgvsp)


def is_truncating(consequence: str | None, hgvsp: str | None) -> bool:
    """True for nonsense, frameshift, canonical splice-site and start-loss changes (VEP HIGH-impact LoF terms)."""
    terms = set((consequence or "").replace(",", "&").split("&"))
    if terms & TRUNCATING_CONSEQUENCES:
        return True
    change = parse_protein(hgvsp)
    return change is not None and change.kind in {"nonsense", "frameshift", "start_lost"}


def is_inframe_deletion(change: ProteinChange) -> bool:
    return change.kind in {"deletion", "delins"} and (change.kind == "deletion" or len(change.alt) < change.last - change.start + 1)


def is_inframe_deletion_within(hgvsp: str | None, codons: tuple[int, int]) -> bool:
    """An in-frame deletion or deletion-type delins (fewer residues in than out) wholly within the codons."""
    change = parse_protein(hgvsp)
    return change is not None and is_inframe_deletion(change) and codons[0] <= change.start and change.last <= codons[1]


def is_egfr_exon19_deletion(gene: str | None, hgvsp: str | None) -> bool:
    """EGFR in-frame deletion (or deletion-insertion) wholly within exon 19 (codons 729-761)."""
    return gene == "EGFR" and is_inframe_deletion_within(hgvsp, EGFR_EXON19)


def is_inframe_insertion(hgvsp: str | None, codons: tuple[int, int] | None = None) -> bool:
    """An in-frame insertion, duplication or insertion-type delins (more residues in than out), within the
    codon range when one is given (an internal tandem duplication is reported as one of these)."""
    change = parse_protein(hgvsp)
    if change is None or change.kind not in {"insertion", "duplication", "delins"}:
        return False
    if change.kind == "delins" and len(change.alt) <= change.last - change.start + 1:
        return False
    return codons is None or (codons[0] <= change.start and change.last <= codons[1])


INFRAME_KINDS = frozenset({"missense", "deletion", "insertion", "duplication", "delins"})


def in_codon_range(change: ProteinChange | None, first: int, last: int) -> bool:
    """A missense or in-frame change (deletion, insertion, duplication, delins) wholly within the codons."""
    return change is not None and change.kind in INFRAME_KINDS and first <= change.start and change.last <= last


def same_insertion(a: ProteinChange | None, b: ProteinChange | None) -> bool:
    """Whether a duplication and an insertion name the same in-frame insertion, as labels and callers write it
    either way: p.Y772_A775dup is p.A775_G776insYVMA (the residues Y772..A775 inserted again after A775).
    Without the reference protein this checks what both notations state: the insertion follows the last
    duplicated residue, has the duplicated length, and begins and ends with the duplicated end residues."""
    if a is None or b is None or {a.kind, b.kind} != {"duplication", "insertion"}:
        return False
    dup, ins = (a, b) if a.kind == "duplication" else (b, a)
    length = dup.last - dup.start + 1
    dup_last_ref = dup.end_ref or dup.ref
    return (ins.start == dup.last and ins.ref == dup_last_ref and len(ins.alt) == length
            and ins.alt[0] == dup.ref and ins.alt[-1] == dup_last_ref)


def is_egfr_exon20_insertion(gene: str | None, hgvsp: str | None) -> bool:
    """EGFR in-frame insertion, duplication or insertion-type delins within exon 20 (codons 762-823)."""
    return gene == "EGFR" and is_inframe_insertion(hgvsp, EGFR_EXON20)


_CDNA_INTRONIC = re.compile(r"c\.(\d+)([+-])(\d+)")


def is_met_exon14_skipping(gene: str | None, consequence: str | None, hgvsc: str | None,
                           chrom: str | None = None, pos: int | None = None, build: str | None = None) -> bool:
    """MET variant at the exon 14 splice sites: by consequence text, by c. position on NM_000245 /
    NM_001127500, or by GRCh37 position within 25 bp of the exon 14 boundaries."""
    if gene != "MET":
        return False
    terms = (consequence or "").lower()
    if "exon_14" in terms or "exon 14" in terms:
        return True
    if not ({"splice", "intron", "exon_loss", "deletion"} & set(re.split(r"[&_,]", terms)) or "splice" in terms):
        return False
    if hgvsc and (m := _CDNA_INTRONIC.search(hgvsc)):
        for transcript, (first, last) in MET_EX14_CDNA.items():
            if transcript in hgvsc or ":" not in hgvsc:
                base, sign = int(m.group(1)), m.group(2)
                if (sign == "-" and base == first) or (sign == "+" and base == last):
                    return True
    if build == "GRCh37" and chrom and pos is not None and chrom.removeprefix("chr") == MET_EX14_GRCH37[0]:
        lo, hi = MET_EX14_GRCH37[1], MET_EX14_GRCH37[2]
        w = MET_EX14_SPLICE_WINDOW
        return lo - w <= pos <= lo + w or hi - w <= pos <= hi + w
    return False
