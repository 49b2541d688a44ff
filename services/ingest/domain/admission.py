"""Whether a valid result may enter: it came on its lab's channel, the lab is registered for its hospital,
the result id is the lab's own, and the case belongs to the hospital the result names (pure)."""

from contracts import topics
from contracts.events import RejectionReason, SequencingResult
from contracts.reasons import RejectionCode
from contracts.registry import Lab
from contracts.rejection import reason


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


def channel_problem(lab_id: str, topic_lab: str | None, own_topic_labs: frozenset[str]) -> RejectionReason | None:
    """The reason to refuse a result for `lab_id` that came on lab `topic_lab`'s own topic (None: the shared
    topic), when labs in `own_topic_labs` publish only on their own topics (which Kafka ACLs reserve to them)."""
    if topic_lab is not None and lab_id != topic_lab:
        return reason(RejectionCode.LAB_TOPIC_MISMATCH,
                      f"lab_id {lab_id!r} was sent on {topics.lab_results(topic_lab)}, the topic of lab {topic_lab}",
                      "lab_id")
    if topic_lab is None and lab_id in own_topic_labs:
        return reason(RejectionCode.LAB_TOPIC_REQUIRED,
                      f"results of lab {lab_id} are accepted only on its own topic {topics.lab_results(lab_id)}",
                      "lab_id")
    return None
