"""Bounds on what a VCF may make ingest hold, checked in one streaming pass before htslib opens the file.

htslib reads a whole line into memory and parses whatever a file holds: one 1 GiB header line took ingest
to 6 GB. This pass reads the decompressed text in 1 MiB blocks (htslib's BGZF reader, which reads plain gzip
and uncompressed text too) and rejects, each with its reason code: more decompressed bytes or records (data
lines) than allowed, a header line or a whole header longer than allowed (htslib keeps the header in memory),
and a record column longer than allowed (INFO against `info_bytes`, any other column, e.g. FORMAT or a
sample's values, against `field_bytes`). Memory is one block whatever the
input. A column can only be too long where no separator occurs for half its limit, so only such stretches
are measured exactly; everything else is C-speed `find` and `count` over the block.
BCF is binary: only its decompressed size is bounded here (the loader bounds its INFO column).
A file that cannot be decompressed is left to the loader, which says what is wrong with it.
"""

from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from pysam.libcbgzf import BGZFile

from contracts.reasons import RejectionCode
from services.ingest.domain.rejection import VcfRejected

BLOCK_BYTES = 1 << 20
_INFO_COLUMN = 7  # 0-based: CHROM POS ID REF ALT QUAL FILTER INFO FORMAT samples...
_COLUMN_NAMES = ("CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT")
_TAB, _NEWLINE = b"\t", b"\n"


@dataclass(frozen=True)
class VcfLimits:
    decompressed_bytes: int
    records: int
    header_line_bytes: int
    header_bytes: int
    info_bytes: int
    field_bytes: int

    @classmethod
    def from_settings(cls, settings: Any) -> "VcfLimits":
        return cls(decompressed_bytes=settings.max_decompressed_bytes, records=settings.max_records,
                   header_line_bytes=settings.max_header_line_bytes,
                   header_bytes=settings.max_header_bytes, info_bytes=settings.max_info_bytes,
                   field_bytes=settings.max_field_bytes)


