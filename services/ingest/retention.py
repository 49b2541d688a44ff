"""Retention of raw VCF payloads: delete those stored longer ago than the configured time.

Only `vcf_payloads` is touched. Results (variant calls), interpretations, cases and the audit trail are
kept: they are the clinical record; the raw file is the lab's and can be asked for again. Each run
leaves one audit entry with the number of payloads deleted (no patient data).
"""

import logging
from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from services.common import audit

log = logging.getLogger("oncorelay.ingest")


async def delete_expired_payloads(db: AsyncDatabase, retention_days: float, now: datetime | None = None) -> int:
    """Delete raw payloads stored before now - retention_days; returns how many were deleted."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    deleted = (await db.vcf_payloads.delete_many({"stored_at": {"$lt": cutoff}})).deleted_count
    if deleted:
        await audit.record(db, "ingest", "payloads_deleted", None, None,
                           {"count": deleted, "stored_before": cutoff.isoformat(), "retention_days": retention_days})
        log.info("expired raw VCF payloads deleted", extra={"count": deleted})
    return deleted
