"""The append-only audit trail (`audit` collection): who or which service did what to which case, and when.

Every entry has the shape `entry` gives: {at, actor, action, case_id, alert_id, detail}.
oncorelay only ever inserts into this collection; nothing updates or deletes an entry, and the
payload retention job (services.ingest.retention) leaves it alone.

`record_once` is for effects that may be redone after a crash or a redelivered event: its `_id` is
derived from the effect, so the effect is recorded once however often it is retried.
"""

from datetime import UTC, datetime
from typing import NamedTuple

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

DUPLICATE_KEY = 11000


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
    await record_each_once(db, [Effect(effect_id, actor, action, case_id, alert_id, detail)])


class Effect(NamedTuple):
    """An effect to record once: its id and the entry's fields."""

    effect_id: str
    actor: str
    action: str
    case_id: str | None
    alert_id: str | None
    detail: dict


async def record_each_once(db: AsyncDatabase, effects: list[Effect]) -> None:
    """Append each effect's entry unless it is already recorded (recorded by an earlier attempt: left as it is),
    all in one round trip."""
    documents = [{"_id": e.effect_id, **entry(e.actor, e.action, e.case_id, e.alert_id, e.detail)} for e in effects]
    try:
        await db.audit.insert_many(documents, ordered=False)
    except BulkWriteError as error:
        if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
            raise
