"""The C fast path (services/ingest/adapters/vcf/_fastpath.pyx) against the pure-Python path: every VCF of the shared
corpus, of tests/badinput/vcf, generated bench files and hand-made edge cases must give the same variants
(same fields, types, values and order) or the same rejection, read as ingest reads them, through the C loop
with _convert for every record, and through the reference loop (pysam's iterator and _convert, as before).
A synthetic file per rule of sample_fields.READ_COUNT_RULES too (RULE_CASES; test_read_count_rules.py checks the
declaration itself)."""

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from unittest.mock import patch

import pysam
import pytest

from bench.gen_vcf import write_vcf
from contracts.variant import Variant
from services.ingest.adapters.vcf import _fastpath
from services.ingest.adapters.vcf.loader import open_vcf, variant_document
from services.ingest.domain.rejection import VcfRejected
from services.ingest.domain.sample_fields import READ_COUNT_RULES
from tests.unit.conftest import REPO_ROOT

SHARED = REPO_ROOT.parent / "shared" / "data"
BADINPUT = REPO_ROOT / "tests" / "badinput" / "vcf"
MAX_INFO = 64 * 1024
NO_BUILD_CHECK = "unchecked"
FAST, C_LOOP, REFERENCE = "fast", "c-loop", "reference"  # check_build accepts any header for a build it does not know

