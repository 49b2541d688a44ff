"""Signing in to the MTB workspace: a team token (a member's personal token, for decisions) exchanged for a
browser session that expires; signing out ends it on the server, not only in the browser."""

from dataclasses import dataclass

from services.notify.domain.routing import Team
from services.notify.domain.sessions import expires_at, is_live, new_secret
from services.notify.domain.tokens import Principal, token_hash
from services.notify.ports import Clock, SessionStore, TeamDirectory


@dataclass(frozen=True)
class WorkspaceSession:
    """A signed-in browser: who it acts as and the token its forms must carry (cross-site request forgery)."""

    principal: Principal
    csrf: str


class SignIn:
    def __init__(self, directory: TeamDirectory, sessions: SessionStore, clock: Clock, ttl_s: float) -> None:
        self.directory = directory
        self.sessions = sessions
        self.clock = clock
        self.ttl_s = ttl_s

    async def sign_in(self, token: str) -> str | None:
        """A new session's id for a valid token (to go into the cookie, never stored); None for an unknown one."""
        principal = await self.directory.authenticate(token)
        if principal is None:
            return None
        session_id, now = new_secret(), self.clock()
        await self.sessions.create_session({
            "_id": token_hash(session_id), "team_id": principal.team.team_id, "member": principal.member,
            "scopes": sorted(principal.scopes), "csrf": new_secret(), "created_at": now,
            "expires_at": expires_at(now, self.ttl_s),
        })
        return session_id

    async def session(self, session_id: str) -> WorkspaceSession | None:
        """The live session of a cookie's id; None when unknown, expired (then deleted) or its team is gone."""
        key = token_hash(session_id)
        doc = await self.sessions.get_session(key)
        if doc is None:
            return None
        if not is_live(doc, self.clock()):
            await self.sessions.end_session(key)
            return None
        team: Team | None = await self.directory.get_team(doc["team_id"])
        if team is None:
            return None
        return WorkspaceSession(Principal(team, frozenset(doc["scopes"]), doc.get("member")), doc["csrf"])

    async def sign_out(self, session_id: str) -> None:
        await self.sessions.end_session(token_hash(session_id))
