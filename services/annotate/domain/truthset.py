"""Truth sets for `oncorelay evaluate`: a documented TSV of expected calls, read into rows and inputs (pure).

Format (docs/evaluation.md): a header row, then one expected call per row, tab-separated; blank lines and
lines starting with `#` are skipped; columns may come in any order and extra columns are ignored.

    id  gene  alteration  partner  tumor_type  expected_tier  expected_level  source

`alteration` is an HGVS protein change (1- or 3-letter, with or without `p.`) or one of ALTERATION_CLASSES;
`partner` names the other gene of a fusion (empty: any partner); `gene` is empty for MSI-H and TMB-H.
A row that cannot be evaluated is kept with the reason and its line; only a header without the required
columns makes the whole file unreadable (TruthFileError).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contracts.variant import Variant
from services.annotate.domain.protein import parse_protein

COLUMNS = ("id", "gene", "alteration", "partner", "tumor_type", "expected_tier", "expected_level", "source")
SIGNATURES = {"msi-h": "MSI-H", "tmb-h": "TMB-H"}
ALTERATION_CLASSES = ("amplification", "deletion", "fusion", "truncating", "exon19_deletion", "exon20_insertion",
                      "exon14_skipping", "MSI-H", "TMB-H")
TIERS = {"i": "I", "ii": "II", "iii": "III", "iv": "IV", "1": "I", "2": "II", "3": "III", "4": "IV"}
# A TMB-H row is a result of this many coding mutations on a 1 Mb panel: TMB-high by the FDA label's
# threshold (10 mut/Mb), computed as for a lab's result (a lab-reported TMB alone does not make the call).
TMB_HIGH_MUTATIONS = 12

# Exon-level classes as one representative change of the genes whose labels name them (what a caller reports).
_EXON_CLASSES: dict[tuple[str, str], dict[str, Any]] = {
    ("exon19_deletion", "EGFR"): dict(kind="indel", hgvsp="p.E746_A750del", consequence="inframe_deletion"),
    ("exon20_insertion", "EGFR"): dict(kind="indel", hgvsp="p.D770_N771insSVD", consequence="inframe_insertion"),
    # the most frequent ERBB2 exon 20 insertion, in its HGVS form (a duplication; also written A775_G776insYVMA)
    ("exon20_insertion", "ERBB2"): dict(kind="indel", hgvsp="p.Y772_A775dup", consequence="inframe_insertion"),
    ("exon14_skipping", "MET"): dict(kind="snv", hgvsc="NM_000245.4:c.3028+1G>T", consequence="splice_donor_variant"),
}
_CONSEQUENCE = {"missense": "missense_variant", "nonsense": "stop_gained", "frameshift": "frameshift_variant",
                "deletion": "inframe_deletion", "insertion": "inframe_insertion", "duplication": "inframe_insertion",
                "delins": "protein_altering_variant", "extension": "stop_lost", "start_lost": "start_lost",
                "synonymous": "synonymous_variant"}
_LOCUS: dict[str, Any] = {"chrom": "0", "pos": 0, "ref": "N", "alt": "N", "vaf": 0.2, "depth": 500}


class TruthFileError(ValueError):
    """The file as a whole cannot be read (its message names the line)."""


@dataclass(frozen=True)
class TruthRow:
    """One expected call, as written, with the line it is on."""

    line: int
    id: str
    gene: str
    alteration: str
    partner: str
    tumor_type: str
    expected_tier: str
    expected_level: str | None
    source: str


@dataclass(frozen=True)
class Unevaluable:
    """A row that cannot be evaluated, and why."""

    line: int
    id: str
    reason: str


@dataclass(frozen=True)
class Input:
    """What interpretation is given for a row: one variant, or a signature of the result (MSI-H, TMB-H)."""

    variant: Variant | None = None
    signature: str | None = None

    def variants(self) -> list[Variant]:
        """The result's variants: the row's one, or for TMB-H enough coding mutations to be TMB-high."""
        if self.signature == "TMB-H":
            return [Variant(chrom="1", pos=1_000_000 + 1000 * n, ref="C", alt="T", kind="snv", gene="TMBPANEL",
                            hgvsp=f"p.R{100 + n}W", consequence="missense_variant", vaf=0.2, depth=500)
                    for n in range(TMB_HIGH_MUTATIONS)]
        return [self.variant] if self.variant else []


def read_truth(text: str, known_tumour_type: Callable[[str], bool]) -> tuple[list[TruthRow], list[Unevaluable]]:
    """The rows of a truth file and those that cannot be evaluated; `known_tumour_type(code)` says whether an
    OncoTree code exists. Raises TruthFileError when there is no header with the required columns."""
    rows: list[TruthRow] = []
    unevaluable: list[Unevaluable] = []
    header: list[str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [field.strip() for field in line.split("\t")]
        if header is None:
            header = [field.lower() for field in fields]
            missing = [column for column in COLUMNS if column not in header]
            if missing:
                raise TruthFileError(
                    f"line {number}: the header lacks the column(s) {', '.join(missing)}; a truth file starts with "
                    f"the tab-separated header {chr(9).join(COLUMNS)} (docs/evaluation.md)")
            continue
        row_id = fields[header.index("id")] if len(fields) > header.index("id") else ""
        if len(fields) > len(header):
            unevaluable.append(Unevaluable(number, row_id, f"{len(fields)} tab-separated fields, the header has "
                                                           f"{len(header)}"))
            continue
        value = dict(zip(header, fields + [""] * (len(header) - len(fields)), strict=True))
        problem = _row_problem(value, known_tumour_type)
        if problem:
            unevaluable.append(Unevaluable(number, row_id, problem))
            continue
        tier, written = _tier(value["expected_tier"])
        assert tier is not None  # _row_problem() rejected the rows without a tier
        rows.append(TruthRow(number, value["id"], value["gene"].upper(), value["alteration"], value["partner"].upper(),
                             value["tumor_type"].upper(), tier, value["expected_level"].upper() or written,
                             value["source"]))
    if header is None:
        raise TruthFileError("the file has no header row (only blank or # lines); a truth file starts with the "
                             f"tab-separated header {chr(9).join(COLUMNS)} (docs/evaluation.md)")
    return rows, unevaluable


def _tier(text: str) -> tuple[str | None, str | None]:
    """(tier, level written with it) of an expected_tier cell: 'I', 'Tier II', '3', 'IA', 'Tier IIC'; tier None
    when it is none of these."""
    text = text.strip().lower().removeprefix("tier ").strip()
    if text in TIERS:
        return TIERS[text], None
    if len(text) > 1 and text[-1] in "abcd" and text[:-1] in TIERS:
        return TIERS[text[:-1]], text[-1].upper()
    return None, None


def _row_problem(value: dict[str, str], known_tumour_type: Callable[[str], bool]) -> str | None:
    if not value["id"]:
        return "the id is empty"
    tier, written = _tier(value["expected_tier"])
    if tier is None:
        return f"expected_tier {value['expected_tier']!r} is not I, II, III or IV (a level may follow: IA, IIC)"
    if written and value["expected_level"] and value["expected_level"].upper() != written:
        return f"expected_tier {value['expected_tier']!r} and expected_level {value['expected_level']!r} disagree"
    if value["expected_level"] and value["expected_level"].upper() not in {"A", "B", "C", "D"}:
        return f"expected_level {value['expected_level']!r} is not A, B, C, D or empty"
    if not value["tumor_type"]:
        return "tumor_type is empty (an OncoTree code, e.g. LUAD)"
    if not known_tumour_type(value["tumor_type"].upper()):
        return f"tumor_type {value['tumor_type']!r} is not an OncoTree code"
    built = build_input(value["gene"].upper(), value["alteration"], value["partner"].upper())
    return built if isinstance(built, str) else None


def build_input(gene: str, alteration: str, partner: str = "") -> Input | str:
    """The interpretation input for a row's alteration, or the reason none can be built."""
    text = alteration.strip()
    lowered = text.lower()
    if lowered in SIGNATURES:
        return Input(signature=SIGNATURES[lowered])
    if not gene:
        return f"gene is empty, and {text!r} is not MSI-H or TMB-H"
    if not text:
        return "alteration is empty"
    if lowered in {"amplification", "deletion"}:
        return Input(Variant(chrom="0", pos=0, ref="N", alt="<CNV>", kind="cnv", gene=gene,
                             copy_number=10.0 if lowered == "amplification" else 0.0))
    if lowered == "fusion":
        return Input(Variant(chrom="0", pos=0, ref="N", alt="<BND>", kind="fusion", gene=gene,
                             partner_gene=partner or None))
    if lowered == "truncating":
        return Input(Variant(gene=gene, kind="indel", consequence="frameshift_variant", **_LOCUS))
    if lowered in {"exon19_deletion", "exon20_insertion", "exon14_skipping"}:
        fields = _EXON_CLASSES.get((lowered, gene))
        if fields is None:
            genes = sorted(g for c, g in _EXON_CLASSES if c == lowered)
            return f"{lowered} is represented for {', '.join(genes)} only, not {gene}"
        return Input(Variant(gene=gene, **{**_LOCUS, **fields}))
    change = parse_protein(text)
    if change is None:
        return (f"alteration {text!r} is neither an HGVS protein change (V600E, p.Val600Glu, E746_A750del) nor one "
                f"of {', '.join(ALTERATION_CLASSES)}")
    hgvsp = text if text.startswith("p.") else f"p.{text}"
    simple = change.kind in {"missense", "nonsense", "synonymous", "start_lost"}
    return Input(Variant(gene=gene, kind="snv" if simple else "indel", hgvsp=hgvsp,
                         consequence=_CONSEQUENCE[change.kind], **_LOCUS))
