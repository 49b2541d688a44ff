"""Which sample column is the tumour, and its read depth, ALT depth and VAF, for the common somatic callers.

Pure: the adapter hands over FORMAT values as plain python values (ints, floats, strings, tuples, None).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple


@dataclass(frozen=True)
class ReadCountRule:
    """One of read_counts' rules, as data: the C fast path (adapters/vcf/_fastpath.pyx) takes its keys from here.

    name: the rule in the field's words; callers: whose files it is for; keys: every FORMAT key the rule reads;
    selected_by: keys of which at least one has a value whenever the rule applies (read_counts checks them first).
    """

    name: str
    callers: str
    keys: tuple[str, ...]
    selected_by: tuple[str, ...]


# read_counts' rules, in the order it tries them. Any FORMAT key read_counts reads is declared here (a test parses
# read_counts for fmt.get/fmt[...] and fails otherwise); the fast path implements some of the rules in C and hands
# a record whose header declares any other rule's key to read_counts (tests/unit/test_read_count_rules.py).
READ_COUNT_RULES: tuple[ReadCountRule, ...] = (
    # AD and AF both typed as tuples by the header (Number=R/A); AF per ALT, or per allele as long as AD (RADIA).
    # Not when AU or TIR is there (Strelka's rules then).
    ReadCountRule("mutect2_ad_af", "Mutect2, DRAGEN, RADIA", ("AD", "AF", "DP"), ("AD", "AF")),
    # tier-1 counts of the REF and ALT bases ({REF}U, {ALT}U); VAF = alt / (ref + alt); SNVs only.
    ReadCountRule("strelka_snv_tier1", "Strelka2 somatic SNVs", ("AU", "CU", "GU", "TU", "DP"), ("AU",)),
    ReadCountRule("strelka_indel_tier1", "Strelka2 somatic indels", ("TAR", "TIR", "DP"), ("TIR",)),
    # FREQ "48.7%"; the ALT count from AD (a scalar), else DP4; depth from DP, DP4, else RD + ALT.
    ReadCountRule("varscan2_freq", "VarScan2", ("FREQ", "AD", "RD", "DP4", "DP"), ("FREQ",)),
    # AF, else FA, of any shape; per allele when as long as AD.
    ReadCountRule("mutect_af_fa", "Mutect (FA), callers with an untyped AF", ("AF", "FA", "AD", "DP"), ("AF", "FA")),
    # VF, the variant frequency per ALT (no AF), with AD for the ALT count and DP.
    ReadCountRule("pisces_vf", "Illumina Pisces/Pepe (TSO500 apps)", ("VF", "AD", "DP"), ("VF",)),
    ReadCountRule("pcgr_adt_dpt", "PCGR-style tumour fields", ("ADT", "DPT"), ("ADT",)),
    # ALT / the sum of AD, else ALT / DP; DP alone gives the depth only.
    ReadCountRule("ad_dp", "plain AD (and DP): MuSE and most others", ("AD", "DP"), ("AD", "DP")),
)

# FORMAT keys any of the rules may read; the adapter fetches only these.
READ_COUNT_KEYS = frozenset(key for rule in READ_COUNT_RULES for key in rule.keys)


class ReadCounts(NamedTuple):
    """Tumour read evidence for one ALT allele; None where the file does not say."""

    depth: int | None = None
    alt_depth: int | None = None
    vaf: float | None = None



def header_value(header_lines: Iterable[str], key: str) -> str | None:
    """The value of a `##key=value` header line, or None."""
    prefix = f"##{key}="
    for line in header_lines:
        if line.startswith(prefix):
            return line[len(prefix):].strip() or None
    return None


def pick_tumour_sample(samples: Sequence[str], header_lines: Iterable[str]) -> str | None:
    """The tumour sample: ##tumor_sample, else TUMOR/TUMOUR or a name containing it, else the one that is not
    ##normal_sample in a pair, else the T of a Hartwig R/T pair, else a lone sample; None when it cannot be told."""
    lines = list(header_lines)
    named = header_value(lines, "tumor_sample") or header_value(lines, "tumour_sample")
    if named in samples:
        return named
    exact = [s for s in samples if s.upper() in ("TUMOR", "TUMOUR")]
    if len(exact) == 1:
        return exact[0]
    containing = [s for s in samples if "tumor" in s.lower() or "tumour" in s.lower()]
    if len(containing) > 1:
        # e.g. RADIA's DNA_TUMOR and RNA_TUMOR: the DNA column carries the somatic calls.
        containing = [s for s in containing if "rna" not in s.lower() and "normal" not in s.lower()]
    if len(containing) == 1:
        return containing[0]
    normal = header_value(lines, "normal_sample")
    if len(samples) == 2 and normal in samples:
        return samples[1] if samples[0] == normal else samples[0]
    if len(samples) == 2 and samples[0][:-1] == samples[1][:-1] and {s[-1] for s in samples} == {"R", "T"}:
        # Hartwig's pipeline names the pair <sample>R (reference) and <sample>T (tumour)
        return samples[0] if samples[0].endswith("T") else samples[1]
    if len(samples) == 1:
        return samples[0]
    return None


