"""The knowledge base in MongoDB: `kb_meta` (one document, the current version) and `kb_records`.

The built-in biomarker set ships with the code; CIViC records arrive with `oncorelay kb import-civic`.
Annotate loads the stored knowledge base at start and reloads it when kb_meta's version changes.
"""

from datetime import UTC, datetime

from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from services.annotate.domain.knowledge import KbRecord, KnowledgeBase

META_ID = "current"


async def stored_version(db: AsyncDatabase) -> str | None:
    meta = await db.kb_meta.find_one({"_id": META_ID}, {"version": 1})
    return meta["version"] if meta else None


async def load(db: AsyncDatabase) -> KnowledgeBase:
    """The stored knowledge base (CIViC records included), or the built-in set if nothing is stored."""
    meta = await db.kb_meta.find_one({"_id": META_ID})
    if meta is None:
        return KnowledgeBase.build()
    civic = [KbRecord.model_validate({k: v for k, v in doc.items() if k != "_id"})
             async for doc in db.kb_records.find({"source": "civic"})]
    return KnowledgeBase.build(civic_records=civic, civic_release=meta.get("civic_release"))


async def stored_civic_records(db: AsyncDatabase) -> list[KbRecord]:
    return [KbRecord.model_validate({k: v for k, v in doc.items() if k != "_id"})
            async for doc in db.kb_records.find({"source": "civic"})]


async def save(db: AsyncDatabase, kb: KnowledgeBase) -> None:
    """Replace the stored CIViC records with the knowledge base's and record its version."""
    civic = [r for r in kb.records if r.source == "civic"]
    ids = [r.record_id for r in civic]
    operations = [ReplaceOne({"_id": r.record_id}, r.model_dump(), upsert=True) for r in civic]
    for start in range(0, len(operations), 1000):
        await db.kb_records.bulk_write(operations[start:start + 1000], ordered=False)
    await db.kb_records.delete_many({"source": "civic", "_id": {"$nin": ids}})
    await db.kb_meta.replace_one(
        {"_id": META_ID},
        {"version": kb.version, "civic_release": kb.civic_release, "imported_at": datetime.now(UTC),
         "civic_records": len(civic)},
        upsert=True,
    )
