"""Whether a valid result may enter: the lab is registered for its hospital, the result id is the
lab's own, and the case belongs to the hospital the result names (pure)."""

from contracts.events import RejectionReason, SequencingResult
from contracts.reasons import RejectionCode
from contracts.rejection import reason
from services.common.labs import Lab


def admit(result: SequencingResult, lab: Lab | None, open_enrolment: bool, owner_lab: str | None,
          case_site: str | None) -> RejectionReason | None:
    """The reason to refuse `result`, or None to accept it.

    `lab` is the registration of result.lab_id (None: not registered); `owner_lab` the lab that published
    the accepted versions of result.result_id (None: a new result id); `case_site` the treating site of the
    existing case result.case_id (None: a new case)."""
    if lab is None and not open_enrolment:
        return reason(RejectionCode.UNKNOWN_LAB, f"lab_id {result.lab_id!r} is not registered", "lab_id")
    if lab is not None and not lab.serves(result.treating_site):
        return reason(RejectionCode.SITE_NOT_PERMITTED,
                      f"lab {result.lab_id} is not registered to send results for {result.treating_site}",
                      "treating_site")
    if owner_lab is not None and owner_lab != result.lab_id:
        return reason(RejectionCode.RESULT_OWNED_BY_OTHER_LAB,
                      f"result_id {result.result_id} was published by another lab", "result_id")
    if case_site is not None and case_site != result.treating_site:
        return reason(RejectionCode.CASE_SITE_CONFLICT,
                      f"case {result.case_id} is treated at another hospital, not {result.treating_site}",
                      "treating_site")
    return None
