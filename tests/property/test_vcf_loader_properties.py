"""Property-based tests (hypothesis) for the VCF loader: every generated valid VCF is read back record for
record (positions, alleles, read counts); any corruption of one is either still readable or rejected with
a reason code, never another exception; a cut-off file is never silently accepted with fewer records."""

import tempfile
from pathlib import Path

import pysam
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.reasons import RejectionCode
from services.ingest.adapters.vcf.loader import open_vcf
from services.ingest.domain.rejection import VcfRejected

MAX_INFO = 64 * 1024
HEADER = (
    "##fileformat=VCFv4.2\n##contig=<ID=chr7,length=159345973>\n##contig=<ID=chr12,length=133275309>\n"
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\n"
)
bases = st.text("ACGT", min_size=1, max_size=6)
# Each example writes and parses a file: fewer examples than hypothesis' default keep the suite quick.
FILES = settings(max_examples=40)


@st.composite
def records(draw) -> list[tuple]:
    count = draw(st.integers(1, 30))
    positions = sorted(draw(st.lists(st.integers(1, 100_000_000), min_size=count, max_size=count, unique=True)))
    out = []
    for pos in positions:
        ref = draw(bases)
        alt = draw(bases.filter(lambda a, r=ref: a != r))
        ref_reads, alt_reads = draw(st.integers(0, 500)), draw(st.integers(1, 500))
        out.append((draw(st.sampled_from(["chr7", "chr12"])), pos, ref, alt, ref_reads, alt_reads))
    return sorted(out, key=lambda r: (r[0], r[1]))


def vcf_text(rows: list[tuple]) -> str:
    lines = [f"{c}\t{p}\t.\t{r}\t{a}\t50\tPASS\tDP={rr + ar}\tGT:AD\t0/1:{rr},{ar}\n" for c, p, r, a, rr, ar in rows]
    return HEADER + "".join(lines)


def load(data: bytes, bgzip: bool) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.vcf"
        path.write_bytes(data)
        if bgzip:
            pysam.tabix_compress(str(path), str(path) + ".gz", force=True)
            path = Path(str(path) + ".gz")
        with open_vcf(str(path), "GRCh38", MAX_INFO) as reader:
            return list(reader.variants())


@FILES
@given(records(), st.booleans())
def test_every_valid_record_is_read_back(rows, bgzip):
    variants = load(vcf_text(rows).encode(), bgzip)
    assert [(v.chrom, v.pos, v.ref, v.alt) for v in variants] == [(c, p, r, a) for c, p, r, a, _, _ in rows]
    assert [(v.depth, v.alt_depth) for v in variants] == [(rr + ar, ar) for *_, rr, ar in rows]


@FILES
@given(records(), st.booleans(), st.data())
def test_a_corrupted_vcf_is_read_or_rejected_with_a_reason(rows, bgzip, data):
    text = bytearray(vcf_text(rows).encode())
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(text) - 1))
        text[position:position + 1] = data.draw(st.sampled_from([b"", b"\t", b"\n", b"X", b",", b"\xff", b"<", b"."]))
    try:
        load(bytes(text), bgzip)
    except VcfRejected as rejection:
        assert isinstance(rejection.code, RejectionCode) and rejection.message


@FILES
@given(records(), st.booleans(), st.data())
def test_a_file_cut_inside_its_last_record_is_never_accepted_short(rows, bgzip, data):
    text = vcf_text(rows)
    last = text.rstrip("\n").rfind("\n") + 1
    cut = data.draw(st.integers(last + 1, len(text) - 2))  # inside the last record, before its newline
    try:
        variants = load(text[:cut].encode(), bgzip)
    except VcfRejected as rejection:
        assert rejection.code in (RejectionCode.VCF_TRUNCATED, RejectionCode.VCF_RECORD_INVALID)
        return
    # htslib may read a cut line that still has every column (e.g. a shorter AD); it must not be dropped
    assert len(variants) == len(rows)


@FILES
@given(st.integers(1, 40), st.integers(MAX_INFO + 1, 3 * MAX_INFO), st.booleans())
def test_an_oversized_info_column_is_rejected(position, size, bgzip):
    rows = [("chr7", p, "A", "T", 10, 5) for p in range(1, 41)]
    lines = vcf_text(rows).splitlines(keepends=True)
    index = len(lines) - 41 + position
    columns = lines[index].split("\t")
    columns[7] += ";NOTE=" + "A" * size
    lines[index] = "\t".join(columns)
    try:
        load("".join(lines).encode(), bgzip)
    except VcfRejected as rejection:
        assert rejection.code == RejectionCode.INFO_TOO_LARGE
    else:
        raise AssertionError("an INFO column over the limit was accepted")
