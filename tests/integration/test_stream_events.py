"""On the real database (FerretDB started by `make test`): a team's event stream read by event id."""

from services.notify.adapters import alert_store as store


async def test_events_after_a_number_come_in_order_per_team_with_unused_numbers_skipped(db):
    for n in range(3):
        assert await store.append_stream_event(db, "T1", "alert", {"n": n}, f"alert:{n}") == n + 1
    assert await store.append_stream_event(db, "T1", "alert", {"n": 0}, "alert:0") is None  # once per dedupe key
    await store.append_stream_event(db, "T2", "alert", {"n": 9}, "alert:9")
    # a number reserved and never used (append_stream_event's race), then one more event
    await db.counters.update_one({"_id": "stream:T1"}, {"$inc": {"seq": 1}})
    assert await store.append_stream_event(db, "T1", "acknowledged", {"n": 3}, "ack:3") == 5

    assert [e["seq"] for e in await store.stream_events_after(db, "T1", 0)] == [1, 2, 3, 5]
    assert [e["data"]["n"] for e in await store.stream_events_after(db, "T1", 2)] == [2, 3]
    assert [e["seq"] for e in await store.stream_events_after(db, "T1", 0, limit=2)] == [1, 2]
    assert await store.stream_events_after(db, "T1", 5) == []
    assert [e["team_id"] for e in await store.stream_events_after(db, "T2", 0)] == ["T2"]
    assert await store.stream_events_after(db, "T-NONE", 0) == []
