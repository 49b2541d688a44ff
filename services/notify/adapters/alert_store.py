"""notify's MongoDB reads and writes: alerts, deliveries, the teams' event streams and the case views (adapter).

The functions take the database; the classes at the end are the ports (services.notify.ports: AlertStore,
DeliveryStore, StreamStore, CaseViews) over them. The case timeline and the audit trail are the shared case
record (services.common.adapters.case_record); annotate's interpretations are read through
contracts.read_models.

Collections:
- `alerts` {_id: alert_id, ...the MtbReviewRequired fields, status (open|acknowledged|decided),
  delivery_status (pending|delivered|failed), routed, escalation_level, escalation_due_at}
- `deliveries` {_id: "<alert_id>|<subscription or contact>", alert_id, case_id, team_id, channel,
  target, kind (alert|escalation), event_number, status (pending|sending|delivered|failed),
  attempt_count, attempts[], next_attempt_at, lease_until}
- `stream_events` {_id: "<team>:<seq>", team_id, seq, event, data, dedupe, at}, `stream_dedupe`
  {_id: "<team>|<dedupe>", seq} (the number reserved for an event) and `counters`
- `audit` (append-only) {at, actor, action, case_id, alert_id, detail}
- `escalations` {_id: "<alert_id>|<level>", ...}, `decisions` {_id: decision_id, ...}, `decision_drafts`
  {_id: alert_id, ...the draft, drafted_by, drafted_at} (four eyes: signed off by another member), `followups`
  {_id: decision_id, alert_id, case_id, team_id, treating_site, due_at, status (pending|answered), ...the answer}
- `migrations` {_id, at}: one-off data changes already done on this database
- `escalation_queue` {_id: alert_id, due_at}: the alerts that may still escalate, so the escalation timer
  reads this small collection, not every alert ever raised (FerretDB/SQLite scans for any filter but `_id`:
  measured 390 ms of its CPU per check over 4,000 alerts, every 5 s). The alert stays the truth: an entry
  whose alert is no longer open or due is dropped or moved when it is looked at.
"""

from datetime import UTC, datetime, timedelta

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from contracts.read_models import InterpretationSummary, StoredInterpretation, StoredInterpretationDocument
from services.common import packed

INDEXES: dict[str, list[list[tuple[str, int]]]] = {
    "alerts": [[("case_id", 1)], [("treating_site", 1), ("status", 1)], [("status", 1), ("escalation_due_at", 1)]],
    "deliveries": [[("alert_id", 1)], [("status", 1), ("next_attempt_at", 1)]],
    "stream_events": [[("team_id", 1), ("seq", 1)]],
    "subscriptions": [[("team_id", 1)], [("active", 1)]],
    "team_tokens": [[("team_id", 1)]],
    "teams": [[("site_ids", 1)]],
    "audit": [[("case_id", 1), ("at", 1)]],
    "escalations": [[("alert_id", 1)]],
    "escalation_queue": [[("due_at", 1)]],
    "decisions": [[("case_id", 1)]],
    "cases": [[("treating_site", 1)]],
    "followups": [[("status", 1), ("treating_site", 1), ("due_at", 1)]],
}


async def ensure_indexes(db: AsyncDatabase) -> None:
    """The indexes notify queries by (idempotent)."""
    for collection, indexes in INDEXES.items():
        for keys in indexes:
            await db[collection].create_index(keys)


# --- alerts ---------------------------------------------------------------------------------

async def record_alert(db: AsyncDatabase, alert_doc: dict, escalation_due_at: datetime | None) -> dict | None:
    """Insert the alert once (a redelivered event finds it); returns the document as it was stored before
    this call, None when this call inserted it.

    An alert that will escalate is queued first, so a crash between the two writes loses nothing."""
    now = datetime.now(UTC)
    if escalation_due_at is not None:
        await db.escalation_queue.update_one({"_id": alert_doc["alert_id"]},
                                             {"$setOnInsert": {"due_at": escalation_due_at}}, upsert=True)
    return await db.alerts.find_one_and_update(
        {"_id": alert_doc["alert_id"]},
        {"$setOnInsert": {**{k: v for k, v in alert_doc.items() if k != "alert_id"}, "status": "open",
                          "delivery_status": "pending", "routed": False, "escalation_level": 0,
                          "escalation_due_at": escalation_due_at, "created_at": now}},
        upsert=True, return_document=ReturnDocument.BEFORE,
    )


