"""ingest's handling of one lab message, from raw bytes to stored variants, events and a receipt.

Effects happen in an order that makes redelivery safe (at-least-once with idempotent effects):
variants are upserted, the case is advanced (never backwards), variants-ingested is published and
acknowledged by the broker, the result is stored as done and made the latest version, and only then
is the accepted receipt sent. A redelivered message whose result is already done only re-sends the
receipt.
"""

import asyncio
import base64
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

from pymongo.asynchronous.database import AsyncDatabase

from contracts import topics
from contracts.events import (
    DeadLetter,
    IngestReceipt,
    InlineVcf,
    RejectionReason,
    SequencingResult,
    VariantsIngested,
)
from contracts.reasons import RejectionCode
from contracts.registry import Lab
from contracts.rejection import reason
from services.common import audit, metrics, packed
from services.common.cases import advance_case_through, case_site, upsert_case
from services.common.keys import VARIANTS_PER_CHUNK, result_key
from services.common.labs import LabDirectory
from services.common.logging import correlate
from services.common.netguard import AddressPolicy
from services.common.offload import runner
from services.common.runtime import TRANSIENT_ERRORS, Publish
from services.common.settings import Settings
from services.ingest.adapters import result_store as store
from services.ingest.adapters.reference_sources import parse_sources
from services.ingest.adapters.vcf.limits import LimitCheck, VcfLimits
from services.ingest.adapters.vcf.loader import open_vcf, variant_document
from services.ingest.adapters.vcf_source import fetch_reference, write_inline
from services.ingest.domain.admission import admit, channel_problem
from services.ingest.domain.lab_message import Intake, read_message
from services.ingest.domain.rejection import VcfRejected

log = logging.getLogger("oncorelay.ingest")

SERVICE = "ingest"
# Chunks read, encoded and written per database round trip (bounds ingest's memory on large VCFs).
CHUNKS_PER_BATCH = 5
# A VCF file up to this size (a panel: about 500 variants are 90 KB gzipped) is parsed on the event loop, a
# larger one in a worker thread (services.common.offload).
SMALL_VCF_BYTES = 256 * 1024
# ... and holds up to this much text (a 500-variant panel: about 0.5 MB).
SMALL_VCF_TEXT_BYTES = 2 * 1024 * 1024
# Largest lab message accepted (the broker is configured a little above this).
MAX_MESSAGE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Message:
    """A raw Kafka record from oncorelay.lab.results.v1 or a lab's own results topic."""

    value: bytes
    key: str | None
    partition: int
    offset: int
    topic: str = topics.LAB_RESULTS