# The edge records are read under both field lists: the second has no CANONICAL (its ninth field is ALLELE_NUM),
# so that even one-ALT records are matched by allele (_choose_by_allele), not by _choose_single_alt.
CSQ_FIELDS = (
    "Allele|Consequence|IMPACT|SYMBOL|Gene|Feature|HGVSc|HGVSp|CANONICAL|MANE_SELECT",
    "Allele|Consequence|IMPACT|SYMBOL|Gene|Feature|HGVSc|HGVSp|ALLELE_NUM|MANE_SELECT",
)
EDGE_HEADER = """##fileformat=VCFv4.2
##contig=<ID=chr1,length=248956422>
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=low,Description="low">
##FILTER=<ID=weak,Description="weak">
##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: {fields}">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
##tumor_sample=TUMOR
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\tNORMAL
"""
# One record per line: each bends one rule of the fast path (transcript choice, HGVS cleaning, read counts).
EDGE_RECORDS = [
    "A\tT\tPASS\tCSQ=T|missense_variant|M|G1|E1|T1|T1:c.1A>T|P1:p.K1N|YES|NM_1.1\tGT:AD:AF:DP\t0/1:10,5:0.3333333:15\t0/0:9,0:0:9",
    "a\tg\tlow;weak\tCSQ=g|intron_variant|L|G2|E2|T2|||YES|\tGT:AD:AF:DP\t0/1:10,5:0.1:.\t0/0:9,0:0:9",
    "AC\tA\tPASS\tCSQ=-|frameshift_variant|H|G3|E3|T3|T3:c.2del|P3:p.Ser60%3D||\tGT:AD:AF\t0/1:.,5:.\t0/0:9,0:0",
    "AC\tGT\t.\tCSQ=GT|stop_gained&splice_region_variant|H|G4|E4|T4|T4:c.3_4delinsGT|P4:p.Tyr2Ter||,"
    "GT|missense_variant|M|G4|E4|T5|T5:c.3_4delinsGT|P5:p.Y2C|YES|NM_4.1\tGT:AD:AF:DP\t0/1:7,3,1:0.3,0.1:11\t0/0:9,0:0:9",
    "C\tCA\tPASS\tCSQ=A|unknown_term|M||E5|T6|c.5_6insA|p.%28Leu3Ter%29||\tGT:AD:AF:DP\t0/1:10:0.5:10\t0/0:9,0:0:9",
    "G\tC\tPASS\tCSQ=C|missense_variant|M|G6|E6|T7|T7:c.7G>C|||NM_6\tGT:AD:DP\t0/1:10,5:15\t0/0:9,0:9",
    "G\tT\tPASS\tCSQ=T|synonymous_variant|L|G7|E7|T8|||NO|ENST9,T|synonymous_variant|L|G7|E7|T9|||YES|\tGT:AD:AF:DP\t0/1:8,2:0.2:10\t0/0:9,0:0:9",
    "T\tA\tPASS\tCSQ=A|missense_variant\tGT:AD:AF:DP\t0/1:8,2:0.25,0.5:.\t0/0:9,0:0:9",
    "TA\tT\tPASS\tCSQ=-|inframe_deletion|M|G10&G11|E10|T11|x:|:|YES|\tGT:AD:AF:DP\t0/1:8,2:0.2:10\t./.:.:.:.",
    "C\tT\tPASS\tCSQ=T|gene_fusion|H|G12&G13|E12|T12|||YES|\tGT:AD:AF:DP\t0/1:1,1:0.123456789:2\t0/0:9,0:0:9",
    "C\tT\tPASS\tCSQ=T|missense_variant|M|GÉNE|E13|T13|||YES|\tGT:AD:AF:DP\t0/1:1,1:0.5:2\t0/0:9,0:0:9",
    "C\tN\tPASS\t.\tGT:AD:AF:DP\t0/1:300,200:0.4:500\t0/0:9,0:0:9",
    "C\tT,G\tPASS\tCSQ=T|missense_variant|M|G14|E14|T14|||YES|,G|stop_gained|H|G14|E14|T14|||YES|"
    "\tGT:AD:AF:DP\t1/2:5,3,2:0.3,0.2:10\t0/0:9,0:0:9",
    "C\t<DEL>\tPASS\t.\tGT:AD:AF:DP\t0/1:5,3:0.3:10\t0/0:9,0:0:9",
    "C\tT,G\tPASS\tCSQ=T|missense_variant|M|G15|E15|T15|||1|NM_15,G|stop_gained|H|G15|E15|T16|||2|,"
    "G|intron_variant|L|G15|E15|T17|||YES|\tGT:AD:AF:DP\t1/2:5,3,2:0.3,0.2:.\t0/0:9,0,0:0,0:9",
    "AT\tA,ATT\tPASS\tCSQ=-|frameshift_variant|H|G16|E16|T18|T18:c.1del||YES|,TT|inframe_insertion|M|G16|E16|T19|||NO|,"
    "T|intron_variant|L|G16|E16|T20||||NM_16\tGT:AD:AF:DP\t1/2:5,3,2:0.5,0.3,0.2:10\t0/0:9,0,0:0,0:9",
    "c\tt,g,a\tPASS\tCSQ=t|missense_variant|M|G17|E17|T21|||YES|,g|synonymous_variant|L|G17|E17|T22|||YES|"
    "\tGT:AD:AF:DP\t1/2:5,3,2,1:0.3,0.2,0.1:11\t0/0:9,0,0,0:0,0,0:9",
    "C\tT,G\tPASS\t.\tGT:AD:AF:DP\t1/2:5,3:0.3,0.2:8\t0/0:9,0:0,0:9",
    "C\tT,*\tPASS\t.\tGT:AD:AF:DP\t1/2:5,3,1:0.3,0.1:9\t0/0:9,0,0:0,0:9",
    "C\tT,G\tPASS\tCSQ=T|missense_variant|M|G18|E18|T23|||YES|,,G|stop_lost|H|G18|E18|T24|T24:c.9C>G|%3F|YES|"
    "\tGT:AD:AF:DP\t1/2:5,3,2:0.3,0.2:10\t0/0:9,0,0:0,0:9",
    "G\tA\tPASS\tCSQ=A|missense_variant|M|G19|E19|T30|c.1_2ins[chr5:100[|||,A|missense_variant|M|G19|E19|T31|||NO|,"
    "A|intron_variant|L|G19|E19|T32|||1|\tGT:AD:AF:DP\t0/1:8,2:0.2:10\t0/0:9,0:0:9",
    "G\tA\tPASS\tCSQ=A|intron_variant|L|G20|E20|T33|||YES|,A|stop_gained|H|G20|E20|T34||p.X1YESY||NM_20.1,"
    "A|stop_gained|H|G20|E20|T35||||NM_20.2\tGT:AD:AF:DP\t0/1:8,2:0.2:10\t0/0:9,0:0:9",
    "G\tA\tPASS\tCSQ=X|missense_variant|M|G21|E21|T36||||,X|missense_variant|M|G21|E21|T37||||"
    "\tGT:AD:AF:DP\t0/1:8,2:0.2:10\t0/0:9,0:0:9",
    # an empty CSQ entry (pysam gives None for it): skipped
    "T\tG\tPASS\tCSQ=G|missense_variant|M|G8&G9|E8|T10|||YES|,,G|intron_variant\tGT:AD:AF:DP\t0/1:8,2:0.2:10\t0/0:9,0:0:9",
]


