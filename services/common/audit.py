"""The append-only audit trail (`audit` collection): who or which service did what to which case, and when.

Entries have the shape notify's store.audit writes: {at, actor, action, case_id, alert_id, detail}.
oncorelay only ever inserts into this collection; nothing updates or deletes an entry, and the
payload retention job (services.ingest.retention) leaves it alone.

`record_once` is for effects that may be redone after a crash or a redelivered event: its `_id` is
derived from the effect, so the effect is recorded once however often it is retried.
"""

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError


def entry(actor: str, action: str, case_id: str | None, alert_id: str | None, detail: dict) -> dict:
    """One audit document (without its _id)."""
    return {"at": datetime.now(UTC), "actor": actor, "action": action, "case_id": case_id,
            "alert_id": alert_id, "detail": detail}


async def record(
    db: AsyncDatabase, actor: str, action: str, case_id: str | None, alert_id: str | None, detail: dict
) -> None:
    """Append one entry (each call is a new entry)."""
    await db.audit.insert_one(entry(actor, action, case_id, alert_id, detail))


async def record_once(
    db: AsyncDatabase, effect_id: str, actor: str, action: str, case_id: str | None, alert_id: str | None, detail: dict
) -> None:
    """Append the entry of the effect `effect_id` unless it is already recorded (an existing entry is never changed)."""
    try:
        await db.audit.insert_one({"_id": effect_id, **entry(actor, action, case_id, alert_id, detail)})
    except DuplicateKeyError:
        pass  # recorded by an earlier attempt
