"""The lab registry (`labs` collection): which labs may publish results, and for which hospitals.

A lab is registered by an operator (`oncorelay labs create LAB --site HOSP ...`). ingest refuses
results from a lab that is not registered (unless open enrolment is set, for demos) and results
for a hospital the lab is not registered for. `reference_sources` are the URL prefixes the lab's
by-reference VCFs may be read from (its own file server or a directory it drops files in).
"""

import time
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from contracts.registry import Lab


def registration(lab: Lab) -> dict:
    """The update that registers `lab` in the `labs` collection (by `_id` = lab_id, upserted)."""
    now = datetime.now(UTC)
    return {"$set": {**lab.model_dump(exclude={"lab_id"}), "updated_at": now}, "$setOnInsert": {"created_at": now}}


async def save_lab(db: AsyncDatabase, lab: Lab) -> None:
    """Register a lab, or replace its registration."""
    await db.labs.update_one({"_id": lab.lab_id}, registration(lab), upsert=True)


async def find_lab(db: AsyncDatabase, lab_id: str) -> Lab | None:
    document = await db.labs.find_one({"_id": lab_id})
    return _lab(document) if document else None


async def list_labs(db: AsyncDatabase) -> list[Lab]:
    return [_lab(d) async for d in db.labs.find({}).sort("_id", 1)]


async def remove_lab(db: AsyncDatabase, lab_id: str) -> bool:
    """Unregister a lab (its stored results stay); False when it was not registered."""
    return (await db.labs.delete_one({"_id": lab_id})).deleted_count == 1


def _lab(document: dict) -> Lab:
    fields = {k: v for k, v in document.items() if k in Lab.model_fields}
    return Lab(lab_id=document["_id"], **fields)


class LabDirectory:
    """Registered labs as ingest sees them: read by id, a found lab kept for `ttl_s` seconds.

    A lab not found is looked up again on its next result, so a newly registered lab is accepted at
    once; a removed or changed registration takes effect within `ttl_s`."""

    def __init__(self, db: AsyncDatabase, ttl_s: float = 30.0) -> None:
        self.db = db
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, Lab]] = {}

    async def get(self, lab_id: str) -> Lab | None:
        held = self._cache.get(lab_id)
        if held and time.monotonic() - held[0] < self.ttl_s:
            return held[1]
        lab = await find_lab(self.db, lab_id)
        if lab is None:
            self._cache.pop(lab_id, None)
        else:
            self._cache[lab_id] = (time.monotonic(), lab)
        return lab
