"""The pysam adapter: stream a lab VCF into `contracts.variant.Variant`s, rejecting bad input with a reason.

pysam/htslib positions: `record.pos` is 1-based (VCF POS); `record.start` would be 0-based. We use `pos`.
What htslib accepts silently (a text VCF cut mid-record, plain gzip) is checked here before pysam sees it.
"""

import gzip
import os
import struct
import zlib
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any

import pysam

from contracts.reasons import RejectionCode
from contracts.variant import ALL_FIELDS_SET, DEFAULTS, Variant, trusted_variant
from services.ingest.adapters.vcf import _fastpath
from services.ingest.domain import annotation as ann
from services.ingest.domain import oncomine, pave
from services.ingest.domain.classify import (
    NON_VARIANT_ALTS,
    check_build,
    fusion_partners,
    invalid_allele,
    is_symbolic,
    parse_breakend,
    simple_ann_fusion,
    small_variant_kind,
    symbolic_kind,
)
from services.ingest.domain.rejection import VcfRejected
from services.ingest.domain.sample_fields import READ_COUNT_KEYS, pick_tumour_sample, read_counts

pysam.set_verbosity(0)  # htslib's stderr warnings would flood the service log; errors still raise

_GZIP_MAGIC = b"\x1f\x8b"
_BGZF_BLOCK = 1 << 16
# INFO keys (upper-cased) that only copy-number callers write, and that mean the record is a CNV segment.
_CNV_INFO = frozenset({"FOLD_CHANGE", "FOLD_CHANGE_LOG", "LOG2", "LOG2R", "LOG2_COPY_RATIO", "CN", "CNV_LOG2"})
# Read-level breakpoint support: its presence means an SV caller, even when it also reports FORMAT CN (DELLY).
_BREAKPOINT_INFO = frozenset({"PE", "SR", "MATEID", "PAIRED_END", "SPLIT_READS"})
_BREAKPOINT_FORMAT = frozenset({"PR", "SR", "DV", "RV", "PE"})
_GENE_INFO = ("GENE", "GENE_NAME", "GENE1")
_PARTNER_INFO = ("PARTNER", "PARTNER_GENE", "GENE_PARTNER", "MATE_GENE", "GENE2")
_ANNOTATION_KEYS = ("CSQ", "ANN")
_PASS = ["PASS"]
_ONE_BASE = frozenset("ACGTNacgtn")
_STRELKA_KEYS = frozenset({"AU", "CU", "GU", "TU", "TAR", "TIR"})
# Every field, in model order, with its default; "kind" is overwritten for anything but an SNV.
_TEMPLATE: dict[str, Any] = {**DEFAULTS, "kind": "snv"}


# `variant.model_dump(exclude_none=True)` for the flat Variant model (its __dict__ without None values), in C.
variant_document = _fastpath.variant_document


@contextmanager
def open_vcf(path: str, declared_build: str, max_info_bytes: int) -> Iterator["VcfReader"]:
    """Open a VCF/BCF for streaming; raises VcfRejected when the file or its header cannot be accepted."""
    reader = VcfReader(path, declared_build, max_info_bytes)
    try:
        yield reader
    finally:
        reader.close()


