"""The streaming pre-check of a VCF's size, records, header lines and columns (services/ingest/adapters/vcf/limits.py)."""

import gzip
import random

import pysam
import pytest

from contracts.reasons import RejectionCode
from services.ingest.adapters.vcf import limits as limits_mod
from services.ingest.adapters.vcf.limits import LimitCheck, VcfLimits, check
from services.ingest.domain.rejection import VcfRejected

HEADER = "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=248956422>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\n"
RECORD = "chr1\t{pos}\t.\tA\tT\t.\tPASS\tDP=10\tGT:AD\t0/1:5,5\n"
GENEROUS = VcfLimits(decompressed_bytes=1 << 30, records=1000, header_line_bytes=200, header_bytes=2000, info_bytes=100, field_bytes=50)


def vcf(tmp_path, text: str, name: str = "x.vcf.gz"):
    path = tmp_path / name
    if name.endswith(".gz"):
        with pysam.BGZFile(str(path), "wb") as handle:
            handle.write(text.encode())
    else:
        path.write_text(text)
    return str(path)


def records(n: int) -> str:
    return "".join(RECORD.format(pos=i + 1) for i in range(n))


def code_of(path: str, limits: VcfLimits) -> RejectionCode | None:
    try:
        check(path, limits)
    except VcfRejected as rejection:
        return rejection.code
    return None


@pytest.mark.parametrize("name", ["x.vcf", "x.vcf.gz"])
def test_a_vcf_within_the_limits_passes_with_its_size_and_records_counted(tmp_path, name):
    text = HEADER + records(20)
    path = vcf(tmp_path, text, name)
    with LimitCheck(path, GENEROUS) as checker:
        assert checker.run() is True
    assert (checker.text_bytes, checker.records) == (len(text), 20)


def test_a_last_record_without_its_newline_is_counted(tmp_path):
    path = vcf(tmp_path, HEADER + records(3).rstrip("\n"))
    with LimitCheck(path, GENEROUS) as checker:
        checker.run()
    assert checker.records == 3


@pytest.mark.parametrize(("text", "limits", "code"), [
    (HEADER + records(5), GENEROUS.__class__(**{**GENEROUS.__dict__, "decompressed_bytes": 300}),
     RejectionCode.VCF_DECOMPRESSED_TOO_LARGE),
    (HEADER + records(5), GENEROUS.__class__(**{**GENEROUS.__dict__, "records": 4}), RejectionCode.TOO_MANY_RECORDS),
    (HEADER.replace("##contig", "##source=" + "x" * 300 + "\n##contig"), GENEROUS, RejectionCode.HEADER_LINE_TOO_LONG),
    (HEADER.replace("##contig", "##source=x\n" * 200 + "##contig"), GENEROUS, RejectionCode.HEADER_TOO_LARGE),
    (HEADER + records(2) + RECORD.format(pos=9).replace("DP=10", "DP=10;X=" + "y" * 100), GENEROUS,
     RejectionCode.INFO_TOO_LARGE),
    (HEADER + records(2) + RECORD.format(pos=9).replace("0/1:5,5", "0/1:" + "5," * 40 + "5"), GENEROUS,
     RejectionCode.FIELD_TOO_LARGE),
    (HEADER + RECORD.format(pos=9).replace("\tT\t", "\t" + "T" * 60 + "\t"), GENEROUS, RejectionCode.FIELD_TOO_LARGE),
])
def test_each_limit_rejects_with_its_own_code(tmp_path, text, limits, code):
    assert code_of(vcf(tmp_path, text), limits) == code


def test_an_info_column_up_to_its_own_limit_passes_though_longer_than_the_field_limit(tmp_path):
    text = HEADER + RECORD.format(pos=9).replace("DP=10", "DP=10;X=" + "y" * 80)  # INFO 91 bytes: limits 100 and 50
    assert code_of(vcf(tmp_path, text), GENEROUS) is None


def test_the_rejection_names_the_record_and_column(tmp_path):
    text = HEADER + records(4) + RECORD.format(pos=9).replace("0/1:5,5", "0/1:" + "5," * 40 + "5")
    with pytest.raises(VcfRejected) as caught:
        check(vcf(tmp_path, text), GENEROUS)
    assert "record 5 has a sample 1 column" in caught.value.message


def test_one_huge_header_line_is_rejected_in_memory_of_a_block(tmp_path):
    """Finding 6 of issue 18: a 1 GiB header line; here 64 MiB of it, read in 1 MiB blocks, stops after the limit."""
    path = tmp_path / "huge.vcf.gz"
    with pysam.BGZFile(str(path), "wb") as handle:
        handle.write(b"##fileformat=VCFv4.2\n##x=")
        for _ in range(64):
            handle.write(b"A" * (1 << 20))
    limits = VcfLimits(4 << 30, 10_000_000, 1 << 20, 32 << 20, 64 << 10, 64 << 10)
    with LimitCheck(str(path), limits) as checker, pytest.raises(VcfRejected) as caught:
        checker.run()
    assert caught.value.code == RejectionCode.HEADER_LINE_TOO_LONG
    assert checker.text_bytes <= 2 * limits_mod.BLOCK_BYTES + 65536  # read whole BGZF blocks


