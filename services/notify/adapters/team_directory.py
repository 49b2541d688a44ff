"""Teams, their API tokens and their subscriptions in MongoDB (adapter; MongoTeamDirectory is the TeamDirectory
port of services.notify.ports over these functions).

Collections: `teams` {_id: team_id, name, site_ids, escalation_contacts}, `team_tokens`
{_id: sha256(token), team_id, scopes, label, created_at} (the token itself is never stored),
`subscriptions` {_id, team_id, site_ids, tumor_types, priorities, channel, event_counter, active}.
"""

import hashlib
import secrets
from datetime import UTC, datetime

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from services.notify.domain.routing import OPERATOR_TEAM, Channel, Subscription, Team, channel_doc, channel_from_doc
from services.notify.domain.tokens import Principal, new_token, token_hash


def subscription_from_doc(doc: dict) -> Subscription:
    return Subscription(
        subscription_id=doc["_id"], team_id=doc["team_id"], site_ids=frozenset(doc.get("site_ids") or ()),
        channel=channel_from_doc(doc["channel"]), tumor_types=frozenset(doc.get("tumor_types") or ()),
        priorities=frozenset(doc.get("priorities") or ()), all_sites=bool(doc.get("all_sites")),
        active=doc.get("active", True),
    )


def team_from_doc(doc: dict) -> Team:
    return Team(team_id=doc["_id"], site_ids=frozenset(doc.get("site_ids") or ()), name=doc.get("name", ""),
                escalation_contacts=tuple(channel_from_doc(c) for c in doc.get("escalation_contacts") or ()))


async def save_team(db: AsyncDatabase, team: Team) -> None:
    """Create or replace a team (its tokens and subscriptions are kept)."""
    await db.teams.replace_one({"_id": team.team_id}, {
        "name": team.name, "site_ids": sorted(team.site_ids),
        "escalation_contacts": [channel_doc(c) for c in team.escalation_contacts], "updated_at": datetime.now(UTC),
    }, upsert=True)


async def get_team(db: AsyncDatabase, team_id: str) -> Team | None:
    doc = await db.teams.find_one({"_id": team_id})
    return team_from_doc(doc) if doc else None


async def teams_serving(db: AsyncDatabase, site_id: str) -> list[Team]:
    """Teams whose sites include `site_id`, by team id."""
    return [team_from_doc(d) async for d in db.teams.find({"site_ids": site_id}).sort("_id", 1)]


async def issue_token(db: AsyncDatabase, team_id: str, scopes: list[str], label: str = "",
                      member: str | None = None) -> str:
    """Create a token for a team (a personal one when it names a `member`) and return it (the only time it is
    visible)."""
    token = new_token()
    await db.team_tokens.insert_one({"_id": token_hash(token), "team_id": team_id, "scopes": sorted(set(scopes)),
                                     "label": label, "member": member, "created_at": datetime.now(UTC)})
    return token


async def revoke_tokens(db: AsyncDatabase, team_id: str) -> int:
    return (await db.team_tokens.delete_many({"team_id": team_id})).deleted_count


async def authenticate(db: AsyncDatabase, token: str) -> Principal | None:
    """The team, scopes and member of a token, or None when it is unknown (or its team is gone)."""
    doc = await db.team_tokens.find_one({"_id": token_hash(token)})
    if doc is None:
        return None
    team = await get_team(db, doc["team_id"])
    return Principal(team, frozenset(doc.get("scopes") or ()), doc.get("member")) if team else None


async def add_subscription(db: AsyncDatabase, subscription: Subscription) -> dict:
    doc = {
        "_id": subscription.subscription_id, "team_id": subscription.team_id,
        "site_ids": sorted(subscription.site_ids), "tumor_types": sorted(subscription.tumor_types),
        "priorities": sorted(subscription.priorities), "channel": channel_doc(subscription.channel),
        "all_sites": subscription.all_sites, "active": True, "event_counter": 0, "created_at": datetime.now(UTC),
    }
    await db.subscriptions.insert_one(doc)
    return doc


def new_subscription_id() -> str:
    return "sub-" + secrets.token_hex(8)


