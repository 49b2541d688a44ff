"""On the real database (FerretDB started by `make test`): the payload retention job deletes only raw VCF
payloads past their time, and every applied case state change is audited once, by the service that made it."""

from datetime import UTC, datetime, timedelta

from bson import Binary

from services.common.adapters.case_record import MongoCaseRecord
from services.ingest.adapters.result_store import MongoResultStore
from services.ingest.handlers import PayloadRetention


async def advance_case(db, case_id, result_key, published_at, stage, detail="", actor=None):
    return await MongoCaseRecord(db).advance(case_id, result_key, published_at, [(stage, detail)], actor)


async def advance_case_through(db, *args, **kwargs):
    return await MongoCaseRecord(db).advance(*args, **kwargs)


async def upsert_case(db, *args, **kwargs):
    return await MongoCaseRecord(db).open_case(*args, **kwargs)


async def test_retention_deletes_old_payloads_and_keeps_the_clinical_record(db):
    now = datetime.now(UTC)
    await db.vcf_payloads.insert_many([
        {"_id": "R-OLD@1", "data": Binary(b"\x1f\x8bold"), "stored_at": now - timedelta(days=31)},
        {"_id": "R-NEW@1", "data": Binary(b"\x1f\x8bnew"), "stored_at": now - timedelta(days=29)},
    ])
    await db.results.insert_one({"_id": "R-OLD@1", "case_id": "C-1", "variant_count": 1})
    await db.interpretations.insert_one({"_id": "R-OLD@1", "case_id": "C-1"})
    await db.audit.insert_one({"at": now - timedelta(days=400), "actor": "ingest", "action": "state_changed",
                               "case_id": "C-1", "alert_id": None, "detail": {}})

    assert await PayloadRetention(MongoResultStore(db), MongoCaseRecord(db), lambda: now).run(30) == 1
    assert [d["_id"] async for d in db.vcf_payloads.find()] == ["R-NEW@1"]
    assert await db.results.count_documents({}) == 1 and await db.interpretations.count_documents({}) == 1
    assert await db.audit.count_documents({"case_id": "C-1"}) == 1
    [entry] = [d async for d in db.audit.find({"action": "payloads_deleted"})]
    assert (entry["actor"], entry["detail"]["count"]) == ("ingest", 1)
    assert await PayloadRetention(MongoResultStore(db), MongoCaseRecord(db), lambda: now).run(30) == 0  # nothing left to delete, no entry
    assert await db.audit.count_documents({"action": "payloads_deleted"}) == 1


async def test_each_applied_state_change_is_audited_once_by_its_service(db):
    published = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    await upsert_case(db, "C-2", {"treating_site": "HOSP-A"})
    assert await advance_case(db, "C-2", "R-2@1", published, "received", actor="ingest")
    assert await advance_case(db, "C-2", "R-2@1", published, "ingested", "1 variants", actor="ingest")
    assert not await advance_case(db, "C-2", "R-2@1", published, "received", actor="ingest")  # redelivered: no change
    assert not await advance_case(db, "C-2", "R-2@1", published, "ingested", actor="ingest")  # redelivered
    assert await advance_case(db, "C-2", "R-2@1", published, "annotated", actor="annotate")
    assert not await advance_case(db, "C-2", "R-0@1", published - timedelta(days=1), "decided", actor="notify")

    entries = [d async for d in db.audit.find({"case_id": "C-2"}).sort("at", 1)]
    assert [(e["actor"], e["action"], e["detail"]["state"]) for e in entries] == [
        ("ingest", "state_changed", "received"), ("ingest", "state_changed", "ingested"),
        ("annotate", "state_changed", "annotated"),
    ]
    assert set(entries[0]) >= {"at", "actor", "action", "case_id", "alert_id", "detail"}


async def test_a_change_whose_audit_entry_was_lost_in_a_crash_is_audited_on_redelivery(db):
    published = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    await upsert_case(db, "C-3", {})
    assert await advance_case(db, "C-3", "R-3@1", published, "received", actor="ingest")
    await db.audit.delete_many({"case_id": "C-3"})  # as if the process died between the change and its entry
    assert not await advance_case(db, "C-3", "R-3@1", published, "received", actor="ingest")
    assert await db.audit.count_documents({"case_id": "C-3"}) == 1


async def test_several_steps_in_one_call_are_each_on_the_timeline_and_audited_once(db):
    published = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    steps = [("received", ""), ("ingested", "3 variants")]
    case = await upsert_case(db, "C-4", {"treating_site": "HOSP-A"})
    assert case["_id"] == "C-4" and case["state_order"] == ""
    assert await advance_case_through(db, "C-4", "R-4@1", published, steps, actor="ingest", case=case)

    stored = await db.cases.find_one({"_id": "C-4"})
    assert stored["state"] == "ingested" and stored["state_result_key"] == "R-4@1"
    assert [(t["stage"], t["detail"]) for t in stored["timeline"]] == [("received", ""), ("ingested", "3 variants")]
    audited = [d async for d in db.audit.find({"case_id": "C-4"}).sort("_id", 1)]
    assert [(e["actor"], e["detail"]["state"]) for e in audited] == [("ingest", "ingested"), ("ingest", "received")]

    await db.audit.delete_one({"_id": "case:C-4|R-4@1|received"})  # as if the process died half-way through
    assert not await advance_case_through(db, "C-4", "R-4@1", published, steps, actor="ingest")  # redelivered
    stored = await db.cases.find_one({"_id": "C-4"})
    assert len(stored["timeline"]) == 2
    assert await db.audit.count_documents({"case_id": "C-4"}) == 2  # the lost entry is back, the other not doubled


async def test_a_step_of_an_older_result_goes_on_the_timeline_without_moving_a_case_that_is_further_on(db):
    published = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    await upsert_case(db, "C-5", {})
    assert await advance_case(db, "C-5", "R-NEW@1", published, "annotated", actor="annotate")
    assert not await advance_case(db, "C-5", "R-OLD@1", published - timedelta(days=2), "ingested", actor="ingest")
    stored = await db.cases.find_one({"_id": "C-5"})
    assert (stored["state"], stored["state_result_key"]) == ("annotated", "R-NEW@1")
    assert [(t["stage"], t["result_key"]) for t in stored["timeline"]] == [
        ("annotated", "R-NEW@1"), ("ingested", "R-OLD@1")]
    assert not await advance_case(db, "C-UNKNOWN", "R-X@1", published, "received", actor="ingest")
    assert await db.cases.count_documents({"_id": "C-UNKNOWN"}) == 0