class VcfReader:
    """One opened VCF: its tumour sample, a header summary, and a stream of variants."""

    def __init__(self, path: str, declared_build: str, max_info_bytes: int) -> None:
        self.path = path
        self.max_info_bytes = max_info_bytes
        self._kind, self._unterminated = _sniff(path)
        self._file = _open(path)
        try:
            self._read_header(declared_build)
        except BaseException:
            self._file.close()
            raise

    def close(self) -> None:
        """Release the file handle."""
        self._file.close()

    def _read_header(self, declared_build: str) -> None:
        header = self._file.header
        try:
            lines = str(header).splitlines()
            contigs = _contigs(header)
            samples = list(header.samples)
            infos = {key: meta for key, meta in header.info.items()}
            format_keys = set(header.formats.keys())
        except (ValueError, AssertionError, KeyError) as error:
            raise VcfRejected(RejectionCode.VCF_HEADER_INVALID, f"the VCF header cannot be read ({error!r})") from error
        problem = check_build(contigs, lines, declared_build)
        if problem is not None:
            raise VcfRejected(problem[0], problem[1])

        self.tumour_sample = pick_tumour_sample(samples, lines)
        self._ambiguous_samples = samples if self.tumour_sample is None and len(samples) > 1 else None
        self._last_line_cut = self._unterminated is not None and _looks_cut(self._unterminated, len(samples))
        self._tumour_index = samples.index(self.tumour_sample) if self.tumour_sample is not None else None
        self._wanted_cache: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._header_format_count = -1
        self._formats = header.formats  # live view: htslib adds undeclared FORMAT keys as records use them
        self._header_wanted: tuple[str, ...] = ()
        self._per_record_format = False
        self._has_cn_format = "CN" in format_keys
        self._breakpoint_format = bool(_BREAKPOINT_FORMAT & format_keys)
        self._ann_key, self._ann_format = _annotation_field(infos)
        self._simple_ann = "SIMPLE_ANN" in infos
        # Oncomine / Ion Reporter: FUNC annotations, and hotspots genotyped as reference (GT 0/0) that are PASS
        self._func = self._ann_format is None and "FUNC" in infos
        self._impact = self._ann_format is None and not self._func and "IMPACT" in infos  # Hartwig PAVE
        self._contig_case = {name.lower(): name for name in contigs}
        self.header_summary: dict[str, Any] = {
            "fileformat": header.version,
            "samples": samples,
            "contigs": len(contigs),
            "annotation": self._ann_format.source if self._ann_format else (
                "oncomine" if self._func else "pave" if self._impact else None),
            "annotation_key": self._ann_key,
            "tumour_sample": self.tumour_sample,
        }
        self._fast = _fastpath.Converter(
            _TEMPLATE, Variant, ALL_FIELDS_SET, self._ann_key, self._ann_format, ann.severity, ann.clean_hgvs,
            self._tumour_index, enabled=not (self._func or self._impact),  # FUNC, IMPACT: read in Python (_convert)
        )

    def variants(self) -> Generator[Variant, None, None]:
        """Stream one Variant per ALT allele; reference blocks (ALT '.', <NON_REF>, <*>) are skipped.

        A generator of the loop in C (_fastpath.Converter.variants): the common record is converted there, any
        other by _convert; every rejection comes from the methods below.
        """
        return self._fast.variants(self, self._file)

    def _no_tumour_sample(self) -> VcfRejected:
        return VcfRejected(
            RejectionCode.NO_TUMOUR_SAMPLE,
            f"the VCF has samples {self._ambiguous_samples} and none can be identified as the tumour; "
            "add ##tumor_sample=<name> to the header or name the tumour column TUMOR",
        )

    def _no_records(self) -> VcfRejected:
        return VcfRejected(
            RejectionCode.NO_VARIANTS_SECTION,
            f"{os.path.basename(self.path)} has a valid header but no records after the #CHROM line",
        )

    @staticmethod
    def _exhausted(records: Iterator) -> bool:
        """True when nothing follows the record htslib just failed on (so that record was the file's last line)."""
        try:
            next(records)
        except StopIteration:
            return True
        except (OSError, ValueError):
            return False
        return False

    def _cut_last_record(self, number: int) -> VcfRejected:
        return VcfRejected(
            RejectionCode.VCF_TRUNCATED,
            f"the file does not end with a newline and its last record ({number}) lacks columns or FORMAT "
            "values: it was cut off during writing or transfer; re-export the complete VCF",
        )

    def _record_error(self, number: int, error: BaseException) -> VcfRejected:
        detail = str(error) or type(error).__name__
        if isinstance(error, OSError) and "truncated file" in detail:
            detail += " (the data stops being VCF here, e.g. an HTML page or a cut transfer)"
        return VcfRejected(
            RejectionCode.VCF_RECORD_INVALID,
            f"record {number} (counting data lines after #CHROM) cannot be parsed: {detail}; "
            f"{number - 1} records before it were read",
        )

    def _check_info_size(self, record: Any, number: int, before: int, after: int) -> None:
        # Cheap bound first: the record's line length from file offsets (within one BGZF block for .gz/.bcf).
        if self._kind == "text":
            bound = after - before
        elif before >> 16 == after >> 16:
            bound = (after & 0xFFFF) - (before & 0xFFFF)
            if self._kind == "bcf":
                bound *= 4  # binary values are shorter than their text
        else:
            bound = _BGZF_BLOCK * 2 + self.max_info_bytes  # crossed a block: measure exactly
        if bound <= self.max_info_bytes:
            return
        try:
            size = len(str(record).split("\t", 8)[7].encode())
        except (ValueError, IndexError) as error:
            raise self._record_error(number, error) from error
        if size > self.max_info_bytes:
            raise VcfRejected(
                RejectionCode.INFO_TOO_LARGE,
                f"record {number} ({record.chrom}:{record.pos}) has an INFO column of {size} bytes, more than the "
                f"limit of {self.max_info_bytes}; drop bulky annotations (e.g. limit VEP to --pick or --canonical)",
            )

    def _convert(self, record: Any, number: int) -> list[Variant]:
        """The Variants of one record (one per real ALT allele): the records _fastpath leaves to Python, and the
        reference the fast path is tested against (tests/unit/test_vcf_fastpath.py)."""
        alts = record.alts
        if not alts:
            return []
        ref = record.ref
        chrom = record.chrom
        pos = record.pos
        filters = record.filter.keys()
        flt = "PASS" if not filters or filters == _PASS else ";".join(filters)
        entries = record.info.get(self._ann_key) if self._ann_format is not None else None
        if isinstance(entries, str):
            entries = entries.split(",")
        func = oncomine.func_entries(record.info.get("FUNC")) if self._func else None
        impact = pave.impact_annotation(record.info.get("IMPACT")) if self._impact else None
        genotype = self._genotype(record) if self._func else None
        fmt = None
        if self._tumour_index is not None:
            if self._per_record_format or len(self._formats) != self._header_format_count:
                wanted = self._wanted_keys(record)
            else:
                wanted = self._header_wanted
            if wanted:
                sample = record.samples[self._tumour_index]
                fmt = {key: sample.get(key) for key in wanted}
        out = []
        for index, alt in enumerate(alts):
            if alt in NON_VARIANT_ALTS:
                continue
            if genotype is not None and index + 1 not in genotype and not is_symbolic(alt):
                continue  # a hotspot genotyped as reference (Ion Reporter writes them PASS): not a variant
            snv = len(ref) == 1 and len(alt) == 1 and ref in _ONE_BASE and alt in _ONE_BASE
            if not snv:
                why = invalid_allele(ref, alt)
                if why is not None:
                    raise VcfRejected(RejectionCode.INVALID_ALLELE, f"record {number} ({chrom}:{pos}): {why}")
            values = _TEMPLATE.copy()
            values["chrom"] = chrom
            values["pos"] = pos
            values["ref"] = ref
            values["alt"] = alt
            values["filter"] = flt
            annotation = None
            if entries:
                annotation = ann.choose_annotation(self._ann_format, entries, ref, alts, index)
            elif func:
                annotation = oncomine.func_annotation(func, alt)
            elif impact is not None and len(alts) == 1:  # one IMPACT per record: PURPLE writes one ALT each
                annotation = impact
            if annotation is not None:
                values["gene"] = annotation.gene
                values["consequence"] = annotation.consequence
                values["transcript"] = annotation.transcript
                values["hgvsc"] = annotation.hgvsc
                values["hgvsp"] = annotation.hgvsp
                values["annotation_source"] = annotation.source
            if fmt:
                counts = read_counts(fmt, index, ref, alt)
                values["depth"] = counts.depth
                values["alt_depth"] = counts.alt_depth
                values["vaf"] = counts.vaf
            if snv:
                pass  # kind stays "snv"
            elif is_symbolic(alt):
                self._structural(record, alt, annotation, values)
            else:
                values["kind"] = small_variant_kind(ref, alt)
            out.append(trusted_variant(values))
        return out

    def _genotype(self, record: Any) -> tuple[int, ...] | None:
        """The tumour's called allele indexes; None when there is no GT or it is not called (./.)."""
        if self._tumour_index is None:
            return None
        called = record.samples[self._tumour_index].get("GT")
        if not called or any(allele is None for allele in called):
            return None
        return tuple(called)

    def _wanted_keys(self, record: Any) -> tuple[str, ...]:
        """The read-count FORMAT keys to fetch for this record.

        Taken from the header (htslib adds undeclared keys to it as they appear, so its size is watched),
        except for Strelka, whose SNV and indel records carry different keys: there per record (cached).
        """
        formats = self._formats
        if len(formats) != self._header_format_count:
            self._header_format_count = len(formats)
            self._header_wanted = tuple(key for key in formats if key in READ_COUNT_KEYS)
            self._per_record_format = bool(_STRELKA_KEYS.intersection(self._header_wanted))
        if not self._per_record_format:
            return self._header_wanted
        signature = tuple(record.format.keys())
        wanted = self._wanted_cache.get(signature)
        if wanted is None:
            wanted = tuple(key for key in signature if key in READ_COUNT_KEYS)
            if len(self._wanted_cache) < 1000:
                self._wanted_cache[signature] = wanted
        return wanted

    def _structural(self, record: Any, alt: str, annotation: ann.Annotation | None, values: dict) -> None:
        """Fill kind, svtype, end, svlen, copy number, mate and partner gene of a symbolic/breakend allele."""
        info = record.info
        info_keys = {key.upper(): key for key in info.keys()}
        svtype = _first(info.get(info_keys["SVTYPE"])) if "SVTYPE" in info_keys else None
        mate = parse_breakend(alt)
        if svtype is None:
            svtype = "BND" if mate or "[" in alt or "]" in alt or "." in alt else alt.strip("<>").split(":")[0]
        copy_number = None
        breakpoint_support = bool(_BREAKPOINT_INFO & info_keys.keys())
        if self._tumour_index is not None and (self._has_cn_format or self._breakpoint_format):
            sample = record.samples[self._tumour_index]
            sample_keys = set(sample.keys())
            if "CN" in sample_keys:
                copy_number = _number(sample.get("CN"))
            breakpoint_support = breakpoint_support or bool(_BREAKPOINT_FORMAT & sample_keys)
        if copy_number is None and "CN" in info_keys:
            copy_number = _number(info.get(info_keys["CN"]))
        if copy_number is not None and copy_number < 0:
            copy_number = None  # DELLY writes CN=-1 for "not computed"
        cnv_evidence = bool(_CNV_INFO & info_keys.keys()) or (copy_number is not None and not breakpoint_support)

        partners = None
        if annotation is not None and annotation.partner_gene:
            partners = (annotation.gene, annotation.partner_gene)
        if partners is None and self._simple_ann and "SIMPLE_ANN" in info_keys:
            partners = simple_ann_fusion(_strings(info.get("SIMPLE_ANN")))
        if partners is None:
            gene = next((_first(info.get(info_keys[k])) for k in _GENE_INFO if k in info_keys), None)
            partner = next((_first(info.get(info_keys[k])) for k in _PARTNER_INFO if k in info_keys), None)
            partners = fusion_partners(gene, partner)
        fusion = partners is not None or (annotation is not None and annotation.is_fusion)

        values["kind"] = symbolic_kind(alt, svtype, cnv_evidence, fusion)
        values["svtype"] = str(svtype) if svtype else None
        if mate is not None:
            values["mate_chrom"] = self._contig_case.get(mate[0].lower(), mate[0])
            values["mate_pos"] = mate[1]
        elif record.rlen != len(record.ref):
            # htslib folds INFO/END into the record's length (pysam hides END from record.info).
            values["end"] = record.stop
        if "SVLEN" in info_keys:
            values["svlen"] = _int(_first(info.get(info_keys["SVLEN"])))
        values["copy_number"] = copy_number
        if partners is not None:
            values["gene"] = partners[0] or values.get("gene")
            values["partner_gene"] = partners[1]