def test_run_can_stop_early_and_go_on(tmp_path, monkeypatch):
    monkeypatch.setattr(limits_mod, "BLOCK_BYTES", 64)
    path = vcf(tmp_path, HEADER + records(50), "x.vcf")
    with LimitCheck(path, GENEROUS) as checker:
        assert checker.run(until_bytes=200) is False and checker.text_bytes < len(HEADER + records(50))
        assert checker.run() is True and checker.records == 50


def test_plain_gzip_and_bcf_payloads_are_read_and_bounded_by_size(tmp_path):
    plain = tmp_path / "plain.vcf.gz"
    plain.write_bytes(gzip.compress((HEADER + records(5)).encode()) + gzip.compress(records(5).encode()))
    with LimitCheck(str(plain), GENEROUS) as checker:
        checker.run()
    assert checker.records == 10
    bcf = tmp_path / "x.bcf"
    bcf.write_bytes(b"BCF\x02\x02" + b"\n\t" * 5000)  # binary: no lines or columns to measure
    assert code_of(str(bcf), GENEROUS) is None
    assert code_of(str(bcf), VcfLimits(5000, 1, 1, 1, 1, 1)) == RejectionCode.VCF_DECOMPRESSED_TOO_LARGE


def test_a_corrupt_or_cut_compressed_file_is_left_to_the_loader(tmp_path):
    path = tmp_path / "cut.vcf.gz"
    data = gzip.compress((HEADER + records(200)).encode())
    path.write_bytes(data[: len(data) // 2])
    assert code_of(str(path), GENEROUS) is None


def _naive(text: str, limits: VcfLimits) -> RejectionCode | None:
    """The same limits by splitting everything (the reference the streaming pass must agree with)."""
    if len(text.encode()) > limits.decompressed_bytes:
        return RejectionCode.VCF_DECOMPRESSED_TOO_LARGE
    lines = text.split("\n")
    chrom = next((i for i, line in enumerate(lines) if line.startswith("#CHROM")), len(lines) - 1)
    header_bytes = 0
    for line in lines[:chrom + 1]:
        if len(line) > limits.header_line_bytes:
            return RejectionCode.HEADER_LINE_TOO_LONG
        header_bytes += len(line) + 1
        if header_bytes > limits.header_bytes:
            return RejectionCode.HEADER_TOO_LARGE
    body = lines[chrom + 1:]
    for line in body:
        for column, value in enumerate(line.split("\t")):
            if column == 7 and len(value) > limits.info_bytes:
                return RejectionCode.INFO_TOO_LARGE
            if column != 7 and len(value) > limits.field_bytes:
                return RejectionCode.FIELD_TOO_LARGE
    if len(body) - (body[-1:] == [""]) > limits.records:
        return RejectionCode.TOO_MANY_RECORDS
    return None


def test_random_files_in_tiny_blocks_get_the_verdict_of_splitting_everything(tmp_path, monkeypatch):
    """Lines, columns and the #CHROM line cut at every place by blocks of a few bytes."""
    rng = random.Random(18)
    limits = VcfLimits(decompressed_bytes=10_000, records=30, header_line_bytes=55, header_bytes=160, info_bytes=25, field_bytes=12)
    verdicts = set()
    for trial in range(400):
        monkeypatch.setattr(limits_mod, "BLOCK_BYTES", rng.randint(1, 40))
        header = "".join(f"##k{i}={'h' * rng.choice([1, 5, 30, 49, 50, 51, 70])}\n" for i in range(rng.randint(0, 2)))
        text = "##fileformat=VCFv4.2\n" + header + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT\n"
        count = rng.randint(0, 36)
        long = count <= limits.records  # too many records, or a column too long: which one comes first is the block's
        for _ in range(count):
            columns = ["c" * rng.choice([0, 1, 3, 6, 11, 12] * 20 + ([13, 20] if long else [])) for _ in range(10)]
            columns[7] = "i" * rng.choice([1, 12, 13, 24, 25] * 10 + ([26, 40] if long else []))
            text += "\t".join(columns) + "\n"
        if rng.random() < 0.3:
            text = text.rstrip("\n")
        expected = _naive(text, limits)
        assert code_of(vcf(tmp_path, text, f"r{trial}.vcf"), limits) == expected, (trial, text)
        verdicts.add(expected)
    assert verdicts == {None, RejectionCode.HEADER_LINE_TOO_LONG, RejectionCode.HEADER_TOO_LARGE, RejectionCode.INFO_TOO_LARGE,
                        RejectionCode.FIELD_TOO_LARGE, RejectionCode.TOO_MANY_RECORDS}
