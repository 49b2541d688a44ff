"""The `cases` collection: one document per case, with a monotonic `state` and a timeline."""

from datetime import UTC, datetime

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from services.common import audit, metrics
from services.common.case_state import order_key, stage_of


def timeline_key(result_key: str, stage: str) -> str:
    """What makes a timeline entry unique: one per (result, stage)."""
    return f"{result_key}|{stage}"


def timeline_entry(result_key: str, stage: str, at: datetime, detail: str) -> dict:
    """One entry of a case's timeline."""
    return {"stage": stage, "result_key": result_key, "at": at, "detail": detail}


async def upsert_case(db: AsyncDatabase, case_id: str, fields: dict, on_insert: dict | None = None) -> dict:
    """Create the case if new; set descriptive fields that belong to the case (not its state), and
    `on_insert` fields (such as its treating site) only when the case is created.

    Returns the case as stored afterwards (callers pass it on to `advance_case`, saving a read)."""
    now = datetime.now(UTC)
    return await db.cases.find_one_and_update(
        {"_id": case_id},
        {"$setOnInsert": {"created_at": now, "state": "received", "state_order": "", **(on_insert or {})},
         "$set": fields},
        upsert=True, return_document=ReturnDocument.AFTER,
    )


async def case_site(db: AsyncDatabase, case_id: str) -> str | None:
    """The treating site of an existing case (None: no such case)."""
    case = await db.cases.find_one({"_id": case_id}, {"treating_site": 1})
    return case.get("treating_site") if case else None


async def transfer_case(db: AsyncDatabase, case_id: str, site_id: str, actor: str, note: str) -> str | None:
    """Move a case, and its alerts, to another treating site (audited); returns the site it was at, None when
    there is no such case. The new site's team sees the case from then on, the old one no longer does."""
    before = await db.cases.find_one_and_update(
        {"_id": case_id}, {"$set": {"treating_site": site_id, "updated_at": datetime.now(UTC)}},
        return_document=ReturnDocument.BEFORE)
    if before is None:
        return None
    await db.alerts.update_many({"case_id": case_id}, {"$set": {"treating_site": site_id}})
    await audit.record(db, actor, "case_transferred", case_id, None,
                       {"from_site": before.get("treating_site"), "to_site": site_id, "note": note})
    return before.get("treating_site")


async def advance_case(
    db: AsyncDatabase,
    case_id: str,
    result_key: str,
    published_at: datetime,
    stage: str,
    detail: str = "",
    actor: str | None = None,
) -> bool:
    """Move the case to `stage` unless it is already at a later point (see `advance_case_through`)."""
    return await advance_case_through(db, case_id, result_key, published_at, [(stage, detail)], actor)


async def advance_case_through(
    db: AsyncDatabase,
    case_id: str,
    result_key: str,
    published_at: datetime,
    steps: list[tuple[str, str]],
    actor: str | None = None,
    case: dict | None = None,
) -> bool:
    """Move the case through `steps` ((stage, detail), in stage order) to the last one, unless it is already at
    a later point; each step is recorded on its timeline once per (result, stage).

    Returns True when this call moved the state. Every applied step is in the audit trail once, by `actor`
    (default: this process's service), also when a crash came between the change and its audit entries and
    the event is redelivered. `case` is the case document if the caller has just read or written it.

    Every operation finds the case by `_id` (the only filter FerretDB's SQLite backend looks up rather than
    scans; our patch 0003 keeps that when other conditions sit beside it). Without `case`, the usual call (the
    case is behind `key` and has none of these steps) is one conditional write; otherwise the case is read,
    then `state_order` only ever grows (`$max`, atomic on MongoDB), and the readable `state` fields are
    written with it. Should a concurrent writer of a lower key land its `state` fields after ours, the
    read-back sees `state_from` differ from `state_order` and rewrites them from the highest key (which
    names its stage and result).
    """
    final_stage = steps[-1][0]
    key = order_key(published_at, final_stage, result_key)
    now = datetime.now(UTC)
    current = None  # the case after this call's write, once there was one
    if case is None:
        current = await db.cases.find_one_and_update(  # the usual call: behind `key`, none of `steps` recorded
            {"_id": case_id, "state_order": {"$lt": key},
             "timeline_keys": {"$nin": [timeline_key(result_key, stage) for stage, _ in steps]}},
            _case_update(result_key, key, final_stage, steps, True, now), return_document=ReturnDocument.AFTER)
        if current is None:
            case = await db.cases.find_one({"_id": case_id}, {"state_order": 1, "state_from": 1, "timeline_keys": 1})
            if case is None:
                return False
    advancing = current is not None or key > case.get("state_order", "")
    if current is None:
        recorded = set(case.get("timeline_keys", []))
        missing = [(stage, detail) for stage, detail in steps if timeline_key(result_key, stage) not in recorded]
        current = case
        if advancing or missing:  # no projection: FerretDB does not implement findAndModify's `fields`
            current = await db.cases.find_one_and_update(
                {"_id": case_id}, _case_update(result_key, key, final_stage, missing, advancing, now),
                return_document=ReturnDocument.AFTER)
    if current["state_order"] and current.get("state_from") != current["state_order"]:
        winner, winner_result = stage_of(current["state_order"])
        await db.cases.update_one({"_id": case_id}, {"$set": {
            "state": winner, "state_result_key": winner_result, "state_from": current["state_order"],
        }})
    if current["state_order"] == key:  # applied now, or by an earlier attempt whose audit entries may be missing
        await audit.record_each_once(db, [
            audit.Effect(f"case:{case_id}|{result_key}|{stage}", actor or metrics.service_name(), "state_changed",
                         case_id, None, {"state": stage, "result_key": result_key, "note": detail})
            for stage, detail in steps
        ])
    return advancing and current["state_order"] == key


def _case_update(result_key: str, key: str, final_stage: str, missing: list[tuple[str, str]], advancing: bool,
                 now: datetime) -> dict:
    """The update that moves a case to `key` (if `advancing`) and puts the `missing` steps on its timeline."""
    update: dict = {}
    if advancing:
        update["$max"] = {"state_order": key}
        update["$set"] = {"state": final_stage, "state_result_key": result_key, "state_from": key, "updated_at": now}
    if missing:
        update["$push"] = {"timeline": {"$each": [
            timeline_entry(result_key, stage, now, detail) for stage, detail in missing]}}
        update["$addToSet"] = {"timeline_keys": {"$each": [timeline_key(result_key, stage) for stage, _ in missing]}}
    return update
