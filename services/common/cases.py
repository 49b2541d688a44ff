"""The `cases` collection: one document per case, with a monotonic `state` and a timeline."""

from datetime import UTC, datetime

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from services.common import audit, metrics
from services.common.case_state import order_key, stage_of


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

    Returns True when this call moved the state. The timeline entry is added once per (result, stage).
    Every applied change is in the audit trail once, by `actor` (default: this process's service), also
    when a crash came between the change and its audit entry and the event is redelivered.

    Every operation filters on `_id` alone (FerretDB/SQLite scans the collection for anything else):
    the case is read, then `state_order` only ever grows (`$max`, atomic on MongoDB), and the
    readable `state` fields are written with it. Should a concurrent writer of a lower key land its
    `state` fields after ours, the read-back sees `state_from` differ from `state_order` and
    rewrites them from the highest key (which names its stage and result).
    """
    key = order_key(published_at, stage, result_key)
    case = await db.cases.find_one({"_id": case_id}, {"state_order": 1, "state_from": 1, "timeline_keys": 1})
    if case is None:
        return False
    now = datetime.now(UTC)
    update: dict = {}
    advancing = key > case.get("state_order", "")
    if advancing:
        update["$max"] = {"state_order": key}
        update["$set"] = {"state": stage, "state_result_key": result_key, "state_from": key, "updated_at": now}
    timeline_key = f"{result_key}|{stage}"
    if timeline_key not in case.get("timeline_keys", []):
        update["$push"] = {"timeline": {"stage": stage, "result_key": result_key, "at": now, "detail": detail}}
        update["$addToSet"] = {"timeline_keys": timeline_key}
    current = case
    if update:  # no projection: FerretDB does not implement findAndModify's `fields`
        current = await db.cases.find_one_and_update({"_id": case_id}, update, return_document=ReturnDocument.AFTER)
    if current["state_order"] and current.get("state_from") != current["state_order"]:
        winner, winner_result = stage_of(current["state_order"])
        await db.cases.update_one({"_id": case_id}, {"$set": {
            "state": winner, "state_result_key": winner_result, "state_from": current["state_order"],
        }})
    if current["state_order"] == key:  # applied now, or by an earlier attempt whose audit entry may be missing
        await audit.record_once(
            db, f"case:{case_id}|{result_key}|{stage}", actor or metrics.service_name(), "state_changed", case_id,
            None, {"state": stage, "result_key": result_key, "note": detail},
        )
    return advancing and current["state_order"] == key
