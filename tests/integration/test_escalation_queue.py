"""On the real database (FerretDB started by `make test`): the escalation timer finds overdue alerts through
`escalation_queue`, which holds only alerts that may still escalate, and keeps it in step with the alerts."""

from datetime import UTC, datetime, timedelta

from services.notify.adapters import alert_store as store

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def alert(alert_id: str) -> dict:
    return {"alert_id": alert_id, "case_id": f"C-{alert_id}", "priority": "urgent"}


async def overdue_ids(db, at: datetime) -> list[str]:
    return [a["_id"] for a in await store.overdue_alerts(db, at)]


async def queued(db) -> dict[str, datetime]:
    return {e["_id"]: e["due_at"] async for e in db.escalation_queue.find()}


async def test_only_alerts_that_may_escalate_are_queued_and_found_when_due(db):
    await store.record_alert(db, alert("A-1"), NOW + timedelta(minutes=15))
    await store.record_alert(db, alert("A-2"), NOW + timedelta(minutes=5))
    await store.record_alert(db, alert("A-ROUTINE"), None)
    assert set(await queued(db)) == {"A-1", "A-2"}
    assert await overdue_ids(db, NOW) == []
    assert await overdue_ids(db, NOW + timedelta(minutes=10)) == ["A-2"]
    assert await overdue_ids(db, NOW + timedelta(minutes=20)) == ["A-2", "A-1"]  # most overdue first
    await store.record_alert(db, alert("A-1"), NOW + timedelta(minutes=15))  # redelivered: nothing changes
    assert (await queued(db))["A-1"] == NOW + timedelta(minutes=15)


async def test_a_claimed_level_moves_the_entry_and_the_last_level_removes_it(db):
    await store.record_alert(db, alert("A-3"), NOW)
    assert await store.claim_escalation(db, "A-3", 1, NOW + timedelta(minutes=15))
    assert not await store.claim_escalation(db, "A-3", 1, NOW + timedelta(minutes=15))  # once only
    assert (await queued(db))["A-3"] == NOW + timedelta(minutes=15)
    assert await overdue_ids(db, NOW + timedelta(minutes=1)) == []
    assert await store.claim_escalation(db, "A-3", 2, None)
    assert "A-3" not in await queued(db)


async def test_acknowledged_and_stopped_alerts_leave_the_queue(db):
    await store.record_alert(db, alert("A-4"), NOW)
    await store.record_alert(db, alert("A-5"), NOW)
    await store.transition_alert(db, "A-4", ["open"], {"status": "acknowledged", "escalation_due_at": None})
    await store.stop_escalating(db, "A-5")
    assert "A-5" not in await queued(db)
    assert await overdue_ids(db, NOW + timedelta(minutes=1)) == []
    assert await queued(db) == {}  # A-4's stale entry was dropped when it came due


async def test_a_queue_behind_its_alert_is_moved_on_and_a_missing_alert_waits(db):
    await store.record_alert(db, alert("A-6"), NOW)
    # a crash after the claim's alert write, before its queue write
    await db.alerts.update_one({"_id": "A-6"}, {"$set": {"escalation_level": 1,
                                                         "escalation_due_at": NOW + timedelta(minutes=15)}})
    await db.escalation_queue.insert_one({"_id": "A-HALF", "due_at": NOW})  # record_alert half done
    assert await overdue_ids(db, NOW + timedelta(minutes=1)) == []
    assert await queued(db) == {"A-6": NOW + timedelta(minutes=15), "A-HALF": NOW}


async def test_open_alerts_from_before_the_queue_are_queued_at_start(db):
    await db.alerts.insert_many([
        {"_id": "A-OLD", "status": "open", "escalation_due_at": NOW},
        {"_id": "A-ACKED", "status": "acknowledged", "escalation_due_at": None},
        {"_id": "A-DONE", "status": "open", "escalation_due_at": None},
    ])
    assert await store.queue_open_escalations(db) == 1
    assert await store.queue_open_escalations(db) == 0  # idempotent
    assert await overdue_ids(db, NOW) == ["A-OLD"]
    # done once per database: later start-ups do not scan the alerts again
    await db.alerts.insert_one({"_id": "A-UNQUEUED", "status": "open", "escalation_due_at": NOW})
    assert await store.queue_open_escalations(db) == 0
    assert "A-UNQUEUED" not in await queued(db)
