"""Build rejection reasons: the specific detail first, then the advice for its code."""

from contracts.events import RejectionReason
from contracts.reasons import ADVICE, RejectionCode


def reason(code: RejectionCode, detail: str = "", field: str | None = None) -> RejectionReason:
    """A rejection reason whose message is the specific detail followed by the advice for its code."""
    message = f"{detail.rstrip('.')}. {ADVICE[code]}" if detail else ADVICE[code]
    return RejectionReason(code=code, message=message, field=field)