# Read counts without AF per ALT: FA (Mutect), a Number=1 AF, AD alone, missing and zero values.
COUNTS_HEADER = """##fileformat=VCFv4.2
##contig=<ID=chr1,length=248956422>
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=.,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=FA,Number=A,Type=Float,Description="Allele fractions (Mutect)">
##FORMAT=<ID=AF,Number=1,Type=Float,Description="Allele fraction">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR
"""
COUNTS_RECORDS = [
    "A\tT\tPASS\t.\tGT:AD:FA:DP\t0/1:10,5:0.3333333:15",
    "A\tT,C\tPASS\t.\tGT:AD:FA:DP\t1/2:10,5,3:0.3,0.2:.",
    "A\tT,C\tPASS\t.\tGT:AD:FA\t1/2:10,5,3:0.6,0.3,0.1",
    "A\tT\tPASS\t.\tGT:AD:AF:DP\t0/1:10,5:0.25:15",
    "A\tT\tPASS\t.\tGT:AD:AF:FA:DP\t0/1:10,5:.:0.4:15",
    "A\tT\tPASS\t.\tGT:AD:DP\t0/1:10,5:15",
    "A\tT\tPASS\t.\tGT:AD:DP\t0/1:0,0:0",
    "A\tT\tPASS\t.\tGT:AD:DP\t0/1:.,5:20",
    "A\tT\tPASS\t.\tGT:AD:DP\t0/1:.,5:0",
    "A\tT,G\tPASS\t.\tGT:AD:DP\t1/2:7,5:20",
    "A\tT\tPASS\t.\tGT:AD\t0/1:7",
    "A\tT\tPASS\t.\tGT:DP\t0/1:7",
    "A\tT\tPASS\t.\tGT:FA\t0/1:0.5",
    "A\tT\tPASS\t.\tGT\t0/1",
]


def _reference_variants(reader) -> Iterator[Variant]:
    """VcfReader.variants() as it was before its loop moved to C: pysam's own iterator, _convert for every record."""
    records = iter(reader._file)
    number = 0
    held = []
    hold_last = reader._last_line_cut
    tell = reader._file.tell
    last_offset = tell()
    max_info = reader.max_info_bytes // 4 if reader._kind == "bcf" else reader.max_info_bytes
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except (OSError, ValueError) as error:
            if hold_last and reader._exhausted(records):
                raise reader._cut_last_record(number + 1) from error
            raise reader._record_error(number + 1, error) from error
        number += 1
        if number == 1 and reader._ambiguous_samples:
            raise reader._no_tumour_sample()
        offset = tell()
        if offset - last_offset > max_info:
            reader._check_info_size(record, number, last_offset, offset)
        last_offset = offset
        try:
            converted = reader._convert(record, number)
        except VcfRejected:
            raise
        except (ValueError, KeyError, TypeError, OSError, AssertionError, IndexError) as error:
            if hold_last and reader._exhausted(records):
                raise reader._cut_last_record(number) from error
            raise reader._record_error(number, error) from error
        if hold_last:
            yield from held
            held = converted
        else:
            yield from converted
    if number == 0:
        raise reader._no_records()
    if hold_last:
        raise reader._cut_last_record(number)


