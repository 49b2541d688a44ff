"""The knowledge base in MongoDB: `kb_meta` (one document, the current version) and `kb_records`.

The built-in biomarker set ships with the code; CIViC records arrive with `oncorelay kb import-civic`.
Annotate loads the stored knowledge base at start and reloads it when kb_meta's version changes.
"""

from collections.abc import Callable
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from services.annotate.domain.knowledge import KbRecord, KnowledgeBase

META_ID = "current"

class MongoKnowledgeStore:
    """The KnowledgeStore port on MongoDB (or FerretDB)."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db

    async def stored_version(self) -> str | None:
        meta = await self.db.kb_meta.find_one({"_id": META_ID}, {"version": 1})
        return meta["version"] if meta else None

    async def load(self) -> KnowledgeBase:
        """The stored knowledge base (CIViC records included), or the built-in set if nothing is stored."""
        meta = await self.db.kb_meta.find_one({"_id": META_ID})
        if meta is None:
            return KnowledgeBase.build()
        civic = await self._records(meta["version"])
        return KnowledgeBase.build(civic_records=civic, civic_release=meta.get("civic_release"))

    async def _records(self, version: str) -> list[KbRecord]:
        fields = {"_id": 0, "kb_version": 0}
        return [KbRecord.model_validate(doc) async for doc in self.db.kb_records.find({"kb_version": version}, fields)]

    async def stored_civic_records(self) -> list[KbRecord]:
        """The CIViC records of the current knowledge base (none if nothing was imported)."""
        version = await self.stored_version()
        return await self._records(version) if version else []

    async def save(self, kb: KnowledgeBase, progress: Callable[[int, int], None] | None = None) -> None:
        """Store the knowledge base's CIViC records under its version, then make that version current.

        Records of each version are written before kb_meta points at it, so annotate never loads a
        half-written knowledge base; records of other versions are removed afterwards. `progress` is
        called with (records written, records to write) after each batch.
        """
        civic = [r.model_dump() | {"kb_version": kb.version} for r in kb.records if r.source == "civic"]
        await self.db.kb_records.delete_many({"kb_version": kb.version})  # left by an interrupted import
        for start in range(0, len(civic), 1000):
            await self.db.kb_records.insert_many(civic[start:start + 1000], ordered=False)
            if progress:
                progress(min(start + 1000, len(civic)), len(civic))
        await self.db.kb_meta.replace_one(
            {"_id": META_ID},
            {"version": kb.version, "civic_release": kb.civic_release, "imported_at": datetime.now(UTC),
             "civic_records": len(civic)},
            upsert=True,
        )
        await self.db.kb_records.delete_many({"kb_version": {"$ne": kb.version}})
