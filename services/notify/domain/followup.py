"""Following a decision up (pure): which decisions ask, after a while, whether the recommended therapy was
started and how the patient responded; and what makes an answer complete."""

from datetime import datetime, timedelta
from typing import Any

RECOMMENDS_THERAPY = ("targeted_therapy", "clinical_trial")


def followup_due(decision: dict[str, Any], after_s: float) -> datetime | None:
    """When a decision's follow-up is due; None for a decision that recommends no therapy."""
    if decision.get("outcome") not in RECOMMENDS_THERAPY or not (decision.get("therapies") or
                                                                  decision.get("trial_referral")):
        return None
    decided_at = decision["decided_at"]
    assert isinstance(decided_at, datetime)
    return decided_at + timedelta(seconds=after_s)


def answer_problem(started: bool, not_started_reason: str | None, response: str | None) -> str | None:
    """Why a follow-up answer is incomplete or contradictory; None when it is fine."""
    if not started and not not_started_reason:
        return "say why the therapy was not started"
    if not started and response:
        return "a response can only be given for a therapy that was started"
    if started and not response:
        return "give the response (or 'too early' when it cannot be assessed yet)"
    return None
