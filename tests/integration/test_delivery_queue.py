"""On the real database (FerretDB started by `make test`): claiming queued deliveries."""

from datetime import UTC, datetime

from services.notify.adapters import store


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
