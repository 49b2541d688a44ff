"""Browser sessions of the MTB workspace (pure): ids, cross-site request forgery tokens, expiry, and where a
sign-in may send the browser next. Only the sha256 of a session id is stored, like tokens."""

import hmac
import secrets
from datetime import datetime, timedelta

SESSION_COOKIE = "oncorelay_session"
SIGN_IN_COOKIE = "oncorelay_sign_in"  # double-submit token of the sign-in form (there is no session yet)


def new_secret() -> str:
    """A fresh random value for a session id or a CSRF token."""
    return secrets.token_urlsafe(32)


def expires_at(now: datetime, ttl_s: float) -> datetime:
    return now + timedelta(seconds=ttl_s)


def is_live(session: dict[str, object] | None, now: datetime) -> bool:
    """A stored session that has not expired."""
    if session is None:
        return False
    expiry = session.get("expires_at")
    return isinstance(expiry, datetime) and now < expiry


def same_token(expected: str | None, given: str | None) -> bool:
    """A CSRF token check in constant time (both present and equal)."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a path of this site only (never another host), else the worklist."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or any(
            ord(c) < 0x20 for c in path):
        return "/"
    return path