class Ingest:
    """Processes lab messages against a database and a publisher."""

    def __init__(self, db: AsyncDatabase, publish: Publish, settings: Settings) -> None:
        self.db = db
        self.publish = publish
        self.settings = settings
        self.labs = LabDirectory(db)
        self.own_topic_labs = settings.own_topic_labs()
        self.topic_labs = {topics.lab_results(lab_id): lab_id for lab_id in self.own_topic_labs}
        self.reference_policy = AddressPolicy.parse(settings.reference_allowed_networks)
        self.work_dir = str(Path(settings.data_dir) / "ingest" / "incoming")

    async def handle(self, message: Message) -> IngestReceipt:
        """Process one message; returns the receipt that was sent."""
        started = time.perf_counter()
        intake = read_message(message.value, MAX_MESSAGE_BYTES)
        with correlate(result_id=intake.result_id or message.key, case_id=intake.case_id):
            receipt = await self._handle(message, intake)
        metrics.PROCESSING_SECONDS.labels(SERVICE, "ingest").observe(time.perf_counter() - started)
        return receipt

    async def set_aside(self, message: Message, why: Exception) -> IngestReceipt:
        """Reject a message without handling it (it stopped the service on every attempt: services.common.attempts)."""
        intake = read_message(message.value, MAX_MESSAGE_BYTES)  # bounded JSON: only its ids are used
        code = getattr(why, "code", RejectionCode.PROCESSING_FAILED)
        with correlate(result_id=intake.result_id or message.key, case_id=intake.case_id):
            return await self._reject(message, [reason(code, str(why))], intake.result_id, intake.lab_id,
                                      intake.case_id, intake.result.result_version if intake.result else None)

    async def _handle(self, message: Message, intake: Intake) -> IngestReceipt:
        if intake.result is None:
            receipt = await self._reject(message, intake.reasons, intake.result_id, intake.lab_id, intake.case_id)
        else:
            try:
                receipt = await self._ingest(message, intake.result)
            except VcfRejected as rejection:
                receipt = await self._reject_result(message, intake.result, reason(rejection.code, rejection.message))
            except TRANSIENT_ERRORS:
                raise
            except Exception as error:  # a bug or an input we did not foresee: keep it, tell the lab, go on
                log.exception("unexpected failure on a lab result", extra={"result_id": intake.result.result_id})
                detail = f"internal error {type(error).__name__}"
                receipt = await self._reject_result(message, intake.result, reason(RejectionCode.PROCESSING_FAILED, detail))
        return receipt

    async def _ingest(self, message: Message, result: SequencingResult) -> IngestReceipt:
        key = result_key(result.result_id, result.result_version)
        lab, latest, site = await asyncio.gather(self.labs.get(result.lab_id),
                                                 store.latest_result(self.db, result.result_id),
                                                 case_site(self.db, result.case_id))
        refused = (channel_problem(result.lab_id, self.topic_labs.get(message.topic), self.own_topic_labs)
                   or admit(result, lab, self.settings.open_enrolment, latest["lab_id"] if latest else None, site))
        if refused is not None:
            return await self._reject_result(message, result, refused)
        if latest is not None:
            if latest["result_version"] > result.result_version:
                raise VcfRejected(
                    RejectionCode.STALE_VERSION,
                    f"result_version {latest['result_version']} of {result.result_id} is already accepted",
                )
            if latest["_id"] == key and latest["vcf_sha256"] != result.vcf.sha256:
                raise VcfRejected(
                    RejectionCode.STALE_VERSION,
                    f"result_version {result.result_version} was already accepted with a different VCF; "
                    "send an amended result with a higher result_version",
                )
            if latest["_id"] == key:  # a result is stored only once done, so this one was: repeat the receipt
                log.info("result already ingested; re-sending its receipt", extra={"result_key": key})
                return await self._accept(message, result, latest["variant_count"])

        path = await self._materialise(result, lab)
        try:
            loading = time.perf_counter()
            try:
                tumour_sample, header, count = await self._store_variants(path, result, key)
            except VcfRejected as rejection:
                raise rejection.without_path(str(path)) from rejection
            metrics.PROCESSING_SECONDS.labels(SERVICE, "store_variants").observe(time.perf_counter() - loading)
            await store.save_payload(self.db, key, path)
        finally:
            path.unlink(missing_ok=True)

        case = await upsert_case(self.db, result.case_id, _case_fields(result), {"treating_site": result.treating_site})
        await advance_case_through(self.db, result.case_id, key, result.published_at,
                                   [("received", ""), ("ingested", f"{count} variants")], actor=SERVICE, case=case)

        now = datetime.now(UTC)
        await self.publish(topics.VARIANTS_INGESTED, result.case_id, VariantsIngested(
            result_key=key,
            result_id=result.result_id,
            result_version=result.result_version,
            lab_id=result.lab_id,
            case_id=result.case_id,
            treating_site=result.treating_site,
            patient_pseudonym=result.patient_pseudonym,
            specimen=result.specimen,
            tumor_type=result.tumor_type,
            assay=result.assay,
            msi_status=result.msi_status,
            tmb_reported=result.tmb_reported,
            qc=result.qc,
            current_therapies=list(result.current_therapies),
            tumour_sample=tumour_sample,
            variant_count=count,
            published_at=result.published_at,
            ingested_at=now,
        ))
        await store.save_result(self.db, key, {
            "result_id": result.result_id,
            "result_version": result.result_version,
            "lab_id": result.lab_id,
            "case_id": result.case_id,
            "patient_pseudonym": result.patient_pseudonym,
            "specimen": result.specimen.model_dump(mode="json"),
            "tumor_type": result.tumor_type,
            "assay": result.assay.model_dump(mode="json"),
            "msi_status": result.msi_status,
            "tmb_reported": result.tmb_reported,
            "qc": result.qc.model_dump() if result.qc else None,
            "vcf_kind": result.vcf.kind,
            "vcf_sha256": result.vcf.sha256,
            "vcf_header": header,
            "tumour_sample": tumour_sample,
            "variant_count": count,
            "status": "accepted",
            "published_at": result.published_at,
            "ingested_at": now,
        })
        await store.record_head(self.db, result.result_id, result.result_version)
        return await self._accept(message, result, count)

    async def _materialise(self, result: SequencingResult, lab: Lab | None) -> Path:
        if isinstance(result.vcf, InlineVcf):
            small = len(result.vcf.data) * 3 // 4 <= SMALL_VCF_BYTES  # base64: 4 characters per 3 bytes
            return await runner(small)(write_inline, result.vcf, self.work_dir)
        sources = [*(lab.reference_sources if lab else []), *parse_sources(self.settings.reference_sources)]
        return await fetch_reference(result.vcf, self.work_dir, self.settings.max_vcf_bytes,
                                     self.settings.reference_timeout_s, sources, self.reference_policy)

    async def _check_limits(self, path: Path, small_file: bool, inline: bool) -> int:
        """The VCF's decompressed size, once within the limits (services.ingest.adapters.vcf.limits; raises VcfRejected).
        An inline VCF has its own, lower decompressed-size limit: a few hundred kB never hold a genome.

        A small file's first SMALL_VCF_TEXT_BYTES of text are read on the event loop; whatever follows, in a
        worker thread (a 280 kB file can hold 68 MB of text)."""
        on_loop = SMALL_VCF_TEXT_BYTES if small_file else 0
        limits = VcfLimits.from_settings(self.settings)
        if inline:
            limits = replace(limits, decompressed_bytes=min(limits.decompressed_bytes,
                                                            self.settings.max_inline_decompressed_bytes))
        with LimitCheck(str(path), limits) as check:
            if not check.run(until_bytes=on_loop):
                await asyncio.to_thread(check.run)
            return check.text_bytes

    async def _store_variants(self, path: Path, result: SequencingResult, key: str) -> tuple[str | None, dict, int]:
        """Stream the VCF through the loader into chunk documents; returns (tumour sample, header, count).

        The next batch is read and packed (in a thread, unless the VCF is small) while the previous one is
        written, so parsing and database writes overlap; a rejected VCF leaves no chunk behind.
        """
        small_file = path.stat().st_size <= SMALL_VCF_BYTES
        text_bytes = await self._check_limits(path, small_file, isinstance(result.vcf, InlineVcf))
        run = runner(small_file and text_bytes <= SMALL_VCF_TEXT_BYTES)
        reader_cm = open_vcf(str(path), result.assay.genome_build, self.settings.max_info_bytes)
        reader = await run(reader_cm.__enter__)
        variants = reader.variants()
        reading = asyncio.ensure_future(run(_take_chunks, variants, CHUNKS_PER_BATCH))
        count, chunk_no = 0, 0
        try:
            while True:
                try:
                    counted, chunks = await reading
                except VcfRejected:
                    await store.delete_chunks(self.db, key, chunk_no)  # nothing of a rejected VCF is kept
                    raise
                if not chunks:
                    break
                reading = asyncio.ensure_future(run(_take_chunks, variants, CHUNKS_PER_BATCH))
                await store.save_variant_chunks(self.db, key, result.case_id, chunk_no, chunks)
                count += counted
                chunk_no += len(chunks)
            return reader.tumour_sample, reader.header_summary, count
        finally:
            if not reading.done():  # a failed write: let the reading thread finish before the file is closed
                await asyncio.wait([reading])
            if reading.done() and not reading.cancelled():
                reading.exception()  # retrieved, so an error of an abandoned read is not reported as unhandled
            await run(reader_cm.__exit__, None, None, None)

    def _receipts_topic(self, message: Message) -> str:
        """Receipts go back on the channel the result came by: a lab's own topic, or the shared one."""
        lab_id = self.topic_labs.get(message.topic)
        return topics.lab_receipts(lab_id) if lab_id else topics.LAB_RECEIPTS

    async def _accept(self, message: Message, result: SequencingResult, count: int) -> IngestReceipt:
        receipt = IngestReceipt(
            result_id=result.result_id,
            result_version=result.result_version,
            lab_id=result.lab_id,
            case_id=result.case_id,
            status="accepted",
            message=f"Accepted {count} variants of result {result.result_id} (version {result.result_version}).",
            variant_count=count,
            received_at=datetime.now(UTC),
        )
        await self.publish(self._receipts_topic(message), result.result_id, receipt)
        return receipt

    async def _reject_result(self, message: Message, result: SequencingResult, why: RejectionReason) -> IngestReceipt:
        return await self._reject(
            message, [why], result.result_id, result.lab_id, result.case_id, result.result_version
        )

    async def _reject(
        self,
        message: Message,
        reasons: list[RejectionReason],
        result_id: str | None,
        lab_id: str | None,
        case_id: str | None,
        result_version: int | None = None,
    ) -> IngestReceipt:
        now = datetime.now(UTC)
        for item in reasons:
            metrics.MESSAGES_REJECTED.labels(SERVICE, item.code.value).inc()
        await audit.record_once(  # once per lab message, however often it is redelivered
            self.db, f"rejected:{message.topic}:{message.partition}:{message.offset}", SERVICE, "result_rejected",
            case_id, None, {"result_id": result_id or message.key, "codes": [r.code.value for r in reasons]},
        )
        await self.publish(topics.LAB_RESULTS_DLQ, message.key or result_id or "", DeadLetter(
            source_topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=message.key,
            # An oversized message is kept up to the limit (its reason gives the full size): whole, its base64
            # would exceed the broker's and producer's record size and the DLQ record could never be written.
            original_base64=base64.b64encode(message.value[:MAX_MESSAGE_BYTES]).decode("ascii"),
            reasons=reasons,
            rejected_at=now,
        ))
        receipt_id = result_id or message.key or f"unidentified-{message.partition}-{message.offset}"
        receipt = IngestReceipt(
            result_id=receipt_id,
            result_version=result_version,
            lab_id=lab_id,
            case_id=case_id,
            status="rejected",
            reasons=reasons,
            message=f"Rejected result {receipt_id}: {reasons[0].message}",
            received_at=now,
        )
        await self.publish(self._receipts_topic(message), receipt_id, receipt)
        log.warning(
            "result rejected",
            extra={"result_id": receipt_id, "reasons": [r.code.value for r in reasons]},
        )
        return receipt


def _take_chunks(variants: Iterator, max_chunks: int) -> tuple[int, list[bytes]]:
    """Read up to `max_chunks` chunks of variants and pack them; returns (variants read, chunks)."""
    count, chunks = 0, []
    while len(chunks) < max_chunks:
        documents = [variant_document(variant) for variant in islice(variants, VARIANTS_PER_CHUNK)]
        if not documents:
            break
        count += len(documents)
        chunks.append(packed.pack(documents))
    return count, chunks


def _case_fields(result: SequencingResult) -> dict:
    return {
        "lab_id": result.lab_id,
        "tumor_type": result.tumor_type,
        "patient_pseudonym": result.patient_pseudonym,
    }