async def list_subscriptions(db: AsyncDatabase, team_id: str | None = None) -> list[dict]:
    query = {"team_id": team_id} if team_id else {}
    return [d async for d in db.subscriptions.find(query).sort("_id", 1)]


async def remove_subscription(db: AsyncDatabase, subscription_id: str, team_id: str | None = None) -> bool:
    """Deactivate a subscription (kept for its delivery history); only within `team_id` when given."""
    query: dict = {"_id": subscription_id, "active": True}
    if team_id:
        query["team_id"] = team_id
    result = await db.subscriptions.update_one(query, {"$set": {"active": False, "removed_at": datetime.now(UTC)}})
    return result.modified_count == 1


async def active_subscriptions(db: AsyncDatabase) -> list[Subscription]:
    return [subscription_from_doc(d) async for d in db.subscriptions.find({"active": True})]


async def subscription_channel(db: AsyncDatabase, subscription_id: str) -> Channel | None:
    """The channel of an active subscription; None once it is removed (or never existed)."""
    doc = await db.subscriptions.find_one({"_id": subscription_id})
    return channel_from_doc(doc["channel"]) if doc and doc.get("active", True) else None


async def next_event_number(db: AsyncDatabase, subscription_id: str) -> int:
    """Atomically count one more event for the subscription and return its number (1, 2, ...)."""
    doc = await db.subscriptions.find_one_and_update(
        {"_id": subscription_id}, {"$inc": {"event_counter": 1}}, return_document=ReturnDocument.AFTER
    )
    return int(doc["event_counter"])


def operator_subscription_id(url: str) -> str:
    return "operator-" + hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


async def ensure_operator_subscriptions(db: AsyncDatabase, urls: list[str]) -> None:
    """Make ONCORELAY_WEBHOOK_URLS the operator's all-site subscriptions (signed with the service secret)."""
    wanted = {operator_subscription_id(url): url for url in urls}
    for sid, url in wanted.items():
        await db.subscriptions.update_one({"_id": sid}, {
            "$setOnInsert": {"event_counter": 0, "created_at": datetime.now(UTC)},
            "$set": {"team_id": OPERATOR_TEAM, "site_ids": [], "tumor_types": [], "priorities": [], "all_sites": True,
                     "channel": {"kind": "webhook", "url": url, "secret": None, "payload": "json"}, "active": True},
        }, upsert=True)
    await db.subscriptions.update_many(
        {"team_id": OPERATOR_TEAM, "_id": {"$nin": list(wanted)}, "active": True}, {"$set": {"active": False}}
    )


class MongoTeamDirectory:
    """The TeamDirectory port in MongoDB (`teams`, `team_tokens`, `subscriptions`)."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db

    async def save_team(self, team: Team) -> None:
        await save_team(self.db, team)

    async def get_team(self, team_id: str) -> Team | None:
        return await get_team(self.db, team_id)

    async def teams_serving(self, site_id: str) -> list[Team]:
        return await teams_serving(self.db, site_id)

    async def issue_token(self, team_id: str, scopes: list[str], label: str = "", member: str | None = None) -> str:
        return await issue_token(self.db, team_id, scopes, label, member)

    async def revoke_tokens(self, team_id: str) -> int:
        return await revoke_tokens(self.db, team_id)

    async def authenticate(self, token: str) -> Principal | None:
        return await authenticate(self.db, token)

    async def add_subscription(self, subscription: Subscription) -> dict:
        return await add_subscription(self.db, subscription)

    def new_subscription_id(self) -> str:
        return new_subscription_id()

    async def list_subscriptions(self, team_id: str | None = None) -> list[dict]:
        return await list_subscriptions(self.db, team_id)

    async def remove_subscription(self, subscription_id: str, team_id: str | None = None) -> bool:
        return await remove_subscription(self.db, subscription_id, team_id)

    async def active_subscriptions(self) -> list[Subscription]:
        return await active_subscriptions(self.db)

    async def subscription_channel(self, subscription_id: str) -> Channel | None:
        return await subscription_channel(self.db, subscription_id)

    async def next_event_number(self, subscription_id: str) -> int:
        return await next_event_number(self.db, subscription_id)

    async def ensure_operator_subscriptions(self, urls: list[str]) -> None:
        await ensure_operator_subscriptions(self.db, urls)
