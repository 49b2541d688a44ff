"""ingest's use cases: one lab message, from raw bytes to stored variants, events and a receipt; and the
retention of raw VCF payloads. They depend only on ports (services.ingest.ports, services.common.ports).

Effects happen in an order that makes redelivery safe (at-least-once with idempotent effects):
variants are upserted, the case is advanced (never backwards), variants-ingested is published and
acknowledged by the broker, the result is stored as done and made the latest version, and only then
is the accepted receipt sent. A redelivered message whose result is already done only re-sends the
receipt. tests/unit/test_ingest_handlers.py replays these orderings with a crash between any two writes.
"""

import asyncio
import base64
import logging
import time
from contextlib import aclosing
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pydantic import ValidationError

from contracts import topics
from contracts.events import (
    DeadLetter,
    IngestReceipt,
    RejectionReason,
    SequencingResult,
    VariantsIngested,
)
from contracts.reasons import RejectionCode
from contracts.rejection import reason
from services.common import metrics
from services.common.keys import result_key
from services.common.logging import correlate
from services.common.ports import CaseRecord, Clock, Effect, Publish
from services.common.settings import Settings
from services.ingest.domain.admission import admit, channel_problem
from services.ingest.domain.lab_message import Intake, read_message
from services.ingest.domain.rejection import VcfRejected
from services.ingest.ports import Document, LabRegistry, LabTokens, ResultStore, VcfFiles, VcfReader

log = logging.getLogger("oncorelay.ingest")

