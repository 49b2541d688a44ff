"""ingest's result store in MongoDB: results, their variants (in chunks) and raw VCF payloads. All idempotent.

Every read and delete on the hot path goes by `_id`: FerretDB's SQLite backend pushes only
`_id: <string>` equality down to SQLite and filters anything else by scanning the collection.
"""

from datetime import UTC, datetime
from pathlib import Path

from bson import Binary
from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from services.common import packed
from services.common.keys import chunk_id, result_key

# Raw payloads above this size are not kept in the database (the lab keeps the file).
MAX_STORED_PAYLOAD_BYTES = 8 * 1024 * 1024


class MongoResultStore:
    """The ResultStore port on MongoDB (or FerretDB)."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db

    async def latest_result(self, result_id: str) -> dict | None:
        """The accepted version of `result_id` with the highest result_version, if any."""
        head = await self.db.result_heads.find_one({"_id": result_id})
        return await self.db.results.find_one({"_id": result_key(result_id, head["version"])}) if head else None

    async def record_head(self, result_id: str, version: int) -> None:
        """Remember `version` as the latest accepted one of `result_id` unless a later one is."""
        await self.db.result_heads.update_one({"_id": result_id}, {"$max": {"version": version}}, upsert=True)

    async def save_variant_chunks(self, key: str, case_id: str, first_chunk: int, chunks: list[bytes]) -> None:
        """Write packed chunks (packed.pack of variant documents) of one result; re-running replaces them identically."""
        operations = [
            ReplaceOne(
                {"_id": chunk_id(key, first_chunk + i)},
                {"result_key": key, "case_id": case_id, "chunk": first_chunk + i,
                 "encoding": packed.ENCODING, "data": Binary(chunk)},
                upsert=True,
            )
            for i, chunk in enumerate(chunks)
        ]
        if operations:
            await self.db.variants.bulk_write(operations, ordered=False)

    async def delete_chunks(self, key: str, count: int) -> None:
        """Remove the first `count` chunks of `key` (written by an attempt whose VCF was then rejected)."""
        for chunk in range(count):
            await self.db.variants.delete_one({"_id": chunk_id(key, chunk)})

    async def save_payload(self, key: str, path: Path) -> None:
        """Keep the raw (compressed) VCF for audit until the retention job deletes it."""
        if path.stat().st_size > MAX_STORED_PAYLOAD_BYTES:
            return
        await self.db.vcf_payloads.replace_one(
            {"_id": key}, {"data": Binary(path.read_bytes()), "stored_at": datetime.now(UTC)}, upsert=True
        )

    async def save_result(self, key: str, document: dict) -> None:
        """Store (or replace) the accepted result `key`."""
        await self.db.results.replace_one({"_id": key}, document, upsert=True)

    async def save_receipt(self, key: str, document: dict) -> None:
        await self.db.receipts.replace_one({"_id": key}, document, upsert=True)

    async def receipts(self, lab_id: str, status: str | None = None, limit: int = 50) -> list[dict]:
        query = {"lab_id": lab_id, **({"status": status} if status else {})}
        return [d async for d in self.db.receipts.find(query).sort("received_at", -1).limit(limit)]

    async def receipts_of(self, result_id: str) -> list[dict]:
        return [d async for d in self.db.receipts.find({"result_id": result_id}).sort("received_at", 1)]

    async def delete_payloads_stored_before(self, cutoff: datetime) -> int:
        """Delete raw payloads stored before `cutoff`; returns how many were deleted."""
        return (await self.db.vcf_payloads.delete_many({"stored_at": {"$lt": cutoff}})).deleted_count