def _sniff(path: str) -> tuple[str, str | None]:
    """("bgzf" | "bcf" | "text", the last line when a text file lacks its final newline, else None).

    Rejects empty files and plain gzip before pysam sees them.
    """
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(18)
            unterminated = _unterminated_last_line(handle, size) if head[:2] != _GZIP_MAGIC else None
    except OSError as error:
        raise VcfRejected(RejectionCode.REFERENCE_UNREACHABLE, f"cannot read the VCF file: {error.strerror}") from error
    if size == 0:
        raise VcfRejected(RejectionCode.VCF_HEADER_INVALID, "the VCF file is empty (0 bytes)")
    if head[:2] == _GZIP_MAGIC:
        if not _is_bgzf(head) and not _gzip_complete(path):
            raise VcfRejected(
                RejectionCode.VCF_TRUNCATED,
                "the file is a plain-gzip file that ends before its end marker (cut off in transfer?): copy it "
                "again from the lab, and compress it with `bgzip` (htslib) instead of `gzip`",
            )
        if not _is_bgzf(head):
            raise VcfRejected(
                RejectionCode.VCF_NOT_BGZIP,
                "the file is compressed with plain gzip, which htslib cannot read as a VCF; "
                "compress it with `bgzip` (htslib) instead of `gzip`",
            )
        if _bgzf_payload_starts_with(path, b"BCF"):
            return "bcf", None
        return "bgzf", _bgzf_unterminated_last_line(path)
    if head[:3] == b"BCF":
        return "bcf", None
    return "text", unterminated


