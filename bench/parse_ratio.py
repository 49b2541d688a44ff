"""Benchmark 1: ingest's VCF parse-and-normalise rate against a bare pysam iteration of the same file.

Three paths over the same bgzipped VCF, each timed `repeats` times (best run kept, the usual way to
take scheduler noise out of a CPU-bound loop):
- bare: `for record in pysam.VariantFile(path)`, touching nothing (the issue's baseline);
- fields: the same loop reading what a Variant carries (CHROM, POS, REF, ALT, FILTER, INFO/CSQ,
  tumour FORMAT AD/AF/DP), i.e. the least any pysam-based parser must do (context only);
- ingest: services.ingest.adapters.vcf.loader.open_vcf(...).variants() and the conversion of each Variant
  to the document ingest stores (loader.variant_document); encoding chunks for storage is not parsing
  and is left out (flow.py measures it with the rest of the pipeline).
parse_ratio = ingest records/s / bare records/s.
"""

import time
from pathlib import Path

import pysam
from rich.progress import Progress

from services.common.settings import Settings
from services.ingest.adapters.vcf.loader import open_vcf, variant_document


def bare(path: Path) -> int:
    count = 0
    with pysam.VariantFile(str(path)) as vcf:
        for _ in vcf:
            count += 1
    return count


def fields(path: Path) -> int:
    count = 0
    with pysam.VariantFile(str(path)) as vcf:
        for record in vcf:
            count += 1
            _ = (record.chrom, record.pos, record.ref, record.alts, list(record.filter), record.info.get("CSQ"))
            tumour = record.samples["TUMOR"]
            _ = (tumour.get("AD"), tumour.get("AF"), tumour.get("DP"))
    return count


def ingest(path: Path) -> int:
    """Records through ingest's parser and normaliser; returns the number of variants (one per ALT)."""
    count = 0
    with open_vcf(str(path), "GRCh38", Settings().max_info_bytes) as reader:
        for variant in reader.variants():
            variant_document(variant)
            count += 1
    return count


def run(path: Path, repeats: int, progress: Progress) -> dict:
    """Time the three paths; returns rates, the ratio, and the raw timings."""
    paths = {"bare": bare, "fields": fields, "ingest": ingest}
    records = bare(path)
    variants = ingest(path)  # also a warm-up: imports, page cache
    times: dict[str, list[float]] = {name: [] for name in paths}
    task = progress.add_task("VCF parse rate", total=repeats * len(paths))
    for _ in range(repeats):
        for name, fn in paths.items():  # interleaved, so drifting machine load hits each path alike
            started = time.perf_counter()
            fn(path)
            times[name].append(time.perf_counter() - started)
            progress.advance(task)
    rates = {name: records / min(runs) for name, runs in times.items()}
    return {
        "records": records,
        "variants": variants,
        "records_per_s": {name: round(rate) for name, rate in rates.items()},
        "seconds": {name: [round(t, 3) for t in runs] for name, runs in times.items()},
        "parse_ratio": round(rates["ingest"] / rates["bare"], 3),
        "parse_ratio_vs_field_reading": round(rates["ingest"] / rates["fields"], 3),
    }
