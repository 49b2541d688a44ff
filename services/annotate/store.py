"""annotate's MongoDB reads and writes: variants of a result, patient history, interpretations.

Reads go by `_id` (FerretDB's SQLite backend pushes only `_id` equality down; any other filter scans
the whole collection): variant chunks by their computed ids, a patient's specimens through one
index document per patient, earlier versions of a result by their keys.
"""

from pymongo.asynchronous.database import AsyncDatabase

from contracts.variant import Variant
from services.common import variant_chunks
from services.common.keys import chunk_count, chunk_id, result_key

# Per specimen, the variants kept for longitudinal tracking (the ones a later draw is compared with).
MAX_TRACKED_PER_SPECIMEN = 5000


async def load_variants(db: AsyncDatabase, result_key: str, variant_count: int) -> list[Variant]:
    """All variants of a result, in file order."""
    variants: list[Variant] = []
    for chunk in range(chunk_count(variant_count)):
        document = await db.variants.find_one({"_id": chunk_id(result_key, chunk)})
        if document is None:
            raise LookupError(f"variant chunk {chunk} of {result_key} is missing")
        stored = variant_chunks.decode(document["data"], document["encoding"])
        variants += [Variant.model_construct(**v) for v in stored]
    return variants


async def specimen_history(db: AsyncDatabase, patient: str, exclude_result_key: str) -> list[dict]:
    """Earlier specimens of a patient (latest version of each result), oldest first."""
    index = await db.patient_index.find_one({"_id": patient})
    documents = []
    for key in (index or {}).get("result_keys", []):
        if key != exclude_result_key and (document := await db.patient_specimens.find_one({"_id": key})):
            documents.append(document)
    latest: dict[str, dict] = {}
    for document in documents:
        held = latest.get(document["result_id"])
        if held is None or document["result_version"] > held["result_version"]:
            latest[document["result_id"]] = document
    return sorted(latest.values(), key=lambda d: (d["collected_on"], d["result_id"]))


async def save_specimen(db: AsyncDatabase, result_key: str, document: dict) -> None:
    await db.patient_specimens.replace_one({"_id": result_key}, document, upsert=True)
    await db.patient_index.update_one(
        {"_id": document["patient_pseudonym"]}, {"$addToSet": {"result_keys": result_key}}, upsert=True
    )


async def load_interpretation(db: AsyncDatabase, result_key: str) -> dict | None:
    return await db.interpretations.find_one({"_id": result_key})


async def save_interpretation(db: AsyncDatabase, result_key: str, document: dict) -> None:
    await db.interpretations.replace_one({"_id": result_key}, document, upsert=True)


async def previous_interpretation(db: AsyncDatabase, result_id: str, before_version: int) -> dict | None:
    """The stored interpretation of the highest version of `result_id` below `before_version`."""
    for version in range(before_version - 1, 0, -1):
        if document := await db.interpretations.find_one({"_id": result_key(result_id, version)}):
            return document
    return None
