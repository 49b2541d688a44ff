"""On the real database (FerretDB started by `make test`): filters with `_id` and other conditions
are narrowed by `_id` in SQLite (infra/ferretdb/patches/0003) and still apply every condition."""


from services.common.adapters.case_record import MongoCaseRecord
from services.notify.adapters import alert_store as store


async def pushed_down(db, filter_: dict) -> bool:
    explained = await db.command("explain", {"find": "t", "filter": filter_})
    return explained["filterPushdown"]


async def test_id_equality_is_pushed_down_beside_other_conditions(db):
    await db.t.insert_many([{"_id": f"k{i}", "status": "open" if i % 2 else "closed"} for i in range(20)])
    assert await pushed_down(db, {"_id": "k1"})
    assert await pushed_down(db, {"_id": "k1", "status": "open"})  # not without the patch
    assert not await pushed_down(db, {"status": "open"})
    assert not await pushed_down(db, {"_id": {"$in": ["k1"]}, "status": "open"})
    # narrowing by _id first changes no result: the other conditions still apply
    assert (await db.t.update_one({"_id": "k2", "status": "open"}, {"$set": {"x": 1}})).modified_count == 0
    assert (await db.t.update_one({"_id": "k3", "status": "open"}, {"$set": {"x": 1}})).modified_count == 1
    assert await db.t.find_one({"_id": "k2", "status": "closed"}) is not None
    assert await db.t.find_one({"_id": "k2", "status": "open"}) is None


async def test_a_timeline_step_is_added_once_per_result(db):
    await db.cases.insert_one({"_id": "C-T", "timeline": [], "timeline_keys": ["R@1|ingested"]})
    for _ in range(2):
        await MongoCaseRecord(db).add_step("C-T", "R@1", "delivered", "webhook after 1 attempt(s)")
    await MongoCaseRecord(db).add_step("C-T", "R@2", "delivered", "webhook after 2 attempt(s)")
    await MongoCaseRecord(db).add_step("C-MISSING", "R@1", "delivered", "")  # no case: nothing is created
    case = await db.cases.find_one({"_id": "C-T"})
    assert [(e["result_key"], e["stage"]) for e in case["timeline"]] == [("R@1", "delivered"), ("R@2", "delivered")]
    assert case["timeline_keys"] == ["R@1|ingested", "R@1|delivered", "R@2|delivered"]
    assert await db.cases.find_one({"_id": "C-MISSING"}) is None


async def test_delivered_never_overwrites_failed_and_failed_overwrites_pending(db):
    await db.alerts.insert_many([{"_id": "A-1", "delivery_status": "pending"},
                                 {"_id": "A-2", "delivery_status": "failed"}])
    await store.set_delivery_outcome(db, "A-1", True)
    await store.set_delivery_outcome(db, "A-2", True)
    await store.set_delivery_outcome(db, "A-3", True)  # unknown alert: nothing happens
    assert (await db.alerts.find_one({"_id": "A-1"}))["delivery_status"] == "delivered"
    assert (await db.alerts.find_one({"_id": "A-2"}))["delivery_status"] == "failed"
    await store.set_delivery_outcome(db, "A-1", False)
    assert (await db.alerts.find_one({"_id": "A-1"}))["delivery_status"] == "failed"
    assert await db.alerts.count_documents({}) == 2
