"""The `cases` collection: one document per case, with a monotonic `state` and a timeline."""

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from services.common import audit, metrics
from services.common.case_state import order_key


async def upsert_case(db: AsyncDatabase, case_id: str, fields: dict) -> None:
    """Create the case if new; set descriptive fields that belong to the case (not its state)."""
    now = datetime.now(UTC)
    await db.cases.update_one(
        {"_id": case_id},
        {"$setOnInsert": {"created_at": now, "state": "received", "state_order": ""}, "$set": fields},
        upsert=True,
    )


async def advance_case(
    db: AsyncDatabase,
    case_id: str,
    result_key: str,
    published_at: datetime,
    stage: str,
    detail: str = "",
    actor: str | None = None,
) -> bool:
    """Move the case to `stage` unless it is already at a later point; record the step on its timeline.

    Returns True when the state changed. The timeline entry is added once per (result, stage). Every
    applied change is in the audit trail once, by `actor` (default: this process's service), also when
    a crash came between the change and its audit entry and the event is redelivered.
    """
    key = order_key(published_at, stage)
    now = datetime.now(UTC)
    changed = await db.cases.update_one(
        {"_id": case_id, "state_order": {"$lt": key}},
        {"$set": {"state": stage, "state_order": key, "state_result_key": result_key, "updated_at": now}},
    )
    await db.cases.update_one(
        {"_id": case_id, "timeline_keys": {"$ne": f"{result_key}|{stage}"}},
        {
            "$push": {"timeline": {"stage": stage, "result_key": result_key, "at": now, "detail": detail}},
            "$addToSet": {"timeline_keys": f"{result_key}|{stage}"},
        },
    )
    applied = changed.modified_count == 1
    if applied or await db.cases.find_one({"_id": case_id, "state_order": key}, {"_id": 1}) is not None:
        await audit.record_once(
            db, f"case:{case_id}|{result_key}|{stage}", actor or metrics.service_name(), "state_changed", case_id,
            None, {"state": stage, "result_key": result_key, "note": detail},
        )
    return applied