class _Runs:
    """Lengths of the runs of bytes between separators, over a stream of blocks: reports every run longer
    than `over` as (start in the block, length); a run carried in from earlier blocks starts at the segment."""

    def __init__(self, separators: tuple[bytes, ...], over: int) -> None:
        self.separators = separators
        self.over = over
        self.window = max(1, over // 2)  # a run longer than `over` holds a whole window aligned after a separator
        self.carry = 0  # length of the run still open at the end of the last segment

    def _find(self, buf: bytes, start: int, end: int) -> int:
        found = [i for i in (buf.find(s, start, end) for s in self.separators) if i >= 0]
        return min(found) if found else -1

    def _rfind(self, buf: bytes, start: int, end: int) -> int:
        return max(buf.rfind(s, start, end) for s in self.separators)

    def _free(self, buf: bytes, start: int, end: int) -> bool:
        return all(buf.find(s, start, end) < 0 for s in self.separators)

    def feed(self, buf: bytes, start: int, end: int) -> Iterator[tuple[int, int]]:
        """Every run longer than `over` that buf[start:end] shows, as (start, length so far)."""
        first = self._find(buf, start, end)
        if first < 0:
            self.carry += end - start
            if self.carry > self.over:
                yield start, self.carry
            return
        if self.carry + first - start > self.over:
            yield start, self.carry + first - start
        p, window = first + 1, self.window
        while p + window <= end:
            if not self._free(buf, p, p + window):
                p += window
                continue
            run_end = self._find(buf, p + window, end)
            if run_end < 0:
                break  # runs on past the segment: measured as the carry
            run_start = self._rfind(buf, first, p) + 1
            if run_end - run_start > self.over:
                yield run_start, run_end - run_start
            p = run_end + 1
        last = self._rfind(buf, first, end)
        self.carry = end - last - 1
        if self.carry > self.over:
            yield last + 1, self.carry


class LimitCheck:
    """One streaming pass over a VCF file against `limits`; `run` may stop early and be called again."""

    def __init__(self, path: str, limits: VcfLimits) -> None:
        self.limits = limits
        self.text_bytes = 0
        self.records = 0
        self.done = False
        self._file = BGZFile(path, "rb")  # htslib: BGZF, plain gzip or uncompressed text alike
        self._binary = False
        self._header_lines = 0
        self._header_bytes = 0
        self._in_header = True
        self._chrom_line = False  # the #CHROM line (the header's last) has begun
        self._tail = _NEWLINE  # the last bytes of the header read so far (a virtual newline before the file)
        self._line = _Runs((_NEWLINE,), limits.header_line_bytes)
        self._columns = _Runs((_TAB, _NEWLINE), min(limits.info_bytes, limits.field_bytes))
        self._tabs = 0  # tabs on the current record line so far
        self._open_line = False  # the data read so far ends inside a record line

    def __enter__(self) -> "LimitCheck":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with suppress(OSError):  # htslib reports a read error again on closing; the loader names it
            self._file.close()

    def run(self, until_bytes: int | None = None) -> bool:
        """Read on to the end (True), or stop once `until_bytes` are read in all (False); raises VcfRejected."""
        while not self.done:
            if until_bytes is not None and self.text_bytes >= until_bytes:
                return False
            try:
                block = self._file.read(BLOCK_BYTES)
            except OSError:
                block = b""  # corrupt or cut compressed data: the loader names the problem
            if not block:
                self._finish()
                return True
            self._feed(block)
        return True

    def _feed(self, block: bytes) -> None:
        if self.text_bytes == 0 and block.startswith(b"BCF"):
            self._binary = True
        self.text_bytes += len(block)
        if self.text_bytes > self.limits.decompressed_bytes:
            raise VcfRejected(
                RejectionCode.VCF_DECOMPRESSED_TOO_LARGE,
                f"the VCF holds more than {self.limits.decompressed_bytes} bytes once decompressed",
            )
        if self._binary:
            return
        start = self._header(block) if self._in_header else 0
        if start >= 0:
            self._body(block, start)

    def _header(self, block: bytes) -> int:
        """Check the header lines in `block`; returns where the records begin, or -1 (the header goes on)."""
        if self._chrom_line:
            chrom = 0
        else:
            at = (self._tail + block[:6]).find(b"\n#CHROM")
            if at >= 0:
                chrom = at + 1 - len(self._tail)
            else:
                at = block.find(b"\n#CHROM")
                chrom = at + 1 if at >= 0 else None
            self._tail = (self._tail + block[-6:])[-6:]
            self._chrom_line = chrom is not None
        stop = block.find(_NEWLINE, max(chrom, 0)) if chrom is not None else -1
        segment_end = len(block) if stop < 0 else stop + 1
        long = next(self._line.feed(block, 0, segment_end), None)
        if long is not None:
            number = self._header_lines + block.count(_NEWLINE, 0, long[0]) + 1
            raise VcfRejected(
                RejectionCode.HEADER_LINE_TOO_LONG,
                f"header line {number} is longer than the limit of {self.limits.header_line_bytes} bytes",
            )
        self._header_lines += block.count(_NEWLINE, 0, segment_end)
        self._header_bytes += segment_end
        if self._header_bytes > self.limits.header_bytes:
            raise VcfRejected(RejectionCode.HEADER_TOO_LARGE,
                              f"the VCF header is longer than the limit of {self.limits.header_bytes} bytes")
        if stop < 0:
            return -1
        self._in_header = False
        return stop + 1

    def _body(self, block: bytes, start: int) -> None:
        end = len(block)
        for run_start, length in self._columns.feed(block, start, end):
            line_start = block.rfind(_NEWLINE, start, run_start)
            column = (self._tabs + block.count(_TAB, start, run_start) if line_start < 0
                      else block.count(_TAB, line_start + 1, run_start))
            self._too_long(column, length, self.records + block.count(_NEWLINE, start, run_start) + 1)
        last_line = block.rfind(_NEWLINE, start, end)
        self._tabs = self._tabs + block.count(_TAB, start, end) if last_line < 0 else block.count(_TAB, last_line + 1)
        self.records += block.count(_NEWLINE, start, end)
        if end > start:
            self._open_line = block[-1:] != _NEWLINE
        self._check_records()

    def _too_long(self, column: int, length: int, number: int) -> None:
        limit = self.limits.info_bytes if column == _INFO_COLUMN else self.limits.field_bytes
        if length <= limit:
            return
        name = _COLUMN_NAMES[column] if column < len(_COLUMN_NAMES) else f"sample {column - len(_COLUMN_NAMES) + 1}"
        code = RejectionCode.INFO_TOO_LARGE if column == _INFO_COLUMN else RejectionCode.FIELD_TOO_LARGE
        raise VcfRejected(code, f"record {number} has a {name} column of more than {limit} bytes ({length} or more)")

    def _check_records(self) -> None:
        if self.records > self.limits.records:
            raise VcfRejected(RejectionCode.TOO_MANY_RECORDS,
                              f"the VCF has more than {self.limits.records} records")

    def _finish(self) -> None:
        self.done = True
        if self._open_line:
            self.records += 1  # a last record without its newline
            self._check_records()


def check(path: str, limits: VcfLimits) -> int:
    """Check the whole file; returns its decompressed size."""
    with LimitCheck(path, limits) as checker:
        checker.run()
        return checker.text_bytes