SERVICE = "ingest"
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
    """Handles lab messages with its ports: results, labs, cases, the VCF's files and reader, the publisher."""

    def __init__(self, *, results: ResultStore, labs: LabRegistry, cases: CaseRecord, files: VcfFiles,
                 reader: VcfReader, publish: Publish, settings: Settings, clock: Clock,
                 transient_errors: tuple[type[BaseException], ...]) -> None:
        self.results = results
        self.labs = labs
        self.cases = cases
        self.files = files
        self.reader = reader
        self.publish = publish
        self.settings = settings
        self.clock = clock
        self.transient_errors = transient_errors  # the adapters' outages: retried by the caller, never a rejection
        self.own_topic_labs = settings.own_topic_labs()
        self.topic_labs = {topics.lab_results(lab_id): lab_id for lab_id in self.own_topic_labs}

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
            except self.transient_errors:
                raise
            except Exception as error:  # a bug or an input we did not foresee: keep it, tell the lab, go on
                log.exception("unexpected failure on a lab result", extra={"result_id": intake.result.result_id})
                detail = f"internal error {type(error).__name__}"
                receipt = await self._reject_result(message, intake.result, reason(RejectionCode.PROCESSING_FAILED, detail))
        return receipt

    async def _ingest(self, message: Message, result: SequencingResult) -> IngestReceipt:
        key = result_key(result.result_id, result.result_version)
        lab, latest, site = await asyncio.gather(self.labs.get(result.lab_id),
                                                 self.results.latest_result(result.result_id),
                                                 self.cases.treating_site(result.case_id))
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

        path = await self.files.materialise(result, lab)
        try:
            loading = time.perf_counter()
            try:
                tumour_sample, header, count = await self._store_variants(path, result, key)
            except VcfRejected as rejection:
                raise rejection.without_path(str(path)) from rejection
            metrics.PROCESSING_SECONDS.labels(SERVICE, "store_variants").observe(time.perf_counter() - loading)
            await self.results.save_payload(key, path)
        finally:
            path.unlink(missing_ok=True)

        case = await self.cases.open_case(result.case_id, _case_fields(result), {"treating_site": result.treating_site})
        await self.cases.advance(result.case_id, key, result.published_at,
                                 [("received", ""), ("ingested", f"{count} variants")], actor=SERVICE, case=case)

        now = self.clock()
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
        await self.results.save_result(key, {
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
            "current_therapies": list(result.current_therapies),
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
        await self.results.record_head(result.result_id, result.result_version)
        lab, assay = metrics.lab_labels(result.lab_id, result.assay.name)  # counted once: a repeat returns above
        metrics.LAB_RESULTS.labels(lab, assay, "accepted").inc()
        metrics.LAB_RESULT_VARIANTS.labels(lab, assay).observe(count)
        return await self._accept(message, result, count)

    async def _store_variants(self, path: Path, result: SequencingResult, key: str) -> tuple[str | None, Document, int]:
        """Stream the VCF through the reader into chunk documents; returns (tumour sample, header, count).

        The reader packs the next batch while this one is written; a rejected VCF leaves no chunk behind."""
        count, chunk_no = 0, 0
        async with self.reader.open(path, result) as parsed:
            async with aclosing(parsed.batches()) as batches:
                try:
                    async for counted, chunks in batches:
                        await self.results.save_variant_chunks(key, result.case_id, chunk_no, chunks)
                        count += counted
                        chunk_no += len(chunks)
                except VcfRejected:
                    await self.results.delete_chunks(key, chunk_no)  # nothing of a rejected VCF is kept
                    raise
            return parsed.tumour_sample, parsed.header_summary, count

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
            received_at=self.clock(),
        )
        await self._send(message, f"{result.result_id}@{result.result_version}", receipt)
        return receipt

    async def _send(self, message: Message, key: str, receipt: IngestReceipt) -> None:
        """Keep the receipt (for `oncorelay results`) and send it to the lab: stored first, so a crash between
        the two leaves it sent at the redelivery, never sent but unknown."""
        await self.results.save_receipt(key, receipt.model_dump(mode="json") | {"received_at": receipt.received_at})
        await self.publish(self._receipts_topic(message), receipt.result_id, receipt)

    async def _reject_result(self, message: Message, result: SequencingResult, why: RejectionReason) -> IngestReceipt:
        return await self._reject(
            message, [why], result.result_id, result.lab_id, result.case_id, result.result_version, result.assay.name
        )

    async def _reject(
        self,
        message: Message,
        reasons: list[RejectionReason],
        result_id: str | None,
        lab_id: str | None,
        case_id: str | None,
        result_version: int | None = None,
        assay: str | None = None,
    ) -> IngestReceipt:
        now = self.clock()
        lab, assay_label = metrics.lab_labels(lab_id, assay)
        metrics.LAB_RESULTS.labels(lab, assay_label, "rejected").inc()
        for item in reasons:
            metrics.MESSAGES_REJECTED.labels(SERVICE, item.code.value).inc()
            metrics.LAB_REJECTIONS.labels(lab, item.code.value).inc()
        await self.cases.audit_once([Effect(  # once per lab message, however often it is redelivered
            f"rejected:{message.topic}:{message.partition}:{message.offset}", SERVICE, "result_rejected",
            case_id, None, {"result_id": result_id or message.key, "codes": [r.code.value for r in reasons],
                            "lab_id": lab_id, "assay": assay},
        )])
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
        key = f"{receipt_id}@{result_version}" if result_id and result_version else \
            f"{message.topic}:{message.partition}:{message.offset}"
        await self._send(message, key, receipt)
        log.warning(
            "result rejected",
            extra={"result_id": receipt_id, "reasons": [r.code.value for r in reasons]},
        )
        return receipt


def _case_fields(result: SequencingResult) -> dict:
    return {
        "lab_id": result.lab_id,
        "tumor_type": result.tumor_type,
        "patient_pseudonym": result.patient_pseudonym,
    }


class PayloadRetention:
    """Deletes raw VCF payloads stored longer ago than the configured time, with one audit entry per run.

    Only raw payloads are touched: results, interpretations, cases and the audit trail are the clinical record;
    the raw file is the lab's and can be asked for again."""

    def __init__(self, results: ResultStore, cases: CaseRecord, clock: Clock) -> None:
        self.results = results
        self.cases = cases
        self.clock = clock

    async def run(self, retention_days: float) -> int:
        """Delete raw payloads stored before now - retention_days; returns how many were deleted."""
        cutoff = self.clock() - timedelta(days=retention_days)
        deleted = await self.results.delete_payloads_stored_before(cutoff)
        if deleted:
            await self.cases.audit(SERVICE, "payloads_deleted", None, None,
                                   {"count": deleted, "stored_before": cutoff.isoformat(),
                                    "retention_days": retention_days})
            log.info("expired raw VCF payloads deleted", extra={"count": deleted})
        return deleted


@dataclass(frozen=True)
class Answer:
    """What the lab-facing HTTP door answers: a status and a JSON body."""

    status: int
    body: Document


class LabSubmissions:
    """The HTTP door's use cases: a lab publishes a SequencingResult as its own lab only, and reads only its own
    results' receipts (services.ingest.entrypoints.lab_api)."""

    def __init__(self, tokens: LabTokens, labs: LabRegistry, results: ResultStore, publish: Publish,
                 settings: Settings) -> None:
        self.tokens = tokens
        self.labs = labs
        self.results = results
        self.publish = publish
        self.settings = settings

    async def lab_of(self, token: str) -> str | None:
        return await self.tokens.lab_of(token)

    async def submit(self, lab_id: str, body: bytes) -> Answer:
        """Validate and publish one result to the lab's results topic; 202 with where its receipt will be."""
        try:
            result = SequencingResult.model_validate_json(body)
        except ValidationError as error:
            return Answer(422, {"error": "invalid_result", "message": "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in error.errors()[:10])})
        if result.lab_id != lab_id:
            return Answer(403, {"error": "lab_mismatch", "message": f"this token belongs to {lab_id}; a result of "
                                f"{result.lab_id} must be published with that lab's token"})
        if await self.labs.get(lab_id) is None:
            return Answer(403, {"error": "unknown_lab", "message": f"{lab_id} is not registered with this network"})
        topic = topics.lab_results(lab_id) if lab_id in self.settings.own_topic_labs() else topics.LAB_RESULTS
        await self.publish(topic, result.result_id, result)
        return Answer(202, {"status": "queued", "result_id": result.result_id, "result_version": result.result_version,
                            "receipt": f"/api/v1/results/{result.result_id}"})

    async def receipts(self, lab_id: str, result_id: str) -> Answer:
        """The receipts of one of the lab's results (another lab's answer 404, as if they did not exist)."""
        own = [r for r in await self.results.receipts_of(result_id) if r.get("lab_id") == lab_id]
        if not own:
            return Answer(404, {"error": "not_found", "message": "no such result of your lab (yet: a receipt "
                                "follows within seconds of publishing)"})
        latest = own[-1]
        return Answer(200, {"result_id": result_id, "status": latest["status"],
                            "receipts": [{k: v for k, v in r.items() if k != "_id"} for r in own]})
