# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""ingest's VCF record loop and the conversion of the common record in C, on htslib through pysam's structs.

`Converter.variants` is VcfReader.variants' loop. It converts a record itself when it fully understands
it: sequence alleles only, VEP/SnpEff entries absent or plain ASCII (no SnpEff fusion partner), tumour read
counts absent or read by the rules of sample_fields.READ_COUNT_RULES named in FAST_RULES, which read FAST_KEYS
only (no other key of sample_fields.READ_COUNT_KEYS, FALLBACK_KEYS, in the header: not Strelka's, VarScan's or
PCGR's, nor those of a rule added later). Any other record goes to `VcfReader._convert` as before, and every
rejection comes from the reader's methods. The rules are those of annotation.py and sample_fields.py, which stay
the reference; the differential test (tests/unit/test_vcf_fastpath.py) holds both paths to the same output, and
tests/unit/test_read_count_rules.py holds FAST_RULES, FAST_KEYS and FALLBACK_KEYS to READ_COUNT_RULES.
`variant_document` is loader's, in C.

Import pysam before this module (loader does): the extension links to pysam's htslib by file name.
"""

from cpython.dict cimport PyDict_Copy, PyDict_DelItem, PyDict_Next
from cpython.object cimport PyObject, PyObject_GenericSetAttr, PyTypeObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from cpython.unicode cimport PyUnicode_DecodeASCII
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint32_t, uint64_t
from libc.errno cimport errno
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memchr, memcmp, memcpy, strerror
from pysam.libcbcf cimport VariantFile, VariantRecord
from pysam.libchtslib cimport (
    BCF_BT_CHAR,
    BCF_BT_FLOAT,
    BCF_BT_INT8,
    BCF_BT_INT16,
    BCF_BT_INT32,
    BCF_DT_CTG,
    BCF_DT_ID,
    BCF_ERR_CHAR,
    BCF_ERR_CTG_INVALID,
    BCF_ERR_LIMITS,
    BCF_ERR_NCOLS,
    BCF_ERR_TAG_INVALID,
    BCF_HL_FMT,
    BCF_HL_INFO,
    BCF_HT_STR,
    BCF_UN_ALL,
    BCF_UN_SHR,
    BCF_VL_FIXED,
    bcf1_t,
    bcf_destroy1,
    bcf_dup,
    bcf_float_is_missing,
    bcf_float_is_vector_end,
    bcf_fmt_t,
    bcf_hdr_id2int,
    bcf_hdr_id2length,
    bcf_hdr_id2name,
    bcf_hdr_id2number,
    bcf_hdr_id2type,
    bcf_hdr_idinfo_exists,
    bcf_hdr_int2id,
    bcf_hdr_t,
    bcf_info_t,
    bcf_init1,
    bcf_int8_missing,
    bcf_int8_vector_end,
    bcf_int16_missing,
    bcf_int16_vector_end,
    bcf_int32_missing,
    bcf_int32_vector_end,
    bcf_read1,
    bcf_unpack,
    bgzf,
    bgzf_tell,
    hts_get_bgzfp,
    hts_get_format,
    htsFormat,
)

import os

from services.ingest.domain.rejection import VcfRejected
from services.ingest.domain.sample_fields import READ_COUNT_KEYS


cdef extern from *:
    """
    /* Index of the first '|' in s[i:n], or n: eight bytes at a time (the zero-byte test of x ^ '|'...). */
    static inline Py_ssize_t fastpath_next_bar(const char *s, Py_ssize_t i, Py_ssize_t n) {
    #if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        while (i + 8 <= n) {
            uint64_t word, x, found;
            memcpy(&word, s + i, 8);
            x = word ^ 0x7C7C7C7C7C7C7C7CULL;
            found = (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
            if (found)
                return i + (__builtin_ctzll(found) >> 3);
            i += 8;
        }
    #endif
        while (i < n && s[i] != '|')
            i++;
        return i;
    }
    """
    Py_ssize_t _next_bar "fastpath_next_bar" (const char *s, Py_ssize_t i, Py_ssize_t n) nogil


# The read counts. sample_fields.READ_COUNT_RULES declares read_counts' rules and the FORMAT keys each reads; the
# fast path implements FAST_RULES (_fill_counts), which read FAST_KEYS only. Every other key of READ_COUNT_KEYS is
# a FALLBACK_KEY: one declared in the header sends the record to read_counts, so a rule added to READ_COUNT_RULES
# with a key of its own is Python's without an edit here. COUNT_KEYS, the keys looked up, are READ_COUNT_KEYS
# with FAST_KEYS first, in the order of the constants below.
FAST_RULES = ("mutect2_ad_af", "mutect_af_fa", "ad_dp")
FAST_KEYS = ("AD", "AF", "FA", "DP")
cdef enum:
    AD = 0
    AF = 1
    FA = 2
    DP = 3
    N_FAST_KEYS = 4
    MAX_KEYS = 64
FALLBACK_KEYS = tuple(sorted(READ_COUNT_KEYS.difference(FAST_KEYS)))
COUNT_KEYS = FAST_KEYS + FALLBACK_KEYS
if not READ_COUNT_KEYS.issuperset(FAST_KEYS) or len(FAST_KEYS) != N_FAST_KEYS or len(COUNT_KEYS) > MAX_KEYS:
    raise ImportError(f"_fastpath reads {FAST_KEYS}, which sample_fields.READ_COUNT_KEYS must all hold "
                      f"({sorted(READ_COUNT_KEYS)}), {MAX_KEYS} keys at most")
_COUNT_KEYS = tuple(key.encode() for key in COUNT_KEYS)
cdef int _n_keys = len(COUNT_KEYS)

cdef enum:
    # the shape of the value pysam's sample.get() returns (bcf_array_to_object), which read_counts checks
    V_NONE = 0
    V_SCALAR = 1
    V_TUPLE = 2

cdef enum:
    # _counts' answers
    TO_PYTHON = -1
    NO_COUNTS = 0
    COUNTED = 1

cdef enum:
    # Converter.at: the annotation fields _annotation reads
    SYMBOL = 0
    GENE_ID = 1
    TRANSCRIPT = 2
    HGVSC = 3
    HGVSP = 4

cdef enum:
    MAX_VALUES = 64  # per FORMAT key; more go to Python
    MAX_ALLELES = 16
    MAX_FIELDS = 256  # of an annotation entry
    NOT_PREFERRED = 1000  # annotation._NOT_PREFERRED
    RANK_SLOTS = 4096  # a power of two; filled to three quarters at most
    VAF_SLOTS = 1024  # a power of two

_round = round  # Python's round (Cython would turn round() of a C double into C's), as read_counts rounds
_NO_ARGS = ()


cdef struct RankSlot:
    uint64_t hash
    char *text
    Py_ssize_t size
    long rank


cdef struct Counts:
    # the tumour's AD, AF, FA and DP: shape (V_NONE: no values, n_* = 0), values, which are missing
    int ad_shape, af_shape, fa_shape, dp_shape
    int n_ad, n_af, n_fa, n_dp
    int64_t ad[MAX_VALUES]
    int64_t dp[MAX_VALUES]
    float af[MAX_VALUES]
    float fa[MAX_VALUES]
    bint ad_missing[MAX_VALUES]
    bint af_missing[MAX_VALUES]
    bint fa_missing[MAX_VALUES]
    bint dp_missing[MAX_VALUES]


cdef struct VafSlot:
    uint32_t bits
    PyObject *value


cdef inline Py_ssize_t _bases(const char *allele) nogil:
    """Length of an allele made of A, C, G, T, N (either case) only; 0 for any other."""
    cdef Py_ssize_t n = 0
    while allele[n]:
        if allele[n] not in b"ACGTNacgtn":
            return 0
        n += 1
    return n


cdef inline Py_ssize_t _length(Py_ssize_t *starts, Py_ssize_t *ends, int count, int index) nogil:
    # length of field `index` of a split entry, 0 where there is no such field (annotation pads with "")
    return ends[index] - starts[index] if 0 <= index < count else 0


cdef inline bint _equals(const char *s, Py_ssize_t *starts, Py_ssize_t *ends, int count, int index,
                         const char *text, Py_ssize_t size) nogil:
    return _length(starts, ends, count, index) == size and (size == 0 or memcmp(s + starts[index], text, size) == 0)


cdef inline bint _is_number(const char *s, Py_ssize_t *starts, Py_ssize_t *ends, int count, int index,
                            int number) nogil:
    # field == str(number)
    cdef char digits[16]
    cdef int size = 0, value = number
    while True:
        digits[15 - size] = <char>(48 + value % 10)  # '0' + digit
        size += 1
        value //= 10
        if value == 0:
            break
    return _equals(s, starts, ends, count, index, digits + 16 - size, size)


cdef inline bint _ascii(const char *s, Py_ssize_t n) nogil:
    cdef Py_ssize_t i = 0
    cdef uint64_t word
    while i + 8 <= n:
        memcpy(&word, s + i, 8)
        if word & 0x8080808080808080ULL:
            return False
        i += 8
    while i < n:
        if <unsigned char>s[i] >= 0x80:
            return False
        i += 1
    return True


cdef inline bint _contains(const char *s, Py_ssize_t n, const char *needle) nogil:
    """needle (three characters) occurs in s[:n]."""
    cdef const char *end = s + n
    cdef const char *p = s
    while end - p >= 3:
        p = <const char *>memchr(p, needle[0], end - p - 2)
        if p == NULL:
            return False
        if p[1] == needle[1] and p[2] == needle[2]:
            return True
        p += 1
    return False


cdef inline Py_ssize_t _field(const char *s, Py_ssize_t n, int index, Py_ssize_t *length) nogil:
    """Offset of the `index`-th '|'-separated field of s[:n], its length in `length`; -1 when there are fewer."""
    cdef Py_ssize_t start = 0, bar
    while True:
        bar = _next_bar(s, start, n)
        if index == 0:
            length[0] = bar - start
            return start
        if bar == n:
            return -1
        start = bar + 1
        index -= 1


cdef inline int _split(const char *s, Py_ssize_t n, int need, Py_ssize_t *starts, Py_ssize_t *ends) nogil:
    """The first `need` '|'-separated fields of s[:n] into starts/ends; returns how many there are."""
    cdef Py_ssize_t start = 0, bar
    cdef int count = 0
    while count < need:
        bar = _next_bar(s, start, n)
        starts[count] = start
        ends[count] = bar
        count += 1
        if bar == n:
            break
        start = bar + 1
    return count


cdef class Converter:
    """The fast path for one opened file: the loader's reading of its header, and caches."""

    cdef dict template, chroms, filters
    cdef object variant_type, fields_set, severity, clean_hgvs, source
    cdef bytes ann_key
    cdef bint annotated, single_rule
    cdef int ann_id, consequence_at, canonical_at, mane_at, need, fill_need, tumour, n_ids, ranked
    cdef int at[5]  # SYMBOL, GENE_ID, TRANSCRIPT, HGVSC, HGVSP: field indexes, -1 where absent
    cdef int allele_at, allele_num_at
    cdef readonly bint enabled
    cdef readonly Py_ssize_t taken  # records the fast path converted
    cdef int ids[MAX_KEYS]  # the header ids of COUNT_KEYS
    cdef RankSlot *ranks
    cdef VafSlot *vafs

    def __cinit__(self, *args, **kwargs):
        self.ranks = <RankSlot *>calloc(RANK_SLOTS, sizeof(RankSlot))
        self.vafs = <VafSlot *>calloc(VAF_SLOTS, sizeof(VafSlot))
        if self.ranks == NULL or self.vafs == NULL:
            raise MemoryError()

    def __dealloc__(self):
        cdef int i
        if self.ranks != NULL:
            for i in range(RANK_SLOTS):
                free(self.ranks[i].text)
            free(self.ranks)
        if self.vafs != NULL:
            for i in range(VAF_SLOTS):
                Py_XDECREF(self.vafs[i].value)
            free(self.vafs)

    def __init__(self, dict template, variant_type, fields_set, str ann_key, ann_format, severity, clean_hgvs,
                 tumour_index, *, bint enabled=True):
        """template: every Variant field with its default; variant_type and fields_set as trusted_variant
        uses them; ann_key/ann_format as the loader found them (None: no annotation); severity and
        clean_hgvs from annotation.py; tumour_index: the tumour sample's column (None: no tumour).
        enabled=False sends every record to reader._convert (the differential test compares both)."""
        self.enabled = enabled
        self.template = template
        self.variant_type = variant_type
        self.fields_set = fields_set
        self.severity = severity
        self.clean_hgvs = clean_hgvs
        self.chroms = {}
        self.filters = {}
        self.annotated = ann_format is not None
        self.ann_id = -1
        if self.annotated:
            self.ann_key = ann_key.encode()
            self.source = ann_format.source
            self.consequence_at = ann_format.consequence
            self.canonical_at = _index(ann_format.canonical)
            self.mane_at = _index(ann_format.mane)
            self.need = ann_format.maxsplit
            self.allele_at = ann_format.allele
            self.allele_num_at = _index(ann_format.allele_num)
            for i, index in enumerate((ann_format.symbol, ann_format.gene_id, ann_format.transcript,
                                       ann_format.hgvsc, ann_format.hgvsp)):
                self.at[i] = _index(index)
            # _fill splits an entry only as far as the last field it reads
            self.fill_need = max(self.consequence_at, *(self.at[i] for i in range(5))) + 1
            # choose_annotation's condition for _choose_single_alt when a record has one ALT
            self.single_rule = ann_format.canonical is not None or ann_format.mane is None
        self.tumour = -1 if tumour_index is None else tumour_index
        self.n_ids = -1

    def variants(self, reader, VariantFile vcf):
        """VcfReader.variants(): each record of `vcf` through the fast path, or through reader._convert (on a
        pysam VariantRecord) where that declines it.

        Records are read as VariantFile.__next__ reads them (bcf_read1 without the GIL, same failures), into
        one reused bcf1_t. Rejections come from reader's methods. When the text file's last line is cut
        (reader._last_line_cut), each record's variants are held back until the next record is read, and
        the last record never passes.
        """
        records = iter(vcf)  # pysam's own checks; after a failed record, reader._exhausted goes on with it
        cdef bcf_hdr_t *h = vcf.header.ptr
        cdef bcf1_t *r = bcf_init1()
        if r == NULL:
            raise MemoryError("unable to allocate BCF record")
        if vcf.drop_samples:
            r.max_unpack = BCF_UN_SHR
        cdef int ret, failed_errno
        cdef Py_ssize_t number = 0
        cdef bint hold_last = reader._last_line_cut
        cdef list held = []
        # A line no longer than the limit cannot hold a longer INFO; for BGZF the difference of virtual offsets
        # is exact within a block and huge across blocks, so crossing a block triggers the exact check.
        cdef int64_t max_info = reader.max_info_bytes // 4 if reader._kind == "bcf" else reader.max_info_bytes
        cdef int64_t offset, last_offset = _tell(vcf)
        try:
            while True:
                if vcf.htsfile == NULL:
                    raise ValueError("I/O operation on closed file")
                r.errcode = 0  # as in a new record: at the end of the file htslib leaves the last one's
                with nogil:
                    ret = bcf_read1(vcf.htsfile, h, r)
                    failed_errno = errno
                if ret < 0 or r.errcode:
                    error = _read_failure(vcf, ret, r.errcode, failed_errno)
                    if isinstance(error, StopIteration):
                        break
                    if error is not None:
                        if hold_last and reader._exhausted(records):  # htslib failed on the cut last line itself
                            raise reader._cut_last_record(number + 1) from error
                        raise reader._record_error(number + 1, error) from error
                number += 1
                if number == 1 and reader._ambiguous_samples:
                    raise reader._no_tumour_sample()
                record = None  # the pysam VariantRecord, made only when Python needs one
                offset = _tell(vcf)
                if offset - last_offset > max_info:  # cheap bound first; the exact check is rare
                    record = _record(vcf, r)
                    reader._check_info_size(record, number, last_offset, offset)
                last_offset = offset
                converted = self._convert(r, h) if self.enabled else None
                if converted is not None:
                    self.taken += 1
                else:
                    if record is None:
                        record = _record(vcf, r)
                    try:
                        converted = reader._convert(record, number)
                    except VcfRejected:
                        raise
                    except (ValueError, KeyError, TypeError, OSError, AssertionError, IndexError) as error:
                        if hold_last and reader._exhausted(records):  # e.g. the cut last line lost its samples
                            raise reader._cut_last_record(number) from error
                        raise reader._record_error(number, error) from error
                if hold_last:
                    # The last line of this text file is cut short (no final newline, missing values): never pass
                    # it on.
                    for variant in held:
                        yield variant
                    held = converted
                else:
                    for variant in converted:
                        yield variant
        finally:
            bcf_destroy1(r)
        if number == 0:
            raise reader._no_records()
        if hold_last:
            raise reader._cut_last_record(number)

    cdef list _convert(self, bcf1_t *r, bcf_hdr_t *h):
        """The record's Variants (one per ALT), or None when the pure-Python path must convert the record."""
        cdef int n_alts = r.n_allele - 1
        cdef int k
        cdef Py_ssize_t lengths[MAX_ALLELES]
        if n_alts < 1 or n_alts >= MAX_ALLELES or r.errcode:
            return None
        if bcf_unpack(r, BCF_UN_ALL if self.tumour >= 0 else BCF_UN_SHR) < 0:
            return None
        if r.rid < 0 or r.rid >= h.n[BCF_DT_CTG] or r.d.allele == NULL:
            return None
        for k in range(n_alts + 1):  # sequence alleles only: symbolic, breakend, '*' and '.' go to Python
            lengths[k] = _bases(r.d.allele[k])
            if lengths[k] == 0:
                return None
        if h.n[BCF_DT_ID] != self.n_ids:
            self._lookup_ids(h)
        chrom = self._chrom(h, r.rid)
        flt = self._filter(r, h)
        if chrom is None or flt is None:
            return None
        cdef Counts counts
        cdef int counted = self._counts(r, h, &counts) if self.tumour >= 0 else NO_COUNTS
        if counted == TO_PYTHON:
            return None
        cdef const char *entries = NULL
        cdef Py_ssize_t size = 0
        if self.annotated and not self._entries(r, h, &entries, &size):
            return None

        pos = r.pos + 1
        ref = PyUnicode_DecodeASCII(r.d.allele[0], lengths[0], NULL)
        cdef list out = []
        cdef dict values
        for k in range(n_alts):
            values = PyDict_Copy(self.template)
            if counted == COUNTED and not self._fill_counts(&counts, k, values):
                return None
            if entries != NULL:
                if n_alts == 1 and self.single_rule:
                    filled = self._choose_single_alt(entries, size, values)
                else:
                    filled = self._choose_by_allele(entries, size, r, lengths, k, values)
                if not filled:
                    return None
            values["chrom"] = chrom
            values["pos"] = pos
            values["ref"] = ref
            values["alt"] = PyUnicode_DecodeASCII(r.d.allele[k + 1], lengths[k + 1], NULL)
            values["filter"] = flt
            if lengths[0] != 1 or lengths[k + 1] != 1:
                values["kind"] = "mnv" if lengths[0] == lengths[k + 1] else "indel"
            # contracts.variant.trusted_variant without its Python-level calls (tp_new is what Variant.__new__ calls)
            variant = (<PyTypeObject *>self.variant_type).tp_new(self.variant_type, <PyObject *>_NO_ARGS, NULL)
            PyObject_GenericSetAttr(variant, "__dict__", values)
            PyObject_GenericSetAttr(variant, "__pydantic_fields_set__", self.fields_set)
            PyObject_GenericSetAttr(variant, "__pydantic_extra__", None)
            PyObject_GenericSetAttr(variant, "__pydantic_private__", None)
            out.append(variant)
        return out

    cdef void _lookup_ids(self, bcf_hdr_t *h):
        # Header ids only grow (htslib adds undeclared keys as records use them): look up again when they do.
        cdef int i
        self.n_ids = h.n[BCF_DT_ID]
        for i in range(_n_keys):
            self.ids[i] = bcf_hdr_id2int(h, BCF_DT_ID, _COUNT_KEYS[i])
        if self.annotated:
            self.ann_id = bcf_hdr_id2int(h, BCF_DT_ID, self.ann_key)

    cdef inline bint _is_format(self, bcf_hdr_t *h, int key):
        cdef int id = self.ids[key]
        return id >= 0 and bcf_hdr_idinfo_exists(h, BCF_HL_FMT, id)

    cdef object _chrom(self, bcf_hdr_t *h, int rid):
        name = self.chroms.get(rid)
        if name is None:
            name = _utf8(bcf_hdr_id2name(h, rid))
            self.chroms[rid] = name
        return name

    cdef object _filter_name(self, bcf_hdr_t *h, int id):
        name = self.filters.get(id)
        if name is None:
            name = _utf8(bcf_hdr_int2id(h, BCF_DT_ID, id))
            self.filters[id] = name
        return name

    cdef object _filter(self, bcf1_t *r, bcf_hdr_t *h):
        # "PASS" when there are none or only PASS, else the names joined with ';' (as _convert does).
        cdef int i, n = r.d.n_flt
        if n == 0:
            return "PASS"
        if n == 1:
            return self._filter_name(h, r.d.flt[0])
        names = [self._filter_name(h, r.d.flt[i]) for i in range(n)]
        if None in names:
            return None
        return ";".join(names)

    cdef int _counts(self, bcf1_t *r, bcf_hdr_t *h, Counts *c) except -2:
        """The tumour's AD, AF, FA and DP as sample.get() gives them: COUNTED, NO_COUNTS (no read-count key in
        the header, so _convert reads none) or TO_PYTHON (a FALLBACK_KEY in the header, odd shapes)."""
        cdef int i
        for i in range(N_FAST_KEYS, _n_keys):  # FALLBACK_KEYS
            if self._is_format(h, i):
                return TO_PYTHON
        for i in range(N_FAST_KEYS):
            if self._is_format(h, i):
                break
        else:
            return NO_COUNTS
        if self.tumour >= <int>r.n_sample:
            return TO_PYTHON
        c.ad_shape = self._shape(r, h, AD, c.ad, NULL, c.ad_missing, &c.n_ad)
        c.af_shape = self._shape(r, h, AF, NULL, c.af, c.af_missing, &c.n_af)
        c.fa_shape = self._shape(r, h, FA, NULL, c.fa, c.fa_missing, &c.n_fa)
        c.dp_shape = self._shape(r, h, DP, c.dp, NULL, c.dp_missing, &c.n_dp)
        if c.ad_shape < 0 or c.af_shape < 0 or c.fa_shape < 0 or c.dp_shape < 0 or c.dp_shape == V_TUPLE:
            return TO_PYTHON
        return COUNTED

    cdef int _shape(self, bcf1_t *r, bcf_hdr_t *h, int key, int64_t *ints, float *reals, bint *missing,
                    int *n) except -2:
        cdef int shape = V_NONE
        if self._is_format(h, key):
            shape = _values(r, h, self.ids[key], self.tumour, ints, reals, missing, n)
        if shape == V_NONE:
            n[0] = 0
        return shape

    cdef bint _fill_counts(self, Counts *c, int k, dict values) except -1:
        """read_counts for ALT k of a file without FALLBACK_KEYS: its rules of FAST_RULES."""
        cdef int i, n_fractions = 0
        cdef bint none_in_ad = False, has_depth = c.dp_shape == V_SCALAR, has_alt = c.n_ad > k + 1
        cdef int64_t total = 0, depth = c.dp[0] if has_depth else 0
        cdef float *fractions = NULL
        cdef bint *fraction_missing = NULL
        has_alt = has_alt and not c.ad_missing[k + 1]
        for i in range(c.n_ad):
            none_in_ad = none_in_ad or c.ad_missing[i]
            total += c.ad[i]
        if not has_depth and c.n_ad > 0 and not none_in_ad:
            has_depth, depth = True, total
        if has_depth:
            values["depth"] = depth
        if has_alt:
            values["alt_depth"] = c.ad[k + 1]
        if c.ad_shape == V_TUPLE and c.af_shape == V_TUPLE and c.n_ad > k + 1 and c.n_af > k:
            # mutect2_ad_af (Mutect2/DRAGEN): AF per ALT, or per allele as long as AD (RADIA)
            i = k + 1 if c.n_af == c.n_ad else k
        elif c.af_shape != V_NONE or c.fa_shape != V_NONE:
            # mutect_af_fa: AF, else FA (Mutect), per allele when as long as AD
            n_fractions = c.n_af if c.af_shape != V_NONE else c.n_fa
            i = k + 1 if c.n_ad > 1 and n_fractions == c.n_ad else k
            if i >= n_fractions:
                return True
        else:
            # ad_dp: ALT / the sum of AD, else ALT / depth
            if has_alt and not none_in_ad and total > 0:
                values["vaf"] = <double>c.ad[k + 1] / <double>total
            elif has_alt and has_depth and depth != 0:
                values["vaf"] = <double>c.ad[k + 1] / <double>depth
            return True
        if c.af_shape != V_NONE:
            fractions, fraction_missing = c.af, c.af_missing
        else:
            fractions, fraction_missing = c.fa, c.fa_missing
        if not fraction_missing[i]:
            values["vaf"] = self._vaf(fractions[i])
        return True

    cdef object _vaf(self, float fraction):
        # round(fraction, 6) as read_counts does, remembered per 32-bit value
        cdef uint32_t bits
        memcpy(&bits, &fraction, 4)
        cdef VafSlot *slot = &self.vafs[(bits * 2654435761u) >> 22]
        if slot.value == NULL or slot.bits != bits:
            value = _round(<double>fraction, 6)
            Py_XDECREF(slot.value)
            Py_INCREF(value)
            slot.value = <PyObject *>value
            slot.bits = bits
        return <object>slot.value

    cdef bint _entries(self, bcf1_t *r, bcf_hdr_t *h, const char **entries, Py_ssize_t *size):
        """The CSQ/ANN value as info.get() reads it (NULL: none); False to leave the record to Python."""
        cdef int i, id = self.ann_id
        cdef bcf_info_t *info = NULL
        if id < 0:
            return True  # no record has used the key yet
        for i in range(<int>r.n_info):
            if r.d.info[i].key == id:
                info = &r.d.info[i]
                break
        if info == NULL or info.vptr == NULL:
            return True  # info.get() gives None: no annotation
        if bcf_hdr_id2type(h, BCF_HL_INFO, id) != BCF_HT_STR or info.type != BCF_BT_CHAR or info.len < 2:
            return False
        cdef const char *s = <const char *>info.vptr
        cdef Py_ssize_t n = info.len
        # pysam reads up to the first NUL when the value ends with one, else all of it
        if s[n - 1] == 0:
            n = <const char *>memchr(s, 0, n) - s
        elif memchr(s, 0, n) != NULL:
            return False
        if n == 0 or not _ascii(s, n):
            return False
        entries[0] = s
        size[0] = n
        return True

    cdef bint _choose_single_alt(self, const char *s, Py_ssize_t n, dict values) except -1:
        """annotation._choose_single_alt: the entry with the lowest (severity rank, position), a canonical/MANE
        one first if there is one."""
        cdef const char *entry = s
        cdef const char *end = s + n
        cdef const char *comma
        cdef const char *best = NULL
        cdef const char *preferred = NULL
        cdef Py_ssize_t size, best_size = 0, preferred_size = 0, where, length
        cdef long rank, best_rank = 0, preferred_rank = 0
        while True:
            comma = <const char *>memchr(entry, b",", end - entry)
            size = (end if comma == NULL else comma) - entry
            where = _field(entry, size, self.consequence_at, &length) if size > 0 else -1  # an empty entry is skipped
            if where >= 0:
                rank = self._rank(entry + where, length)
                if best == NULL or rank < best_rank:
                    best, best_size, best_rank = entry, size, rank
                if (self.canonical_at >= 0 and (preferred == NULL or rank < preferred_rank)
                        and self._preferred(entry, size)):
                    preferred, preferred_size, preferred_rank = entry, size, rank
            if comma == NULL:
                break
            entry = comma + 1
        if preferred != NULL:
            return self._fill(preferred, preferred_size, values)
        if best != NULL:
            return self._fill(best, best_size, values)
        return True

    cdef bint _choose_by_allele(self, const char *s, Py_ssize_t n, bcf1_t *r, Py_ssize_t *lengths, int k,
                                dict values) except -1:
        """annotation._choose_by_allele for ALT k: among the entries naming it (ALLELE_NUM, else the allele as
        allele_names spells it), the lowest severity rank, canonical/MANE first; with one ALT, any entry else."""
        cdef Py_ssize_t starts[MAX_FIELDS]
        cdef Py_ssize_t ends[MAX_FIELDS]
        cdef const char *entry = s
        cdef const char *end = s + n
        cdef const char *comma
        cdef const char *best = NULL
        cdef const char *fallback = NULL
        cdef Py_ssize_t size, best_size = 0, fallback_size = 0
        cdef long score, best_score = NOT_PREFERRED * 2, fallback_score = NOT_PREFERRED * 2
        cdef int count, i
        cdef bint matches, single = r.n_allele == 2
        cdef const char *alt = r.d.allele[k + 1]
        cdef Py_ssize_t alt_len = lengths[k + 1]
        # allele_names: VEP drops the first base when REF and every ALT share it (an indel's padding base)
        cdef bint padded = lengths[0] > 1
        for i in range(1, <int>r.n_allele):
            padded = padded or lengths[i] != 1
        if padded:
            for i in range(1, <int>r.n_allele):
                padded = padded and r.d.allele[i][0] == r.d.allele[0][0]
        if self.need > MAX_FIELDS:
            return False
        while True:
            comma = <const char *>memchr(entry, b",", end - entry)
            size = (end if comma == NULL else comma) - entry
            if size > 0:  # an empty entry is skipped
                count = _split(entry, size, self.need, starts, ends)
                i = self.consequence_at
                score = self._rank(entry + starts[i] if i < count else entry, _length(starts, ends, count, i))
                if not (_equals(entry, starts, ends, count, self.canonical_at, b"YES", 3)
                        or (self.mane_at >= 0 and _length(starts, ends, count, self.mane_at) > 0)):
                    score += NOT_PREFERRED
                if self.allele_num_at >= 0 and _length(starts, ends, count, self.allele_num_at) > 0:
                    matches = _is_number(entry, starts, ends, count, self.allele_num_at, k + 1)
                else:
                    matches = _equals(entry, starts, ends, count, self.allele_at, alt, alt_len) or (
                        padded and (_equals(entry, starts, ends, count, self.allele_at, alt + 1, alt_len - 1)
                                    if alt_len > 1 else
                                    _equals(entry, starts, ends, count, self.allele_at, b"-", 1)))
                if matches:
                    if score < best_score:
                        best, best_size, best_score = entry, size, score
                elif single and score < fallback_score:
                    fallback, fallback_size, fallback_score = entry, size, score
            if comma == NULL:
                break
            entry = comma + 1
        if best != NULL:
            return self._fill(best, best_size, values)
        if fallback != NULL:
            return self._fill(fallback, fallback_size, values)
        return True

    cdef long _rank(self, const char *s, Py_ssize_t n) except -1:
        # annotation.severity of the consequence, remembered per string
        cdef uint64_t hash = 14695981039346656037ULL ^ <uint64_t>n, word
        cdef Py_ssize_t i = 0
        while i + 8 <= n:  # eight bytes at a time, then FNV-1a on the rest
            memcpy(&word, s + i, 8)
            hash = (hash ^ word) * 0x9E3779B97F4A7C15ULL
            hash ^= hash >> 29
            i += 8
        while i < n:
            hash = (hash ^ <unsigned char>s[i]) * 1099511628211ULL
            i += 1
        hash ^= hash >> 32
        cdef unsigned slot_index = hash & (RANK_SLOTS - 1)
        cdef RankSlot *slot = &self.ranks[slot_index]
        while slot.text != NULL:
            if slot.hash == hash and slot.size == n and memcmp(slot.text, s, n) == 0:
                return slot.rank
            slot_index = (slot_index + 1) & (RANK_SLOTS - 1)
            slot = &self.ranks[slot_index]
        cdef long rank = self.severity(PyUnicode_DecodeASCII(s, n, NULL))
        if self.ranked < RANK_SLOTS * 3 // 4:
            slot.text = <char *>malloc(n + 1)
            if slot.text == NULL:
                raise MemoryError()
            memcpy(slot.text, s, n)
            slot.hash, slot.size, slot.rank = hash, n, rank
            self.ranked += 1
        return rank

    cdef bint _preferred(self, const char *s, Py_ssize_t n):
        # As _choose_single_alt: "YES" (or, with MANE, "NM_") in the entry, and CANONICAL is YES or MANE is set.
        cdef bint mane = self.mane_at >= 0
        cdef Py_ssize_t where, length
        if not (_contains(s, n, b"YES") or (mane and _contains(s, n, b"NM_"))):
            return False
        where = _field(s, n, self.canonical_at, &length)
        if where >= 0 and length == 3 and memcmp(s + where, b"YES", 3) == 0:
            return True
        if not mane:
            return False
        where = _field(s, n, self.mane_at, &length)
        return where >= 0 and length > 0

    cdef bint _fill(self, const char *s, Py_ssize_t n, dict values) except -1:
        # annotation._annotation (with clean_hgvs) on the chosen entry, split to the fields it reads
        cdef Py_ssize_t starts[MAX_FIELDS]
        cdef Py_ssize_t ends[MAX_FIELDS]
        if self.fill_need > MAX_FIELDS:
            return False
        cdef int count = _split(s, n, self.fill_need, starts, ends)
        cdef int index = self.at[SYMBOL]
        if index < 0 or index >= count or starts[index] == ends[index]:
            index = self.at[GENE_ID]
        gene = _text(s, starts, ends, count, index)
        consequence = _text(s, starts, ends, count, self.consequence_at)
        if "&" in gene and "fusion" in consequence:
            return False  # a SnpEff fusion's partner gene: left to Python
        values["gene"] = gene or None
        values["consequence"] = consequence or None
        values["transcript"] = _text(s, starts, ends, count, self.at[TRANSCRIPT]) or None
        values["hgvsc"] = self._hgvs(s, starts, ends, count, self.at[HGVSC])
        values["hgvsp"] = self._hgvs(s, starts, ends, count, self.at[HGVSP])
        values["annotation_source"] = self.source
        return True

    cdef object _hgvs(self, const char *s, Py_ssize_t *starts, Py_ssize_t *ends, int count, int index):
        # clean_hgvs: drop a "ENST...:" prefix (not when the second character is '.'), empty -> None
        if index < 0 or index >= count or starts[index] == ends[index]:
            return None
        cdef const char *value = s + starts[index]
        cdef Py_ssize_t size = ends[index] - starts[index]
        if memchr(value, b"%", size) != NULL:
            return self.clean_hgvs(PyUnicode_DecodeASCII(value, size, NULL))  # URL-escaped: annotation.py's own
        cdef const char *colon = <const char *>memchr(value, b":", size)
        if colon != NULL and not (size >= 2 and value[1] == b"."):
            size -= colon + 1 - value
            value = colon + 1
        if size == 0:
            return None
        return PyUnicode_DecodeASCII(value, size, NULL)


cdef inline str _text(const char *s, Py_ssize_t *starts, Py_ssize_t *ends, int count, int index):
    # field `index` of a split entry; "" where the entry has no such field (as _annotation's padding)
    if index < 0 or index >= count:
        return ""
    return PyUnicode_DecodeASCII(s + starts[index], ends[index] - starts[index], NULL)


cdef object _read_failure(VariantFile vcf, int ret, int errcode, int failed_errno):
    """What VariantFile.__next__ raises after bcf_read1 gave `ret` and `errcode`: StopIteration at the end,
    None when the record is good (errcode only says an undeclared contig or tag was added to the header)."""
    if ret < 0:
        if errcode:
            return OSError("unable to parse next record")
        if ret == -1:
            return StopIteration()
        if ret == -2:
            return OSError("truncated file")
        if failed_errno:  # pysam's OSError_from_errno
            filename = os.fsdecode(vcf.filename) if vcf.filename is not None else None
            return OSError(failed_errno, f"Unable to fetch next record: {strerror(failed_errno).decode()}", filename)
        return OSError("unable to fetch next record")
    # makeVariantRecord
    problems = [text for flag, text in ((BCF_ERR_NCOLS, "invalid number of columns"),
                                         (BCF_ERR_LIMITS, "limits violated"),
                                         (BCF_ERR_CHAR, "invalid character found"),
                                         (BCF_ERR_CTG_INVALID, "invalid contig"),
                                         (BCF_ERR_TAG_INVALID, "invalid tag")) if errcode & flag]
    if problems:
        return ValueError("Error(s) reading record: {}".format(", ".join(problems)))
    return None


cdef VariantRecord _record(VariantFile vcf, bcf1_t *r):
    """A pysam VariantRecord of a copy of r, as VariantFile.__next__ gives it (and VariantRecord.copy makes it)."""
    cdef bcf1_t *copy = bcf_dup(r)
    if copy == NULL:
        raise MemoryError("unable to allocate BCF record")
    cdef VariantRecord record = VariantRecord.__new__(VariantRecord)
    record.header = vcf.header
    record.ptr = copy
    return record


cdef int64_t _tell(VariantFile vcf) except? -1:
    # VariantFile.tell(): bgzf_tell for BGZF, else pysam's own
    cdef const htsFormat *fmt
    if vcf.htsfile != NULL and not vcf.is_stream:
        fmt = hts_get_format(vcf.htsfile)
        if fmt.compression == bgzf:
            return bgzf_tell(hts_get_bgzfp(vcf.htsfile))
    return vcf.tell()


cdef object _utf8(const char *s):
    """s decoded as pysam decodes header names (UTF-8, strict); None when it cannot be."""
    if s == NULL:
        return None
    try:
        return s.decode("utf-8")
    except UnicodeDecodeError:
        return None


cdef inline int _index(object index):
    return -1 if index is None else index


cdef int _values(bcf1_t *r, bcf_hdr_t *h, int id, int sample, int64_t *ints, float *reals, bint *missing,
                 int *n_out) except -2:
    """One sample's values of a FORMAT key, shaped as pysam's sample.get() would: V_NONE, V_SCALAR, V_TUPLE.

    Integers go to `ints`, or floats to `reals` when that is given; -1 when the field's type or size is
    not the expected one, or pysam would pad it (the record then goes to Python).
    """
    cdef bcf_fmt_t *fmt = NULL
    cdef int i, n = 0
    cdef bint scalar = (bcf_hdr_id2length(h, BCF_HL_FMT, id) == BCF_VL_FIXED
                        and bcf_hdr_id2number(h, BCF_HL_FMT, id) == 1)
    for i in range(<int>r.n_fmt):
        if r.d.fmt[i].id == id:
            fmt = &r.d.fmt[i]
            break
    if fmt == NULL or fmt.p == NULL:
        return V_NONE  # KeyError inside pysam: sample.get() gives None
    if fmt.n <= 0 or fmt.size <= 0 or fmt.n > MAX_VALUES:
        return -1
    cdef const unsigned char *p = fmt.p + sample * fmt.size
    cdef float f
    cdef int64_t v
    if reals != NULL:
        if fmt.type != BCF_BT_FLOAT:
            return -1
        for i in range(fmt.n):
            f = (<const float *>p)[i]
            if bcf_float_is_vector_end(f):
                break
            missing[i] = bcf_float_is_missing(f)
            reals[i] = f
            n += 1
    else:
        for i in range(fmt.n):
            if fmt.type == BCF_BT_INT8:
                v = (<const int8_t *>p)[i]
                if v == bcf_int8_vector_end:
                    break
                missing[i] = v == bcf_int8_missing
            elif fmt.type == BCF_BT_INT16:
                v = (<const int16_t *>p)[i]
                if v == bcf_int16_vector_end:
                    break
                missing[i] = v == bcf_int16_missing
            elif fmt.type == BCF_BT_INT32:
                v = (<const int32_t *>p)[i]
                if v == bcf_int32_vector_end:
                    break
                missing[i] = v == bcf_int32_missing
            else:
                return -1
            ints[i] = 0 if missing[i] else v
            n += 1
    n_out[0] = n
    if n == 0:
        return V_NONE if scalar else -1
    if scalar and n == 1:
        return V_NONE if missing[0] else V_SCALAR
    return V_TUPLE


def variant_document(variant):
    """`variant.model_dump(exclude_none=True)` for the flat Variant model: its __dict__ without the None values.

    Every Variant field is a str, int or float, so the model's __dict__ already is its JSON-ready dump.
    """
    cdef dict values = variant.__dict__
    cdef dict document = PyDict_Copy(values)  # then without the None values: cheaper than inserting the others
    cdef Py_ssize_t position = 0
    cdef PyObject *key
    cdef PyObject *value
    while PyDict_Next(values, &position, &key, &value):
        if value == <PyObject *>None:
            PyDict_DelItem(document, <object>key)
    return document
