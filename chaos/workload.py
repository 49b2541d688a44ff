"""The results a fault run publishes: small synthetic VCFs that need MTB review (BRAF V600E), that are
report-ready (one variant of no clinical consequence), and bad inputs from tests/badinput that ingest
must reject. Every result is its own case, so each case has one right final state."""

import random
import string
from dataclasses import dataclass

from tests.badinput import corpus

# Bad inputs cheap to build and to reject (the corpus has more; these cover JSON, schema, privacy and VCF).
REJECTED_KINDS = (
    ("json-truncated", "malformed_json"), ("schema-version-future", "unsupported_schema_version"),
    ("missing-tumor-type", "schema_violation"), ("pseudonym-is-birth-date", "patient_identifier"),
    ("checksum-mismatch", "checksum_mismatch"), ("header-only", "no_variants_section"),
    ("non-acgt-alt", "invalid_allele"), ("truncated-bgzip-half", "vcf_truncated"),
)
_HEADER = (
    "##fileformat=VCFv4.2\n##reference=GRCh38\n##contig=<ID=chr7,length=159345973>\n##tumor_sample={sample}\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{sample}\n"
)
BRAF_V600E = "chr7\t140753336\t.\tA\tT\t50\tPASS\t.\tGT:AD:DP\t0/1:80,40:120\n"
INTERGENIC = "chr7\t1000000\t.\tC\tT\t50\tPASS\t.\tGT:AD:DP\t0/1:80,40:120\n"


@dataclass(frozen=True)
class Planned:
    """One result to publish and what must become of it."""

    result_id: str
    case_id: str
    kind: str  # "review" | "report" | "rejected"
    expect: str  # final case state, or the rejection code
    key: bytes
    value: bytes


def token(rng: random.Random, length: int = 6) -> str:
    """Letters only: never part of a date or an id number, so usable inside pseudonyms."""
    return "".join(rng.choice(string.ascii_uppercase) for _ in range(length))


def sample_name(run: str) -> str:
    """The tumour sample name used in this run's VCFs (the log scan looks for it)."""
    return f"SMPL{run}TUMOUR"


def pseudonym(run: str, index: int) -> str:
    return f"PSN-{run}{index:05d}"


def plan(count: int, run: str, rng: random.Random, report_share: float = 0.2, reject_share: float = 0.1) -> list[Planned]:
    """`count` results: mostly review cases, some report-ready, some rejected, in random order."""
    sample = sample_name(run)
    payloads = {
        "review": corpus.gzip_bgzf((_HEADER.format(sample=sample) + BRAF_V600E).encode()),
        "report": corpus.gzip_bgzf((_HEADER.format(sample=sample) + INTERGENIC).encode()),
    }
    out = []
    for index in range(count):
        result_id, case_id = f"R-{run}-{index:05d}", f"CASE-{run}-{index:05d}"
        roll = rng.random()
        if roll < reject_share:
            bad_id, code = REJECTED_KINDS[index % len(REJECTED_KINDS)]
            bad = corpus.build(bad_id, result_id)
            out.append(Planned(result_id, case_id, "rejected", code, result_id.encode(), bad.value))
            continue
        kind = "report" if roll < reject_share + report_share else "review"
        value = corpus.good_message(result_id, case_id, vcf=payloads[kind], pseudonym=pseudonym(run, index))
        out.append(Planned(result_id, case_id, kind, "alerted" if kind == "review" else "report_ready",
                           result_id.encode(), value))
    return out