def _unterminated_last_line(handle: Any, size: int) -> str | None:
    """The file's last line if the file does not end with a newline (read backwards in chunks), else None."""
    if size == 0:
        return None
    handle.seek(size - 1)
    if handle.read(1) == b"\n":
        return None
    tail = b""
    position = size
    while position > 0 and b"\n" not in tail:
        step = min(_BGZF_BLOCK, position)
        position -= step
        handle.seek(position)
        tail = handle.read(step) + tail
    return tail.rsplit(b"\n", 1)[-1].decode("utf-8", "replace")


def _bgzf_unterminated_last_line(path: str) -> str | None:
    """Like _unterminated_last_line, for the decompressed text of a BGZF file.

    Walks the block headers (BSIZE, SAM/BAM spec section 4.1) without decompressing, then inflates
    only the last two blocks that hold data: a file bgzipped after being cut keeps its cut line.
    """
    blocks: list[tuple[int, int]] = []
    with open(path, "rb") as handle:
        offset = 0
        while True:
            handle.seek(offset)
            header = handle.read(18)
            if len(header) < 18 or header[:2] != _GZIP_MAGIC or header[12:14] != b"BC":
                break
            size = int.from_bytes(header[16:18], "little") + 1
            if size > 28:  # the 28-byte empty block is the EOF marker
                blocks.append((offset, size))
            offset += size
        text = b""
        for start, size in blocks[-2:]:
            handle.seek(start)
            block = handle.read(size)
            try:
                text += zlib.decompressobj(-15).decompress(block[18:-8])
            except zlib.error:
                return None  # htslib reports the corrupt block itself
    if not text or text.endswith(b"\n"):
        return None
    return text.rsplit(b"\n", 1)[-1].decode("utf-8", "replace")