async def mark_routed(db: AsyncDatabase, alert_id: str, team_ids: list[str]) -> None:
    await db.alerts.update_one({"_id": alert_id}, {"$set": {"routed": True, "team_ids": team_ids}})


async def get_alert(db: AsyncDatabase, alert_id: str) -> dict | None:
    return await db.alerts.find_one({"_id": alert_id})


async def alerts_for_sites(db: AsyncDatabase, site_ids: list[str], statuses: list[str], limit: int = 200) -> list[dict]:
    query = {"treating_site": {"$in": site_ids}, "status": {"$in": statuses}}
    return [d async for d in db.alerts.find(query).sort("raised_at", -1).limit(limit)]


async def alerts_of_case(db: AsyncDatabase, case_id: str) -> list[dict]:
    return [d async for d in db.alerts.find({"case_id": case_id}).sort("raised_at", 1)]


async def set_delivery_outcome(db: AsyncDatabase, alert_id: str, delivered: bool) -> None:
    """delivered wins over pending; failed is shown as soon as one channel failed for good.

    One conditional write (our FerretDB finds it by `_id`, infra/ferretdb/patches/0003)."""
    if delivered:
        await db.alerts.update_one({"_id": alert_id, "delivery_status": "pending"},
                                   {"$set": {"delivery_status": "delivered"}})
    else:
        await db.alerts.update_one({"_id": alert_id}, {"$set": {"delivery_status": "failed"}})


async def transition_alert(db: AsyncDatabase, alert_id: str, from_statuses: list[str], fields: dict) -> dict | None:
    """Set `fields` if the alert's status is one of `from_statuses` (atomic); the new document or None."""
    return await db.alerts.find_one_and_update(
        {"_id": alert_id, "status": {"$in": from_statuses}}, {"$set": fields}, return_document=ReturnDocument.AFTER
    )


async def overdue_alerts(db: AsyncDatabase, now: datetime, limit: int = 100) -> list[dict]:
    """Open alerts whose escalation is due, most overdue first (found through `escalation_queue`)."""
    overdue = []
    async for entry in db.escalation_queue.find({"due_at": {"$lte": now}}).sort("due_at", 1).limit(limit):
        alert = await db.alerts.find_one({"_id": entry["_id"]})
        if alert is None:
            continue  # queued, alert not written yet (record_alert is half done): looked at again next time
        due = alert.get("escalation_due_at")
        if alert.get("status") != "open" or due is None:
            await db.escalation_queue.delete_one({"_id": entry["_id"]})  # acknowledged, decided or done escalating
        elif due <= now:
            overdue.append(alert)
        else:  # a claim moved the alert on and the queue missed it (a crash between the two writes)
            await db.escalation_queue.update_one({"_id": entry["_id"]}, {"$set": {"due_at": due}})
    return overdue


_ESCALATION_QUEUE_MIGRATION = "escalation_queue"


async def queue_open_escalations(db: AsyncDatabase) -> int:
    """Queue every open alert that may still escalate, raised before the queue existed; returns how many were
    added. A full scan of `alerts`, so it runs once per database: the `migrations` marker written after it
    makes later start-ups skip it (a crash before the marker only makes the next start-up redo it, harmlessly)."""
    if await db.migrations.find_one({"_id": _ESCALATION_QUEUE_MIGRATION}) is not None:
        return 0
    added = 0
    async for alert in db.alerts.find({"status": "open", "escalation_due_at": {"$ne": None}},
                                      {"escalation_due_at": 1}):
        result = await db.escalation_queue.update_one(
            {"_id": alert["_id"]}, {"$setOnInsert": {"due_at": alert["escalation_due_at"]}}, upsert=True)
        added += result.upserted_id is not None
    await db.migrations.update_one({"_id": _ESCALATION_QUEUE_MIGRATION},
                                   {"$setOnInsert": {"at": datetime.now(UTC), "queued": added}}, upsert=True)
    return added


