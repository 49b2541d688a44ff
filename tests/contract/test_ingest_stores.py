"""ingest's ResultStore contract, on the fake and on FerretDB."""

from datetime import UTC, datetime, timedelta

import pytest

from services.ingest.adapters.lab_tokens import MongoLabTokens
from services.ingest.adapters.result_store import MongoResultStore
from tests.fakes.ingest import FakeLabTokens, FakeResultStore


@pytest.fixture
def results(backend, db, faults, clock):
    return FakeResultStore(faults, clock) if backend == "fake" else MongoResultStore(db)


async def chunk_ids(results, db) -> list[tuple[str, int]]:
    if db is None:
        return sorted(results.chunks)
    return sorted([(d["result_key"], d["chunk"]) async for d in db.variants.find({})])


async def test_the_latest_version_is_the_highest_recorded_head(results):
    assert await results.latest_result("R-1") is None
    await results.save_result("R-1@1", {"result_id": "R-1", "result_version": 1, "lab_id": "LAB01"})
    await results.record_head("R-1", 1)
    await results.save_result("R-1@2", {"result_id": "R-1", "result_version": 2, "lab_id": "LAB01"})
    await results.record_head("R-1", 2)
    await results.record_head("R-1", 1)  # a late head of an older version changes nothing
    latest = await results.latest_result("R-1")
    assert (latest["_id"], latest["result_version"], latest["lab_id"]) == ("R-1@2", 2, "LAB01")


async def test_a_saved_result_is_replaced_not_duplicated(results):
    await results.save_result("R-2@1", {"result_id": "R-2", "result_version": 1, "status": "accepted", "n": 1})
    await results.save_result("R-2@1", {"result_id": "R-2", "result_version": 1, "status": "accepted", "n": 2})
    await results.record_head("R-2", 1)
    assert (await results.latest_result("R-2"))["n"] == 2


async def test_chunks_are_written_idempotently_and_deleted_from_the_first(results, db):
    await results.save_variant_chunks("R-3@1", "C-3", 0, [b"a", b"b"])
    await results.save_variant_chunks("R-3@1", "C-3", 0, [b"a", b"b"])  # a redelivered attempt
    await results.save_variant_chunks("R-3@1", "C-3", 2, [b"c"])
    await results.save_variant_chunks("R-3@1", "C-3", 3, [])
    assert await chunk_ids(results, db) == [("R-3@1", 0), ("R-3@1", 1), ("R-3@1", 2)]
    await results.delete_chunks("R-3@1", 2)
    assert await chunk_ids(results, db) == [("R-3@1", 2)]


async def test_payloads_are_kept_until_their_retention_runs_out(results, tmp_path):
    path = tmp_path / "result.vcf.gz"
    path.write_bytes(b"\x1f\x8b raw")
    await results.save_payload("R-4@1", path)
    assert await results.delete_payloads_stored_before(datetime.now(UTC) - timedelta(days=1)) == 0
    assert await results.delete_payloads_stored_before(datetime.now(UTC) + timedelta(days=400)) == 1
    assert await results.delete_payloads_stored_before(datetime.now(UTC) + timedelta(days=400)) == 0


async def test_receipts_are_kept_per_message_and_listed_per_lab(results):
    stamp = datetime.now(UTC)
    for n, (lab, status) in enumerate((("LAB01", "accepted"), ("LAB01", "rejected"), ("LAB02", "rejected"))):
        await results.save_receipt(f"R-{n}@1", {"result_id": f"R-{n}", "lab_id": lab, "status": status,
                                                "received_at": stamp + timedelta(seconds=n)})
    await results.save_receipt("R-1@1", {"result_id": "R-1", "lab_id": "LAB01", "status": "rejected",
                                         "received_at": stamp + timedelta(seconds=1)})  # re-sent: replaced
    assert [r["result_id"] for r in await results.receipts("LAB01")] == ["R-1", "R-0"]
    assert [r["result_id"] for r in await results.receipts("LAB01", "rejected")] == ["R-1"]
    assert [r["lab_id"] for r in await results.receipts_of("R-2")] == ["LAB02"]


@pytest.fixture
def lab_tokens(backend, db):
    return FakeLabTokens() if backend == "fake" else MongoLabTokens(db)


async def test_a_lab_token_names_its_lab_and_nothing_else(lab_tokens):
    first, second = await lab_tokens.issue("LAB01", "host a"), await lab_tokens.issue("LAB02")
    assert first != second
    assert (await lab_tokens.lab_of(first), await lab_tokens.lab_of(second)) == ("LAB01", "LAB02")
    assert await lab_tokens.lab_of(first + "x") is None and await lab_tokens.lab_of("") is None
