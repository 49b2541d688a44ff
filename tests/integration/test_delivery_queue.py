"""On the real database (FerretDB started by `make test`): creating, claiming and recording deliveries and alerts."""

from datetime import UTC, datetime, timedelta

from services.notify.adapters import alert_store as store


def delivery(delivery_id: str) -> dict:
    return {"_id": delivery_id, "alert_id": delivery_id.split("|")[0], "case_id": "C-Q", "kind": "alert",
            "team_id": "T", "subscription_id": "S", "channel": "webhook", "target": "https://mtb.example/hook",
            "event_number": 1}


async def test_a_created_delivery_is_claimed_once_while_its_lease_runs(db):
    assert await store.create_delivery(db, delivery("A-1|S"))
    claimed = await store.claim_due_delivery(db, datetime.now(UTC), lease_s=60)
    assert claimed["_id"] == "A-1|S" and claimed["status"] == "sending"
    assert await store.claim_due_delivery(db, datetime.now(UTC), lease_s=60) is None


async def test_a_delivery_claimed_while_half_created_is_handed_back_not_leased(db):
    # create_delivery writes the queue entry first; a dispatcher can claim it before the delivery exists.
    await db.delivery_queue.insert_one({"_id": "A-2|S", "status": "pending", "next_attempt_at": datetime.now(UTC),
                                        "lease_until": None})
    assert await store.claim_due_delivery(db, datetime.now(UTC), lease_s=60) is None
    entry = await db.delivery_queue.find_one({"_id": "A-2|S"})
    assert (entry["status"], entry["lease_until"]) == ("pending", None)

    assert await store.create_delivery(db, delivery("A-2|S"))  # the creation completes
    claimed = await store.claim_due_delivery(db, datetime.now(UTC), lease_s=60)
    assert claimed is not None and claimed["_id"] == "A-2|S"  # at once, not after the 60 s lease


async def test_a_delivery_created_leased_is_not_claimed_until_its_lease_runs_out(db):
    now = datetime.now(UTC)
    created = await store.create_delivery(db, delivery("A-3|S"), lease_until=now + timedelta(seconds=60))
    assert (created["_id"], created["status"], created["attempt_count"]) == ("A-3|S", "sending", 0)
    assert await store.claim_due_delivery(db, now, lease_s=60) is None  # its creator attempts it
    taken_over = await store.claim_due_delivery(db, now + timedelta(seconds=61), lease_s=60)  # its creator died
    assert taken_over is not None and taken_over["_id"] == "A-3|S"


async def test_a_delivery_is_created_once(db):
    assert await store.create_delivery(db, delivery("A-4|S")) is not None
    assert await store.create_delivery(db, delivery("A-4|S"), lease_until=datetime.now(UTC)) is None
    assert await db.deliveries.count_documents({"_id": "A-4|S"}) == 1


async def test_recording_an_alert_tells_a_new_alert_from_a_redelivered_one(db):
    doc = {"alert_id": "A-5", "case_id": "C-Q", "priority": "routine"}
    assert await store.record_alert(db, doc, None) is None  # new: no delivery of it can exist yet
    before = await store.record_alert(db, doc, None)
    assert before is not None and before["_id"] == "A-5" and before["routed"] is False