async def claim_escalation(db: AsyncDatabase, alert_id: str, level_done: int, next_due: datetime | None) -> bool:
    """Move an open alert from escalation level `level_done` - 1 to `level_done` (once, across processes)."""
    result = await db.alerts.update_one(
        {"_id": alert_id, "status": "open", "escalation_level": level_done - 1},
        {"$set": {"escalation_level": level_done, "escalation_due_at": next_due}},
    )
    if result.modified_count != 1:
        return False
    if next_due is None:
        await db.escalation_queue.delete_one({"_id": alert_id})
    else:
        await db.escalation_queue.update_one({"_id": alert_id}, {"$set": {"due_at": next_due}})
    return True


async def stop_escalating(db: AsyncDatabase, alert_id: str) -> None:
    await db.alerts.update_one({"_id": alert_id}, {"$set": {"escalation_due_at": None}})
    await db.escalation_queue.delete_one({"_id": alert_id})


# --- deliveries -----------------------------------------------------------------------------

async def delivery_exists(db: AsyncDatabase, delivery_id: str) -> bool:
    return await db.deliveries.find_one({"_id": delivery_id}, {"_id": 1}) is not None


async def create_delivery(db: AsyncDatabase, doc: dict, lease_until: datetime | None = None) -> dict | None:
    """Insert a delivery due now (and its queue entry); returns the stored delivery, None if it already existed.

    With `lease_until` it is created claimed by the caller until then (status 'sending', as
    `claim_due_delivery` leaves it), so the process that routed the alert attempts it without a claim's
    two round trips; should that process die first, anyone claims it once the lease has run out.
    Due deliveries are found through `delivery_queue`, which holds only unfinished deliveries:
    FerretDB/SQLite filters anything but `_id` by scanning, so the scan must stay small.
    The queue entry is written first, so a crash between the two writes loses nothing.
    """
    now = datetime.now(UTC)
    status = "pending" if lease_until is None else "sending"
    try:
        await db.delivery_queue.insert_one({"_id": doc["_id"], "status": status, "next_attempt_at": now,
                                            "lease_until": lease_until})
    except DuplicateKeyError:
        pass
    delivery = {"status": status, "attempt_count": 0, "attempts": [], "next_attempt_at": now,
                "lease_until": lease_until, "created_at": now, **doc}
    try:
        await db.deliveries.insert_one(delivery)
        return delivery
    except DuplicateKeyError:
        return None


async def claim_due_delivery(db: AsyncDatabase, now: datetime, lease_s: float) -> dict | None:
    """Take one due delivery (pending and due, or sending with an expired lease) for `lease_s` seconds."""
    lease_until = now + timedelta(seconds=lease_s)
    entry = await db.delivery_queue.find_one_and_update(
        {"$or": [{"status": "pending", "next_attempt_at": {"$lte": now}},
                 {"status": "sending", "lease_until": {"$lte": now}}]},
        {"$set": {"status": "sending", "lease_until": lease_until}},
        sort=[("next_attempt_at", 1)], return_document=ReturnDocument.AFTER,
    )
    if entry is None:
        return None
    delivery = await db.deliveries.find_one_and_update(
        {"_id": entry["_id"]}, {"$set": {"status": "sending", "lease_until": lease_until}},
        return_document=ReturnDocument.AFTER,
    )
    if delivery is None:
        # create_delivery is half done (its queue entry is written, the delivery not yet): hand the entry back,
        # due as it was, instead of leaving it leased (it would wait out the whole lease, a minute by default).
        await db.delivery_queue.update_one({"_id": entry["_id"]}, {"$set": {"status": "pending", "lease_until": None}})
    return delivery