def _looks_cut(line: str, samples: int) -> bool:
    """True when an unterminated last line lacks columns or, per sample, FORMAT values (a cut record)."""
    columns = line.rstrip("\r").split("\t")
    if len(columns) < (9 + samples if samples else 8):
        return True
    if samples:
        return len(columns[-1].split(":")) < len(columns[8].split(":"))
    return False


def _is_bgzf(head: bytes) -> bool:
    # RFC 1952 header with FEXTRA; BGZF puts a 'BC' subfield (SLEN 2) in the extra field (SAM spec, section 4.1).
    if len(head) < 18 or head[2] != 8 or not head[3] & 0x04:
        return False
    xlen = struct.unpack_from("<H", head, 10)[0]
    extra = head[12:12 + xlen]
    while len(extra) >= 4:
        si1, si2, slen = extra[0], extra[1], struct.unpack_from("<H", extra, 2)[0]
        if si1 == 66 and si2 == 67 and slen == 2:
            return True
        extra = extra[4 + slen:]
    return False


def _bgzf_payload_starts_with(path: str, prefix: bytes) -> bool:
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read(len(prefix)) == prefix
    except (OSError, EOFError):
        return False


def _open(path: str) -> Any:
    """pysam.VariantFile with htslib's open-time failures mapped to reason codes."""
    try:
        return pysam.VariantFile(path)
    except NotImplementedError as error:
        raise VcfRejected(RejectionCode.VCF_NOT_BGZIP, f"htslib cannot read this compression ({error})") from error
    except ValueError as error:
        raise VcfRejected(RejectionCode.VCF_HEADER_INVALID, _header_message(str(error))) from error
    except OSError as error:
        text = str(error)
        if "EOF marker" in text or "truncated" in text:
            raise VcfRejected(
                RejectionCode.VCF_TRUNCATED,
                f"htslib: {text}; the bgzip file lacks its end-of-file block, so it was cut off during writing "
                "or transfer. Re-export it with bgzip",
            ) from error
        raise VcfRejected(RejectionCode.VCF_HEADER_INVALID, _header_message(text)) from error


