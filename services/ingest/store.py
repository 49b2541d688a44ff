"""ingest's MongoDB writes: results, their variants (in chunks) and raw VCF payloads. All idempotent."""

from datetime import UTC, datetime
from pathlib import Path

from bson import Binary
from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

# Variants are stored in chunk documents: 200,000 one-variant documents would cost 200,000
# round trips of index maintenance on FerretDB/SQLite; 2,000 per document keeps each well
# under the 16 MiB document limit.
VARIANTS_PER_CHUNK = 2000
# Raw payloads above this size are not kept in the database (the lab keeps the file).
MAX_STORED_PAYLOAD_BYTES = 8 * 1024 * 1024


def result_key(result_id: str, version: int) -> str:
    return f"{result_id}@{version}"


async def latest_result(db: AsyncDatabase, result_id: str) -> dict | None:
    """The accepted version of `result_id` with the highest result_version, if any."""
    return await db.results.find_one(
        {"result_id": result_id, "status": "accepted"}, sort=[("result_version", -1)]
    )


async def save_variant_chunks(db: AsyncDatabase, key: str, case_id: str, first_chunk: int, chunks: list[list[dict]]) -> None:
    """Write chunks of variant documents for one result; re-running replaces them identically."""
    operations = [
        ReplaceOne(
            {"_id": f"{key}#{first_chunk + i:06d}"},
            {"result_key": key, "case_id": case_id, "chunk": first_chunk + i, "variants": chunk},
            upsert=True,
        )
        for i, chunk in enumerate(chunks)
    ]
    if operations:
        await db.variants.bulk_write(operations, ordered=False)


async def delete_variants_after(db: AsyncDatabase, key: str, chunk_count: int) -> None:
    """Remove chunks of `key` numbered chunk_count and above (left by an earlier, larger attempt)."""
    await db.variants.delete_many({"result_key": key, "chunk": {"$gte": chunk_count}})


async def save_payload(db: AsyncDatabase, key: str, path: Path) -> None:
    """Keep the raw (compressed) VCF for audit until the retention job deletes it."""
    if path.stat().st_size > MAX_STORED_PAYLOAD_BYTES:
        return
    await db.vcf_payloads.replace_one(
        {"_id": key}, {"data": Binary(path.read_bytes()), "stored_at": datetime.now(UTC)}, upsert=True
    )


async def save_result(db: AsyncDatabase, key: str, document: dict) -> None:
    await db.results.replace_one({"_id": key}, document, upsert=True)


async def mark_result(db: AsyncDatabase, key: str, fields: dict) -> None:
    await db.results.update_one({"_id": key}, {"$set": fields})
