"""On the real database (FerretDB started by `make test`): claiming queued deliveries."""

import os
import secrets
from datetime import UTC, datetime

import pytest
from pymongo import AsyncMongoClient

from services.notify.adapters import store


@pytest.fixture
async def db():
    client = AsyncMongoClient(os.environ.get("ONCORELAY_MONGO_URI", "mongodb://127.0.0.1:27017/?retryWrites=false"),
                              tz_aware=True, serverSelectionTimeoutMS=5000)
    name = f"oncorelay_queue_{secrets.token_hex(4)}"
    yield client[name]
    await client.drop_database(name)
    await client.close()


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
