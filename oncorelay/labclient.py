"""The lab side: turn a VCF and its metadata into a SequencingResult, publish it, await its receipt."""

import asyncio
import base64
import gzip
import hashlib
import json
import shutil
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pysam
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from contracts import topics
from contracts.events import MAX_INLINE_VCF_BASE64_CHARS, IngestReceipt, SequencingResult
from services.common.kafka import aiokafka_options
from services.common.settings import Settings

BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
BGZF_MAGIC = b"\x1f\x8b\x08\x04"  # gzip with the FEXTRA flag, as every BGZF block starts


@dataclass
class ResultMetadata:
    """What the lab states about a result besides the VCF itself (CLI options or a watch sidecar)."""

    lab: str
    case: str
    patient: str
    specimen_id: str
    specimen_type: str
    tumor_type: str
    assay: str
    genome_build: str
    panel_size_mb: float
    treating_site: str
    collected: date
    result_id: str | None = None
    result_version: int = 1
    tumor_only: bool = True
    msi_status: str | None = None
    tmb: float | None = None
    therapies: tuple[str, ...] = ()
    qc: dict | None = None  # ResultQc fields (schema 1.1): tumour_cell_content, median_target_depth, ...
    amplification_min_copy_number: float | None = None  # the assay's copy-number thresholds (schema 1.1)
    deletion_max_copy_number: float | None = None

    @classmethod
    def from_sidecar(cls, path: Path) -> "ResultMetadata":
        """Read a watch-folder sidecar (JSON with the same names as the publish options)."""
        data = json.loads(path.read_text())
        data["collected"] = date.fromisoformat(data["collected"]) if data.get("collected") else date.today()
        data["therapies"] = tuple(data.get("therapies", ()))
        return cls(**data)


class DamagedFile(Exception):
    """The file cannot be recompressed (a gzip that ends early or is corrupt): it is published as it is."""


def as_bgzf(vcf: Path, spool: Path) -> Path:
    """The VCF as a BGZF file: the file itself if it already is one, else a bgzipped copy in `spool`.

    Raises DamagedFile for a plain gzip that is truncated or corrupt (what a cut-off transfer leaves), and
    OSError when the file cannot be read."""
    with vcf.open("rb") as handle:
        head = handle.read(4)
    if head == BGZF_MAGIC:
        if not _ends_with_bgzf_eof(vcf):
            raise DamagedFile(f"{vcf.name} is BGZF-compressed but lacks the end-of-file block that closes every "
                              "complete BGZF file (cut off in transfer?)")
        return vcf
    spool.mkdir(parents=True, exist_ok=True)
    target = spool / f"{vcf.name.removesuffix('.gz').removesuffix('.vcf')}-{uuid.uuid4().hex[:8]}.vcf.gz"
    if head[:2] == b"\x1f\x8b":  # plain gzip: decompress, then bgzip
        plain = target.with_suffix("")
        try:
            with gzip.open(vcf, "rb") as source, plain.open("wb") as out:
                shutil.copyfileobj(source, out)
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            plain.unlink(missing_ok=True)
            why = "it ends before its end marker (cut off in transfer?)" if isinstance(error, EOFError) else \
                f"its compressed data is corrupt ({error})"
            raise DamagedFile(f"{vcf.name} is a gzip file, but {why}") from error
        pysam.tabix_compress(str(plain), str(target), force=True)
        plain.unlink()
    else:
        pysam.tabix_compress(str(vcf), str(target), force=True)
    return target


def _ends_with_bgzf_eof(path: Path) -> bool:
    """The file ends with BGZF's 28-byte end-of-file block (SAM/BAM spec, 4.1.2)."""
    with path.open("rb") as handle:
        handle.seek(0, 2)
        if handle.tell() < len(BGZF_EOF):
            return False
        handle.seek(-len(BGZF_EOF), 2)
        return handle.read() == BGZF_EOF


