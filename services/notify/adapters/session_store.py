"""The MTB workspace's browser sessions in MongoDB (adapter of services.notify.ports.SessionStore).

Collection `sessions` {_id: sha256 of the session id, team_id, member, scopes, csrf, created_at, expires_at}.
A session past `expires_at` is refused by the handler and deleted when it is next presented.
"""

from pymongo.asynchronous.database import AsyncDatabase


class MongoSessionStore:
    """Sessions by the hash of their id."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db

    async def create_session(self, doc: dict) -> None:
        await self.db.sessions.insert_one(doc)

    async def get_session(self, session_hash: str) -> dict | None:
        return await self.db.sessions.find_one({"_id": session_hash})

    async def end_session(self, session_hash: str) -> None:
        await self.db.sessions.delete_one({"_id": session_hash})
