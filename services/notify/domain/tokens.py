"""Team API tokens: generation, hashing, scopes (pure). Only the sha256 of a token is stored."""

import hashlib
import secrets
from dataclasses import dataclass

from services.notify.domain.routing import Team

SCOPES = ("read", "ack", "decide", "subscriptions")
TOKEN_PREFIX = "orl_"


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: the team, the token's scopes, and the member a personal token names (None for a
    team-wide token: it can read and acknowledge, but neither draft nor sign off a decision)."""

    team: Team
    scopes: frozenset[str]
    member: str | None = None


def new_token() -> str:
    """A fresh random token to give to a team once."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored and looked up: the hex sha256 of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


MAX_TOKEN_LENGTH = 512


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None (also for a token that cannot be one of
    ours: not printable ASCII, or too long)."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    if not (value.isascii() and value.isprintable()) or len(value) > MAX_TOKEN_LENGTH:
        return None
    return value if scheme.lower() == "bearer" and value else None


def unknown_scopes(scopes: list[str]) -> list[str]:
    """Scopes that do not exist (for validating a new token's scopes)."""
    return [s for s in scopes if s not in SCOPES]
