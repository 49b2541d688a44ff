"""annotate's MongoDB reads and writes: variants of a result, patient history, interpretations.

Reads go by `_id` (FerretDB's SQLite backend pushes only `_id` equality down; any other filter scans
the whole collection): variant chunks by their computed ids, a patient's specimens through one
index document per patient, earlier versions of a result by their keys. The large values (variant
chunks, a specimen's observation, an interpretation) are stored packed (services.common.packed).
"""

import asyncio
from collections.abc import AsyncIterator

from bson import Binary
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from contracts.variant import Variant, stored_variant
from services.common import packed
from services.common.keys import chunk_count, chunk_id, result_key
from services.common.offload import Runner


class MongoInterpretationStore:
    """The VariantSource, PatientHistoryStore and InterpretationStore ports on MongoDB (or FerretDB)."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db

    async def variant_chunks(self, result_key: str, variant_count: int,
                             run: Runner = asyncio.to_thread) -> AsyncIterator[list[Variant]]:
        """The variants of a result, one stored chunk at a time, in file order; each chunk is decoded by `run`.

        The next chunk is already being read while the caller works on the current one (the database's work
        then runs beside ours: on a 200,000-variant result that is most of its 0.5 s of reads)."""
        count = chunk_count(variant_count)
        chunks = self.db.variants
        reading = asyncio.ensure_future(chunks.find_one({"_id": chunk_id(result_key, 0)})) if count else None
        try:
            for chunk in range(count):
                document = await reading
                reading = (asyncio.ensure_future(chunks.find_one({"_id": chunk_id(result_key, chunk + 1)}))
                           if chunk + 1 < count else None)
                if document is None:
                    raise LookupError(f"variant chunk {chunk} of {result_key} is missing")
                yield await run(_variants, document)
        finally:  # the caller stopped early, or a chunk was missing: drop the read ahead
            if reading is not None and not reading.done():
                reading.cancel()
            elif reading is not None and not reading.cancelled():
                reading.exception()  # retrieved, so a failed read ahead is not reported as unhandled

    async def specimen_history(self, patient: str, exclude_result_key: str) -> list[dict]:
        """Earlier specimens of a patient (latest version of each result), oldest first."""
        index = await self.db.patient_index.find_one({"_id": patient})
        documents = []
        for key in (index or {}).get("result_keys", []):
            if key != exclude_result_key and (document := await self.db.patient_specimens.find_one({"_id": key})):
                documents.append(packed.unpacked(document, "observation"))
        latest: dict[str, dict] = {}
        for document in documents:
            held = latest.get(document["result_id"])
            if held is None or document["result_version"] > held["result_version"]:
                latest[document["result_id"]] = document
        return sorted(latest.values(), key=lambda d: (d["collected_on"], d["result_id"]))

    async def save_specimen(self, result_key: str, document: dict) -> None:
        """Store a specimen's observation (packed) and list it under its patient."""
        stored = {**document, "observation": Binary(packed.pack(document["observation"])), "encoding": packed.ENCODING}
        await self.db.patient_specimens.replace_one({"_id": result_key}, stored, upsert=True)
        await self.db.patient_index.update_one(
            {"_id": document["patient_pseudonym"]}, {"$addToSet": {"result_keys": result_key}}, upsert=True
        )

    async def save_interpretation_once(self, result_key: str, document: dict,
                                       interpretation_json: bytes) -> dict | None:
        """Store the first interpretation of a result: the document with the Interpretation's JSON packed as its
        `interpretation` (readers use packed.unpacked). Returns None when this one was stored, else the
        interpretation stored before (as `interpretation` returns it), which stands."""
        stored = {"_id": result_key, **document, "interpretation": Binary(packed.pack_json(interpretation_json)),
                  "encoding": packed.ENCODING}
        try:
            await self.db.interpretations.insert_one(stored)
            return None
        except DuplicateKeyError:
            return await self.interpretation(result_key)

    async def interpretation(self, key: str) -> dict | None:
        """The stored interpretation (the Interpretation model's JSON) of result `key`, if any."""
        document = await self.db.interpretations.find_one({"_id": key})
        return packed.unpack(document["interpretation"], document["encoding"]) if document else None

    async def previous_interpretation(self, result_id: str, before_version: int) -> dict | None:
        """The stored interpretation of the highest version of `result_id` below `before_version`."""
        for version in range(before_version - 1, 0, -1):
            if stored := await self.interpretation(result_key(result_id, version)):
                return stored
        return None

    async def interpretations_to_retier(self, kb_version: str) -> AsyncIterator[dict]:
        """Stored interpretations made with another knowledge base that kept their ingest event (re-tierable), the
        latest version of each result only."""
        query = {"event": {"$exists": True}, "kb_version": {"$ne": kb_version}, "retier_failed": {"$ne": kb_version}}
        async for document in self.db.interpretations.find(query):
            newer = await self.db.interpretations.find_one({"result_id": document["result_id"],
                                                            "result_version": {"$gt": document["result_version"]}})
            if newer is None:
                yield document

    async def replace_interpretation(self, result_key: str, document: dict, interpretation_json: bytes) -> None:
        """Store a re-tiered interpretation in place of the one made with an earlier knowledge base."""
        await self.db.interpretations.update_one({"_id": result_key}, {"$set": {
            **document, "interpretation": Binary(packed.pack_json(interpretation_json)), "encoding": packed.ENCODING}})

    async def mark_retier_failed(self, result_key: str, kb_version: str) -> None:
        """Remember that re-tiering this result with `kb_version` failed, so it is not tried again with it."""
        await self.db.interpretations.update_one({"_id": result_key}, {"$set": {"retier_failed": kb_version}})


def _variants(document: dict) -> list[Variant]:
    return [stored_variant(v) for v in packed.unpack(document["data"], document["encoding"])]