def build_result(meta: ResultMetadata, bgzf: Path, reference_url_prefix: str | None = None) -> SequencingResult:
    """The SequencingResult for a BGZF VCF: inline when small enough, else by reference."""
    payload = bgzf.read_bytes() if bgzf.stat().st_size * 4 // 3 + 4 <= MAX_INLINE_VCF_BASE64_CHARS else None
    sha256 = _sha256(bgzf)
    if payload is not None:
        vcf = {"kind": "inline", "encoding": "gzip+base64", "data": base64.b64encode(payload).decode(), "sha256": sha256}
    else:
        uri = f"{reference_url_prefix.rstrip('/')}/{bgzf.name}" if reference_url_prefix else bgzf.resolve().as_uri()
        vcf = {"kind": "reference", "uri": uri, "sha256": sha256, "size_bytes": bgzf.stat().st_size}
    qc = {k: v for k, v in (meta.qc or {}).items() if v is not None}
    thresholds = {k: v for k, v in (("amplification_min_copy_number", meta.amplification_min_copy_number),
                                    ("deletion_max_copy_number", meta.deletion_max_copy_number)) if v is not None}
    document = {
        "schema_version": "1.1" if qc or thresholds else "1.0",
        "result_id": meta.result_id or f"{meta.lab}-{meta.specimen_id}-{sha256[:12]}",
        "result_version": meta.result_version,
        "lab_id": meta.lab,
        "case_id": meta.case,
        "treating_site": meta.treating_site,
        "patient_pseudonym": meta.patient,
        "specimen": {"specimen_id": meta.specimen_id, "type": meta.specimen_type, "collected_on": meta.collected.isoformat()},
        "tumor_type": meta.tumor_type,
        "assay": {"name": meta.assay, "genome_build": meta.genome_build, "panel_size_mb": meta.panel_size_mb,
                  "tumor_only": meta.tumor_only, **thresholds},
        "msi_status": meta.msi_status,
        "tmb_reported": meta.tmb,
        "current_therapies": list(meta.therapies),
        **({"qc": qc} if qc else {}),
        "vcf": vcf,
        "published_at": datetime.now(UTC).isoformat(),
    }
    return SequencingResult.model_validate_json(json.dumps(document))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def results_topic(settings: Settings, lab_id: str) -> str:
    """Where a lab publishes: its own topic with ONCORELAY_PUBLISH_OWN_TOPIC, else the shared one."""
    return topics.lab_results(lab_id) if settings.publish_own_topic else topics.LAB_RESULTS


def receipts_topic(settings: Settings, lab_id: str) -> str:
    """Where a lab's receipts arrive (the channel its results went by)."""
    return topics.lab_receipts(lab_id) if settings.publish_own_topic else topics.LAB_RECEIPTS


class ReceiptWatcher:
    """Reads a lab's receipts from the end of its receipts topic; start it before publishing."""

    def __init__(self, settings: Settings, lab_id: str) -> None:
        # No consumer group: every partition is assigned to this client, starting at the end.
        self.consumer = AIOKafkaConsumer(
            receipts_topic(settings, lab_id), **aiokafka_options(settings), group_id=None,
            enable_auto_commit=False, auto_offset_reset="latest",
        )

    async def start(self) -> None:
        await self.consumer.start()
        async with asyncio.timeout(30):
            while not self.consumer.assignment():
                await asyncio.sleep(0.05)
        for partition in self.consumer.assignment():  # fix the end offsets before anything is published
            await self.consumer.position(partition)

    async def wait_for(self, result_id: str, result_version: int, timeout_s: float) -> IngestReceipt:
        """The receipt for one result; raises TimeoutError when none arrives in time."""
        async with asyncio.timeout(timeout_s):
            async for record in self.consumer:
                receipt = IngestReceipt.model_validate_json(record.value)
                if receipt.result_id == result_id and receipt.result_version in (result_version, None):
                    return receipt
        raise TimeoutError  # unreachable: the consumer iterates until cancelled

    async def stop(self) -> None:
        await self.consumer.stop()


async def publish(settings: Settings, results: list[SequencingResult]) -> None:
    """Publish results (to oncorelay.lab.results.v1, or each lab's own topic) and wait until the broker has them."""
    producer = AIOKafkaProducer(**aiokafka_options(settings), max_request_size=2 * 1024 * 1024,
                                acks="all", enable_idempotence=True)
    try:
        await producer.start()
        for result in results:
            await producer.send_and_wait(
                results_topic(settings, result.lab_id), result.model_dump_json().encode(),
                key=result.result_id.encode()
            )
    finally:
        await producer.stop()