def _read(path: Path, way: str, build: str = NO_BUILD_CHECK, max_info: int = MAX_INFO) -> tuple:
    """Read `path` one `way` (FAST: as ingest does; C_LOOP: the C loop, _convert for every record; REFERENCE:
    _reference_variants). Returns (("variants", [typed fields per variant]) or ("rejected", code, message) or
    ("raised", type, message), the number of records the fast path converted)."""
    reader = None
    with patch.object(_fastpath, "Converter", partial(_fastpath.Converter, enabled=way == FAST)):
        try:
            with open_vcf(str(path), build, max_info) as reader:
                rows = []
                for variant in _reference_variants(reader) if way == REFERENCE else reader.variants():
                    document = variant_document(variant)
                    assert document == variant.model_dump(exclude_none=True)
                    assert (variant.__pydantic_fields_set__, variant.__pydantic_extra__,
                            variant.__pydantic_private__) == (set(type(variant).model_fields), None, None)
                    rows.append([(key, type(value).__name__, repr(value)) for key, value in variant.__dict__.items()])
                outcome = ("variants", rows)
        except VcfRejected as rejected:
            outcome = ("rejected", rejected.code, str(rejected))
        except Exception as error:  # noqa: BLE001 - an unexpected failure must be the same one too
            outcome = ("raised", type(error).__name__, str(error))
    return outcome, reader._fast.taken if reader is not None else 0


def _assert_same(path: Path, **kwargs) -> int:
    """All three ways agree on `path`; returns how many records the fast path converted."""
    fast, taken = _read(path, FAST, **kwargs)
    reference, _ = _read(path, REFERENCE, **kwargs)
    assert fast == reference
    assert _read(path, C_LOOP, **kwargs)[0] == reference
    return taken


def _corpus() -> list[Path]:
    assert (SHARED / "MANIFEST.md").is_file(), f"test corpus not found at {SHARED}"
    files = [p for p in sorted(SHARED.rglob("*")) if p.is_file() and p.name.endswith((".vcf", ".vcf.gz", ".bcf"))]
    return files + sorted(BADINPUT.glob("*.vcf"))


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: str(p.relative_to(p.parents[1])))
def test_fast_path_agrees_with_python_on_the_corpus(path):
    _assert_same(path)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    """The bench's generator, bgzipped, plain and as BCF."""
    folder = tmp_path_factory.mktemp("generated")
    gz = write_vcf(folder / "bench.vcf.gz", 3000, seed=11, braf_v600e=True)
    plain = folder / "bench.vcf"
    bcf = folder / "bench.bcf"
    with pysam.VariantFile(str(gz)) as source:
        with pysam.VariantFile(str(plain), "w", header=source.header) as text, pysam.VariantFile(
            str(bcf), "wb", header=source.header
        ) as binary:
            for record in source:
                text.write(record)
                binary.write(record)
    return {"gz": gz, "plain": plain, "bcf": bcf}


@pytest.mark.parametrize("kind", ["gz", "plain", "bcf"])
def test_fast_path_agrees_with_python_on_generated_files(generated, kind):
    taken = _assert_same(generated[kind])
    assert taken > 2700  # the fast path does take the common record (all but multi-allelic ones)


def test_fast_path_agrees_on_an_info_size_rejection(generated):
    fast, _ = _read(generated["plain"], FAST, max_info=1200)
    assert fast[0] == "rejected"
    assert fast == _read(generated["plain"], REFERENCE, max_info=1200)[0]


def _edge_line(pos: int, record: str) -> str:
    ref, alt, rest = record.split("\t", 2)
    return f"chr1\t{pos}\t.\t{ref}\t{alt}\t.\t{rest}"


@pytest.mark.parametrize("fields", CSQ_FIELDS, ids=["canonical", "allele-num"])
def test_fast_path_agrees_with_python_on_edge_cases(tmp_path, fields):
    header = EDGE_HEADER.format(fields=fields)
    lines = [_edge_line(100 + i, record) for i, record in enumerate(EDGE_RECORDS)]
    path = tmp_path / "edge.vcf"
    path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    taken = _assert_same(path)
    assert 0 < taken < len(EDGE_RECORDS)
    for number, line in enumerate(lines):  # one at a time too: an earlier record's rejection hides no later one
        single = tmp_path / f"edge-{number}.vcf"
        single.write_text(header + line + "\n", encoding="utf-8")
        _assert_same(single)