def _header_message(htslib: str) -> str:
    return (
        f"htslib cannot read the VCF header ({htslib.strip()}); the first line must be ##fileformat=VCFv4.x and a "
        "tab-separated #CHROM line (with sample names after FORMAT, no trailing tab) must precede the records"
    )


def _contigs(header: Any) -> dict[str, int | None]:
    # Read contig lines as header records: len(header.contigs) raises AssertionError on some valid files.
    contigs: dict[str, int | None] = {}
    for line in header.records:
        if line.type == "CONTIG":
            fields = dict(line)
            if "ID" in fields:
                contigs[fields["ID"]] = _int(fields.get("length"))
    return contigs


def _gzip_complete(path: str) -> bool:
    """Whether a (plain) gzip file decompresses to its end marker; read in chunks, nothing kept."""
    inflate = zlib.decompressobj(wbits=31)
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            try:
                inflate.decompress(chunk, 1 << 16)
                while inflate.unconsumed_tail:
                    inflate.decompress(inflate.unconsumed_tail, 1 << 16)
            except zlib.error:
                return False
            if inflate.eof:
                return True
    return inflate.eof


def _annotation_field(infos: dict[str, Any]) -> tuple[str | None, ann.AnnotationFormat | None]:
    ordered = [k for k in _ANNOTATION_KEYS if k in infos] + [k for k in infos if k not in _ANNOTATION_KEYS]
    for key in ordered:
        fmt = ann.annotation_format(infos[key].description)
        if fmt is not None:
            return key, fmt
    return None, None


def _first(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return value[0] if value else None
    return value


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (tuple, list)):
        return [str(v) for v in value]
    return str(value).split(",")


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _number(value: Any) -> float | None:
    value = _first(value)
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
