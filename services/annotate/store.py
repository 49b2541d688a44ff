"""annotate's MongoDB reads and writes: variants of a result, patient history, interpretations."""

from pymongo.asynchronous.database import AsyncDatabase

from contracts.variant import Variant

# Per specimen, the variants kept for longitudinal tracking (the ones a later draw is compared with).
MAX_TRACKED_PER_SPECIMEN = 5000


async def load_variants(db: AsyncDatabase, result_key: str) -> list[Variant]:
    """All variants of a result, in file order."""
    variants: list[Variant] = []
    async for chunk in db.variants.find({"result_key": result_key}).sort("chunk", 1):
        variants += [Variant.model_construct(**document) for document in chunk["variants"]]
    return variants


async def specimen_history(db: AsyncDatabase, patient: str, exclude_result_key: str) -> list[dict]:
    """Earlier specimens of a patient (latest version of each result), oldest first."""
    documents = [
        d async for d in db.patient_specimens.find({"patient_pseudonym": patient}).sort("collected_on", 1)
        if d["_id"] != exclude_result_key
    ]
    latest: dict[str, dict] = {}
    for document in documents:
        held = latest.get(document["result_id"])
        if held is None or document["result_version"] > held["result_version"]:
            latest[document["result_id"]] = document
    return sorted(latest.values(), key=lambda d: (d["collected_on"], d["result_id"]))


async def save_specimen(db: AsyncDatabase, result_key: str, document: dict) -> None:
    await db.patient_specimens.replace_one({"_id": result_key}, document, upsert=True)


async def load_interpretation(db: AsyncDatabase, result_key: str) -> dict | None:
    return await db.interpretations.find_one({"_id": result_key})


async def save_interpretation(db: AsyncDatabase, result_key: str, document: dict) -> None:
    await db.interpretations.replace_one({"_id": result_key}, document, upsert=True)


async def previous_interpretation(db: AsyncDatabase, result_id: str, before_version: int) -> dict | None:
    """The stored interpretation of the highest version of `result_id` below `before_version`."""
    return await db.interpretations.find_one(
        {"result_id": result_id, "result_version": {"$lt": before_version}}, sort=[("result_version", -1)]
    )
