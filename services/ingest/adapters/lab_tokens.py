"""Labs' API tokens in MongoDB (adapter of services.ingest.ports.LabTokens): `lab_tokens` {_id: sha256(token),
lab_id, label, created_at}; the token itself is never stored."""

import hashlib
import secrets
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

TOKEN_PREFIX = "orl_lab_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class MongoLabTokens:
    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db

    async def issue(self, lab_id: str, label: str = "") -> str:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        await self.db.lab_tokens.insert_one({"_id": token_hash(token), "lab_id": lab_id, "label": label,
                                             "created_at": datetime.now(UTC)})
        return token

    async def lab_of(self, token: str) -> str | None:
        doc = await self.db.lab_tokens.find_one({"_id": token_hash(token)})
        return doc["lab_id"] if doc else None
