"""The case record in MongoDB (the `cases` and `audit` collections): the one adapter of the CaseRecord port.

`cases`: one document per case, with a monotonic `state` (services.common.case_state), its `timeline` and the
`timeline_keys` that keep each (result, stage) on it once. `audit`: append-only {at, actor, action, case_id,
alert_id, detail}; oncorelay only ever inserts into it, and the payload retention job leaves it alone. An effect
that may be redone after a crash or a redelivered event is recorded with `audit_once`: its `_id` is derived from
the effect, so it is recorded once however often it is retried.
"""

from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from services.common import metrics
from services.common.case_state import order_key, stage_of, timeline_entry, timeline_key
from services.common.ports import Document, Effect

DUPLICATE_KEY = 11000


def audit_entry(actor: str, action: str, case_id: str | None, alert_id: str | None, detail: dict[str, Any]) -> Document:
    """One audit document (without its _id)."""
    return {"at": datetime.now(UTC), "actor": actor, "action": action, "case_id": case_id,
            "alert_id": alert_id, "detail": detail}


class MongoCaseRecord:
    """Cases, their timelines and the audit trail in MongoDB (or FerretDB)."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db

    async def open_case(self, case_id: str, fields: Document, on_insert: Document | None = None) -> Document:
        """Create the case if new; set descriptive fields that belong to the case (not its state), and
        `on_insert` fields (such as its treating site) only when the case is created.

        Returns the case as stored afterwards (callers pass it on to `advance`, saving a read)."""
        now = datetime.now(UTC)
        return await self.db.cases.find_one_and_update(
            {"_id": case_id},
            {"$setOnInsert": {"created_at": now, "state": "received", "state_order": "", **(on_insert or {})},
             "$set": fields},
            upsert=True, return_document=ReturnDocument.AFTER,
        )

    async def treating_site(self, case_id: str) -> str | None:
        """The treating site of an existing case (None: no such case)."""
        case = await self.db.cases.find_one({"_id": case_id}, {"treating_site": 1})
        return case.get("treating_site") if case else None

    async def transfer(self, case_id: str, site_id: str, actor: str, note: str) -> str | None:
        """Move a case, and its alerts, to another treating site (audited); returns the site it was at, None when
        there is no such case. The new site's team sees the case from then on, the old one no longer does."""
        before = await self.db.cases.find_one_and_update(
            {"_id": case_id}, {"$set": {"treating_site": site_id, "updated_at": datetime.now(UTC)}},
            return_document=ReturnDocument.BEFORE)
        if before is None:
            return None
        await self.db.alerts.update_many({"case_id": case_id}, {"$set": {"treating_site": site_id}})
        await self.audit(actor, "case_transferred", case_id, None,
                         {"from_site": before.get("treating_site"), "to_site": site_id, "note": note})
        return before.get("treating_site")

    async def advance(
        self,
        case_id: str,
        result_key: str,
        published_at: datetime,
        steps: list[tuple[str, str]],
        actor: str | None = None,
        case: Document | None = None,
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
            # the usual call: the case is behind `key` and none of `steps` is recorded
            current = await self.db.cases.find_one_and_update(
                {"_id": case_id, "state_order": {"$lt": key},
                 "timeline_keys": {"$nin": [timeline_key(result_key, stage) for stage, _ in steps]}},
                _case_update(result_key, key, final_stage, steps, True, now), return_document=ReturnDocument.AFTER)
            if current is None:
                case = await self.db.cases.find_one({"_id": case_id},
                                                    {"state_order": 1, "state_from": 1, "timeline_keys": 1})
                if case is None:
                    return False
        advancing = current is not None or key > case.get("state_order", "")
        if current is None:
            recorded = set(case.get("timeline_keys", []))
            missing = [(stage, detail) for stage, detail in steps if timeline_key(result_key, stage) not in recorded]
            current = case
            if advancing or missing:  # no projection: FerretDB does not implement findAndModify's `fields`
                current = await self.db.cases.find_one_and_update(
                    {"_id": case_id}, _case_update(result_key, key, final_stage, missing, advancing, now),
                    return_document=ReturnDocument.AFTER)
        if current["state_order"] and current.get("state_from") != current["state_order"]:
            winner, winner_result = stage_of(current["state_order"])
            await self.db.cases.update_one({"_id": case_id}, {"$set": {
                "state": winner, "state_result_key": winner_result, "state_from": current["state_order"],
            }})
        if current["state_order"] == key:  # applied now, or by an earlier attempt whose audit entries may be missing
            await self.audit_once([
                Effect(f"case:{case_id}|{result_key}|{stage}", actor or metrics.service_name(), "state_changed",
                       case_id, None, {"state": stage, "result_key": result_key, "note": detail})
                for stage, detail in steps
            ])
        return advancing and current["state_order"] == key

    async def add_step(self, case_id: str, result_key: str, step: str, detail: str) -> None:
        """Put a step that is not a case state (e.g. 'delivered') on the case's timeline, once per result.

        Same entry and de-duplication key as `advance`; one conditional write (our FerretDB finds it by `_id`,
        infra/ferretdb/patches/0003). No case, no entry: nothing is created.
        """
        key = timeline_key(result_key, step)
        await self.db.cases.update_one(
            {"_id": case_id, "timeline_keys": {"$ne": key}},
            {"$push": {"timeline": timeline_entry(result_key, step, datetime.now(UTC), detail)},
             "$addToSet": {"timeline_keys": key}},
        )

    async def audit(self, actor: str, action: str, case_id: str | None, alert_id: str | None,
                    detail: dict[str, Any]) -> None:
        """Append one entry (each call is a new entry)."""
        await self.db.audit.insert_one(audit_entry(actor, action, case_id, alert_id, detail))

    async def audit_once(self, effects: list[Effect]) -> None:
        """Append each effect's entry unless it is already recorded (by an earlier attempt: left as it is), all in
        one round trip."""
        documents = [{"_id": e.effect_id, **audit_entry(e.actor, e.action, e.case_id, e.alert_id, e.detail)}
                     for e in effects]
        try:
            await self.db.audit.insert_many(documents, ordered=False)
        except BulkWriteError as error:
            if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
                raise


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