def test_fast_path_agrees_with_python_on_read_count_edge_cases(tmp_path):
    lines = [_edge_line(100 + i, record) for i, record in enumerate(COUNTS_RECORDS)]
    path = tmp_path / "counts.vcf"
    path.write_text(COUNTS_HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    assert _assert_same(path) == len(COUNTS_RECORDS)


# Lines htslib fails on in different ways (VariantFile.__next__'s exceptions, which the C loop raises alike).
FAILING_LINES = {
    "format-without-samples": "chr1\t100\t.\tA\tT\t.\tPASS\t.\tGT:AD",
    "duplicate-format-tag": "chr1\t100\t.\tA\tT\t.\tPASS\t.\tGT:AD:AD\t0/1:1,2:3,4",
    "bad-integer": "chr1\t100\t.\tA\tT\t.\tPASS\t.\tGT:AD\t0/1:1,x",
    "too-many-format-keys": "chr1\t100\t.\tA\tT\t.\tPASS\t.\t" + ":".join(["GT"] + [f"X{i}" for i in range(300)])
    + "\t0/1",
    "no-sample-column": "chr1\t100\t.\tA\tT\t.\tPASS\t.",
    "undeclared-contig": "chr 1\t100\t.\tA\tT\t.\tPASS\t.\tGT\t0/1",
}


@pytest.mark.parametrize("name", FAILING_LINES)
def test_fast_path_fails_like_python_on_bad_records(tmp_path, name):
    good = _edge_line(99, COUNTS_RECORDS[0])
    path = tmp_path / f"{name}.vcf"
    path.write_text(f"{COUNTS_HEADER}{good}\n{FAILING_LINES[name]}\n{good}\n", encoding="utf-8")
    _assert_same(path)


# One synthetic file per rule of sample_fields.READ_COUNT_RULES, its header declaring only that rule's FORMAT keys:
# (FORMAT header lines, records as (REF, ALTs, tumour values), the (depth, alt_depth, vaf) of each variant).
_INT, _FLOAT, _STRING = "Integer", "Float", "String"
RULE_CASES = {
    "mutect2_ad_af": (
        {"AD": ("R", _INT), "AF": ("A", _FLOAT), "DP": ("1", _INT)},
        [("C", ("A",), {"AD": (29, 27), "AF": (0.467,), "DP": 56}),
         ("A", ("T", "G"), {"AD": (10, 5, 15), "AF": (0.167, 0.5), "DP": 30}),
         ("G", ("GT",), {"AD": (8, 2), "AF": (0.2,)})],
        [(56, 27, 0.467), (30, 5, 0.167), (30, 15, 0.5), (10, 2, 0.2)],
    ),
    "strelka_snv_tier1": (
        {"DP": ("1", _INT), **{key: ("2", _INT) for key in ("AU", "CU", "GU", "TU")}},
        [("G", ("A",), {"DP": 58, "AU": (56, 57), "CU": (0, 0), "GU": (2, 2), "TU": (0, 0)})],
        [(58, 56, 56 / 58)],
    ),
    "strelka_indel_tier1": (
        {"DP": ("1", _INT), "TAR": ("2", _INT), "TIR": ("2", _INT)},
        [("CG", ("C",), {"DP": 89, "TAR": (19, 19), "TIR": (57, 58)})],
        [(89, 57, 57 / 76)],
    ),
    "varscan2_freq": (
        {"DP": ("1", _INT), "RD": ("1", _INT), "AD": ("1", _INT), "FREQ": ("1", _STRING), "DP4": ("1", _STRING)},
        [("A", ("G",), {"DP": 91, "RD": 56, "AD": 35, "FREQ": "38.46%", "DP4": "31,25,16,19"}),
         ("A", ("G",), {"FREQ": "48.7%", "DP4": "31,28,33,23"}),
         ("T", ("C",), {"RD": 30, "AD": 10, "FREQ": "25%"})],
        [(91, 35, 0.3846), (115, 56, 0.487), (40, 10, 0.25)],
    ),
    "mutect_af_fa": (
        {"AD": ("R", _INT), "FA": ("A", _FLOAT), "AF": ("1", _FLOAT), "DP": ("1", _INT)},
        [("C", ("G",), {"AD": (175, 30), "DP": 206, "FA": (0.146,)}),
         ("A", ("T",), {"AD": (10, 5), "AF": 0.25, "DP": 15}),
         ("A", ("T", "C"), {"AD": (10, 5, 3), "FA": (0.3, 0.2)})],
        [(206, 30, 0.146), (15, 5, 0.25), (18, 5, 0.3), (18, 3, 0.2)],
    ),
    "pisces_vf": (  # as the TSO500 apps' Pisces/Pepe chain writes them (../shared/data/lab-outputs/tso500-*)
        {"AD": (".", _INT), "DP": ("1", _INT), "VF": (".", _FLOAT)},
        [("A", ("G",), {"AD": (1417, 197), "DP": 1614, "VF": (0.12206,)}),
         ("C", ("T",), {"AD": (2135, 4), "DP": 2139, "VF": (0.00187,)}),
         ("G", ("A",), {"DP": 500, "VF": (0.02,)})],
        [(1614, 197, 0.12206), (2139, 4, 0.00187), (500, None, 0.02)],
    ),
    "pcgr_adt_dpt": (
        {"ADT": (".", _STRING), "DPT": ("1", _INT)},
        [("C", ("T",), {"DPT": 144, "ADT": "112,32"})],
        [(144, 32, 32 / 144)],
    ),
    "ad_dp": (
        {"AD": ("R", _INT), "DP": ("1", _INT)},
        [("G", ("T",), {"DP": 11, "AD": (9, 2)}), ("A", ("G",), {"DP": 40}), ("A", ("C",), {"AD": (6, 2)})],
        [(11, 2, 2 / 11), (40, None, None), (8, 2, 0.25)],
    ),
}


def _write_vcf(path: Path, formats: dict, records: list) -> Path:
    """A bgzipped VCF written by pysam: one sample, TUMOR; `formats` maps a FORMAT key to (Number, Type)."""
    header = pysam.VariantHeader()
    header.contigs.add("chr1", length=248956422)
    for key, (number, kind) in formats.items():
        header.add_line(f'##FORMAT=<ID={key},Number={number},Type={kind},Description="{key}">')
    header.add_sample("TUMOR")
    with pysam.VariantFile(str(path), "wz", header=header) as vcf:
        for offset, (ref, alts, values) in enumerate(records):
            record = vcf.new_record(contig="chr1", start=1000 + offset * 10, alleles=(ref, *alts))
            for key, value in values.items():
                record.samples["TUMOR"][key] = value
            vcf.write(record)
    return path


def test_every_read_count_rule_has_a_synthetic_case():
    assert set(RULE_CASES) == {rule.name for rule in READ_COUNT_RULES}


@pytest.mark.parametrize("rule", [rule.name for rule in READ_COUNT_RULES])
def test_fast_path_agrees_with_python_on_each_read_count_rule(tmp_path, rule):
    formats, records, expected = RULE_CASES[rule]
    path = _write_vcf(tmp_path / f"{rule}.vcf.gz", formats, records)
    taken = _assert_same(path)
    # the rules of FAST_RULES are the fast path's; the others' keys hand every record to read_counts
    assert taken == (len(records) if rule in _fastpath.FAST_RULES else 0)
    with open_vcf(str(path), NO_BUILD_CHECK, MAX_INFO) as reader:
        counts = [(v.depth, v.alt_depth, None if v.vaf is None else round(v.vaf, 4)) for v in reader.variants()]
    assert counts == [(d, a, None if f is None else round(f, 4)) for d, a, f in expected]