def read_counts(fmt: Mapping[str, Any], alt_index: int, ref: str, alt: str) -> ReadCounts:
    """Depth, ALT depth and VAF of ALT number `alt_index` (0-based) from one sample's FORMAT values.

    Strelka tier-1 counts (AU/CU/GU/TU for SNVs, TAR/TIR for indels), VarScan2 (FREQ "48.7%" with RD/AD or
    DP4), Mutect/Mutect2/DRAGEN (AF or FA with AD and DP), Illumina Pisces/Pepe (VF), PCGR-style ADT/DPT, then
    plain AD (and DP).
    """
    # Fast path (Mutect2/DRAGEN, typed by their headers): AD and AF tuples, DP an int.
    ad, af, depth = fmt.get("AD"), fmt.get("AF"), fmt.get("DP")
    if type(ad) is tuple and type(af) is tuple and (depth is None or type(depth) is int):
        if len(ad) > alt_index + 1 and len(af) > alt_index and "AU" not in fmt and "TIR" not in fmt:
            alt_depth = ad[alt_index + 1]
            if depth is None and None not in ad:
                depth = sum(ad)
            # AF is per ALT (Number=A, Mutect2) or, as in RADIA, per allele including REF (as long as AD).
            fraction = af[alt_index + 1] if len(af) == len(ad) else af[alt_index]
            # htslib stores Float as 32-bit: round off the artefacts (0.1 would read 0.10000000149).
            return ReadCounts(depth, alt_depth, None if fraction is None else round(fraction, 6))
    depth = _int(depth)
    if fmt.get("AU") is not None and len(ref) == 1 and len(alt) == 1:
        return _strelka_snv(fmt, ref, alt, depth)
    if fmt.get("TIR") is not None:
        return _ref_alt(_tier1(fmt.get("TAR")), _tier1(fmt.get("TIR")), depth)
    if fmt.get("FREQ") is not None:
        return _varscan(fmt, depth)
    ad = _ints(fmt.get("AD"))
    alt_depth = _at(ad, alt_index + 1) if ad else None
    known = _known(ad)
    if depth is None and ad and known is not None:
        depth = sum(known)
    fraction = fmt.get("AF")
    if fraction is None:
        fraction = fmt.get("FA")
    if fraction is None:
        fraction = fmt.get("VF")  # Illumina Pisces/Pepe (TSO500): the lab's own frequency, per ALT
    if fraction is not None:
        fractions = _seq(fraction)
        per_allele = len(ad) > 1 and len(fractions) == len(ad)
        value = _float(_at(fractions, alt_index + 1 if per_allele else alt_index))
        return ReadCounts(depth, alt_depth, None if value is None else round(value, 6))
    if fmt.get("ADT") is not None:
        adt = _ints(fmt.get("ADT"))
        return _allelic(adt, alt_index, _int(fmt.get("DPT")))
    if ad:
        return _allelic(ad, alt_index, depth)
    return ReadCounts(depth, None, None)


def _strelka_snv(fmt: Mapping[str, Any], ref: str, alt: str, depth: int | None) -> ReadCounts:
    ref_count = _tier1(fmt.get(f"{ref.upper()}U"))
    alt_count = _tier1(fmt.get(f"{alt.upper()}U"))
    return _ref_alt(ref_count, alt_count, depth)


def _ref_alt(ref_count: int | None, alt_count: int | None, depth: int | None) -> ReadCounts:
    # Strelka's own guidance: VAF = alt / (ref + alt) over tier-1 counts (DP also counts other alleles).
    vaf = None
    if ref_count is not None and alt_count is not None and ref_count + alt_count > 0:
        vaf = alt_count / (ref_count + alt_count)
    return ReadCounts(depth, alt_count, vaf)


def _varscan(fmt: Mapping[str, Any], depth: int | None) -> ReadCounts:
    vaf = _percent(fmt.get("FREQ"))
    ad = fmt.get("AD")
    alt_count = _int(ad) if not isinstance(ad, (tuple, list)) else None  # VarScan's AD is the ALT count alone
    if alt_count is None:
        dp4 = _known(_ints(fmt.get("DP4")))
        if dp4 is not None and len(dp4) == 4:
            alt_count = dp4[2] + dp4[3]
            if depth is None:
                depth = sum(dp4)
    if depth is None:
        ref_count = _int(fmt.get("RD"))
        if ref_count is not None and alt_count is not None:
            depth = ref_count + alt_count
    return ReadCounts(depth, alt_count, vaf)


def _allelic(ad: list[int | None], alt_index: int, depth: int | None) -> ReadCounts:
    alt_count = _at(ad, alt_index + 1)
    vaf = None
    known = _known(ad)
    if alt_count is not None and known is not None and sum(known) > 0:
        vaf = alt_count / sum(known)
    elif alt_count is not None and depth:
        vaf = alt_count / depth
    return ReadCounts(depth, alt_count, vaf)


def _tier1(value: Any) -> int | None:
    return _int(_at(_seq(value), 0))


def _seq(value: Any) -> Sequence[Any]:
    if value is None:
        return ()
    if isinstance(value, (tuple, list)):
        if len(value) == 1 and isinstance(value[0], str) and "," in value[0]:
            return value[0].split(",")  # a Number=1 String holding a list
        return value
    if isinstance(value, str):
        return value.split(",")
    return (value,)


def _ints(value: Any) -> list[int | None]:
    return [_int(item) for item in _seq(value)]


def _known(values: Sequence[int | None]) -> list[int] | None:
    """values when none of them is missing (None), else None."""
    known = [value for value in values if value is not None]
    return known if len(known) == len(values) else None


def _at(values: Sequence[Any], index: int) -> Any:
    return values[index] if 0 <= index < len(values) else None


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, int):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return None


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _percent(value: Any) -> float | None:
    if isinstance(value, (tuple, list)):
        value = value[0] if value else None
    if value is None:
        return None
    text = str(value).strip()
    if text.endswith("%"):
        number = _float(text[:-1])
        return None if number is None else number / 100.0
    return _float(text)