async def finish_attempt(db: AsyncDatabase, delivery_id: str, attempt: dict, status: str,
                         next_attempt_at: datetime | None) -> None:
    """Record one attempt and the delivery's new status (pending again, delivered or failed)."""
    await db.deliveries.update_one({"_id": delivery_id}, {
        "$set": {"status": status, "attempt_count": attempt["n"], "next_attempt_at": next_attempt_at,
                 "lease_until": None, "updated_at": attempt["at"]},
        "$push": {"attempts": attempt},
    })
    if status == "pending":
        await db.delivery_queue.update_one(
            {"_id": delivery_id}, {"$set": {"status": "pending", "next_attempt_at": next_attempt_at, "lease_until": None}}
        )
    else:
        await db.delivery_queue.delete_one({"_id": delivery_id})


async def deliveries_of(db: AsyncDatabase, alert_ids: list[str]) -> list[dict]:
    return [d async for d in db.deliveries.find({"alert_id": {"$in": alert_ids}}).sort("created_at", 1)]


# --- the teams' event streams ---------------------------------------------------------------

async def append_stream_event(db: AsyncDatabase, team_id: str, event: str, data: dict, dedupe: str) -> int | None:
    """Add an event to a team's stream with the next sequence number; None if `dedupe` was added before.

    The sequence number is reserved under the dedupe key first (`stream_dedupe`, by `_id`), then the event is
    upserted under it: a retry after a crash in between writes the same event with the same number, once."""
    marker_id = f"{team_id}|{dedupe}"
    marker = await db.stream_dedupe.find_one({"_id": marker_id})
    added_before = marker is not None
    if marker is None:
        counter = await db.counters.find_one_and_update(
            {"_id": f"stream:{team_id}"}, {"$inc": {"seq": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        try:
            await db.stream_dedupe.insert_one({"_id": marker_id, "seq": int(counter["seq"])})
            marker = {"seq": int(counter["seq"])}
        except DuplicateKeyError:  # reserved concurrently: that number is the event's (ours stays unused)
            marker, added_before = await db.stream_dedupe.find_one({"_id": marker_id}), True
    seq = int(marker["seq"])
    await db.stream_events.replace_one(
        {"_id": stream_event_id(team_id, seq)},
        {"team_id": team_id, "seq": seq, "event": event, "data": data, "dedupe": dedupe, "at": datetime.now(UTC)},
        upsert=True,
    )
    return None if added_before else seq


async def stream_events_after(db: AsyncDatabase, team_id: str, seq: int, limit: int = 100) -> list[dict]:
    """The team's events numbered above `seq`, oldest first, at most `limit`.

    Read by `_id` (each event's id is its team and number), up to the team's counter: a connected stream
    asks every second, and a query on `seq` would scan every event of every team each time. A number
    reserved but never used (see append_stream_event) is skipped."""
    latest = await latest_stream_seq(db, team_id)
    events: list[dict] = []
    number = seq
    while number < latest and len(events) < limit:
        number += 1
        if event := await db.stream_events.find_one({"_id": stream_event_id(team_id, number)}):
            events.append(event)
    return events


def stream_event_id(team_id: str, seq: int) -> str:
    """The `_id` of a team's event number `seq`."""
    return f"{team_id}:{seq:012d}"


async def latest_stream_seq(db: AsyncDatabase, team_id: str) -> int:
    counter = await db.counters.find_one({"_id": f"stream:{team_id}"})
    return int(counter["seq"]) if counter else 0


# --- audit, escalations, decisions, case views ----------------------------------------------

async def save_draft(db: AsyncDatabase, doc: dict) -> None:
    """Store the draft decision of an alert (`decision_drafts`, by alert id), replacing an earlier draft."""
    await db.decision_drafts.replace_one({"_id": doc["_id"]}, doc, upsert=True)


async def get_draft(db: AsyncDatabase, alert_id: str) -> dict | None:
    return await db.decision_drafts.find_one({"_id": alert_id})


async def schedule_followup(db: AsyncDatabase, doc: dict) -> None:
    await db.followups.update_one({"_id": doc["_id"]}, {"$setOnInsert": {k: v for k, v in doc.items() if k != "_id"}},
                                  upsert=True)


async def followups_due(db: AsyncDatabase, site_ids: list[str], now: datetime, limit: int = 200) -> list[dict]:
    query = {"status": "pending", "treating_site": {"$in": site_ids}, "due_at": {"$lte": now}}
    return [d async for d in db.followups.find(query).sort("due_at", 1).limit(limit)]


async def answer_followup(db: AsyncDatabase, followup_id: str, fields: dict) -> dict | None:
    return await db.followups.find_one_and_update({"_id": followup_id, "status": "pending"},
                                                  {"$set": {**fields, "status": "answered"}},
                                                  return_document=ReturnDocument.AFTER)


async def insert_once(db: AsyncDatabase, collection: str, doc: dict) -> bool:
    """Insert `doc` unless a document with its `_id` exists (an escalation, a decision); False when it did."""
    try:
        await db[collection].insert_one(doc)
        return True
    except DuplicateKeyError:
        return False


def interpretation_view(document: dict) -> dict:
    """A stored interpretation (annotate's document, packed) as notify's summary and FHIR export read it: its ids
    and its reportable findings, each with the variant's coordinates and its citations as `sources`
    (contracts.read_models.InterpretationSummary)."""
    envelope = StoredInterpretationDocument.model_validate(document)
    body = StoredInterpretation.model_validate(packed.unpack(envelope.interpretation, envelope.encoding))
    return InterpretationSummary.of(envelope, body).view()


async def case_documents(db: AsyncDatabase, case_id: str) -> dict:
    """Everything stored about a case that its summary and FHIR export draw on."""
    return {
        "case": await db.cases.find_one({"_id": case_id}),
        "results": [d async for d in db.results.find({"case_id": case_id}).sort("published_at", 1)],
        "interpretations": [interpretation_view(d) async for d in db.interpretations.find({"case_id": case_id})],
        "alerts": await alerts_of_case(db, case_id),
        "decisions": [d async for d in db.decisions.find({"case_id": case_id}).sort("decided_at", 1)],
        "escalations": [d async for d in db.escalations.find({"case_id": case_id}).sort("at", 1)],
        "audit": [d async for d in db.audit.find({"case_id": case_id}).sort("at", 1)],
    }


async def case_site(db: AsyncDatabase, case_id: str) -> str | None:
    """The treating site of a case (from the case, else from its alerts); None for an unknown case."""
    case = await db.cases.find_one({"_id": case_id}, {"treating_site": 1})
    if case and case.get("treating_site"):
        return case["treating_site"]
    alert = await db.alerts.find_one({"case_id": case_id}, {"treating_site": 1})
    return alert["treating_site"] if alert else None


# --- the ports ------------------------------------------------------------------------------

class MongoAlertStore:
    """The AlertStore port in MongoDB (or FerretDB)."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db

    async def ensure_indexes(self) -> None:
        await ensure_indexes(self.db)

    async def record_alert(self, alert_doc: dict, escalation_due_at: datetime | None) -> dict | None:
        return await record_alert(self.db, alert_doc, escalation_due_at)

    async def mark_routed(self, alert_id: str, team_ids: list[str]) -> None:
        await mark_routed(self.db, alert_id, team_ids)

    async def get_alert(self, alert_id: str) -> dict | None:
        return await get_alert(self.db, alert_id)

    async def alerts_for_sites(self, site_ids: list[str], statuses: list[str], limit: int = 200) -> list[dict]:
        return await alerts_for_sites(self.db, site_ids, statuses, limit)

    async def set_delivery_outcome(self, alert_id: str, delivered: bool) -> None:
        await set_delivery_outcome(self.db, alert_id, delivered)

    async def transition_alert(self, alert_id: str, from_statuses: list[str], fields: dict) -> dict | None:
        return await transition_alert(self.db, alert_id, from_statuses, fields)

    async def overdue_alerts(self, now: datetime, limit: int = 100) -> list[dict]:
        return await overdue_alerts(self.db, now, limit)

    async def queue_open_escalations(self) -> int:
        return await queue_open_escalations(self.db)

    async def claim_escalation(self, alert_id: str, level_done: int, next_due: datetime | None) -> bool:
        return await claim_escalation(self.db, alert_id, level_done, next_due)

    async def stop_escalating(self, alert_id: str) -> None:
        await stop_escalating(self.db, alert_id)

    async def record_escalation(self, doc: dict) -> bool:
        return await insert_once(self.db, "escalations", doc)

    async def save_draft(self, doc: dict) -> None:
        await save_draft(self.db, doc)

    async def get_draft(self, alert_id: str) -> dict | None:
        return await get_draft(self.db, alert_id)

    async def schedule_followup(self, doc: dict) -> None:
        await schedule_followup(self.db, doc)

    async def followups_due(self, site_ids: list[str], now: datetime, limit: int = 200) -> list[dict]:
        return await followups_due(self.db, site_ids, now, limit)

    async def get_followup(self, followup_id: str) -> dict | None:
        return await self.db.followups.find_one({"_id": followup_id})

    async def answer_followup(self, followup_id: str, fields: dict) -> dict | None:
        return await answer_followup(self.db, followup_id, fields)

    async def record_decision(self, doc: dict) -> bool:
        return await insert_once(self.db, "decisions", doc)


class MongoDeliveryStore:
    """The DeliveryStore port in MongoDB (`deliveries` and `delivery_queue`)."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db

    async def delivery_exists(self, delivery_id: str) -> bool:
        return await delivery_exists(self.db, delivery_id)

    async def create_delivery(self, doc: dict, lease_until: datetime | None = None) -> dict | None:
        return await create_delivery(self.db, doc, lease_until)

    async def claim_due_delivery(self, now: datetime, lease_s: float) -> dict | None:
        return await claim_due_delivery(self.db, now, lease_s)

    async def finish_attempt(self, delivery_id: str, attempt: dict, status: str,
                             next_attempt_at: datetime | None) -> None:
        await finish_attempt(self.db, delivery_id, attempt, status, next_attempt_at)

    async def deliveries_of(self, alert_ids: list[str]) -> list[dict]:
        return await deliveries_of(self.db, alert_ids)


class MongoStreamStore:
    """The StreamStore port in MongoDB (`stream_events`, `stream_dedupe`, `counters`)."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db

    async def append_stream_event(self, team_id: str, event: str, data: dict, dedupe: str) -> int | None:
        return await append_stream_event(self.db, team_id, event, data, dedupe)

    async def stream_events_after(self, team_id: str, seq: int, limit: int = 100) -> list[dict]:
        return await stream_events_after(self.db, team_id, seq, limit)

    async def latest_stream_seq(self, team_id: str) -> int:
        return await latest_stream_seq(self.db, team_id)


class MongoCaseViews:
    """The CaseViews port: a case's site and documents, read from MongoDB."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db

    async def case_site(self, case_id: str) -> str | None:
        return await case_site(self.db, case_id)

    async def treating_sites(self) -> list[str]:
        return sorted(s for s in await self.db.cases.distinct("treating_site") if isinstance(s, str))

    async def board_data(self, site_ids: list[str]) -> tuple[list[dict], list[dict], list[dict]]:
        cases = [d async for d in self.db.cases.find({"treating_site": {"$in": site_ids}},
                                                      {"timeline.stage": 1, "timeline.at": 1, "treating_site": 1})]
        ids = [c["_id"] for c in cases]
        decisions = [d async for d in self.db.decisions.find({"case_id": {"$in": ids}}, {"case_id": 1, "outcome": 1})]
        followups = [d async for d in self.db.followups.find({"treating_site": {"$in": site_ids},
                                                               "status": "answered"},
                                                              {"case_id": 1, "therapy_started": 1})]
        return cases, decisions, followups

    async def network_memory(self, tumor_type: str) -> tuple[list[dict], list[dict]]:
        alerts = [d async for d in self.db.alerts.find({"tumor_type": tumor_type},
                                                        {"case_id": 1, "findings.gene": 1, "findings.alteration": 1})]
        ids = [a["_id"] for a in alerts]
        decisions = [d async for d in self.db.decisions.find(
            {"alert_id": {"$in": ids}}, {"alert_id": 1, "case_id": 1, "team_id": 1, "outcome": 1, "recommendation": 1,
                                         "decided_at": 1})] if ids else []
        return alerts, decisions

    async def case_documents(self, case_id: str) -> dict:
        return await case_documents(self.db, case_id)
