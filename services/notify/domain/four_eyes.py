"""Four eyes on every MTB decision (pure): one member drafts it, a different member signs it off."""

from typing import Any

NO_MEMBER = ("a decision needs a personal token, which names a member of the team: ask your operator for one "
             "(oncorelay teams token TEAM --member NAME)")


def draft_problem(member: str | None) -> str | None:
    """Why this member may not draft a decision; None when they may."""
    return NO_MEMBER if not member else None


def sign_off_problem(draft: dict[str, Any] | None, member: str | None) -> str | None:
    """Why this member may not sign off the alert's draft; None when they may."""
    if not member:
        return NO_MEMBER
    if draft is None:
        return "there is no drafted decision to sign off: draft one first"
    if draft.get("drafted_by") == member:
        return "the member who drafted a decision cannot sign it off: a second member of the team must"
    return None
