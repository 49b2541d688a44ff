"""The MTB's side of an alert: acknowledge it, record the decision, escalate it when nobody does.

Each step updates the alert atomically (so two clicks or two notify processes act once), moves
the case along its timeline, is written to the append-only audit collection, published as an
event, and shown on the team's live stream.
"""

import logging
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from contracts import topics
from contracts.events import (
    AlertAcknowledged,
    AlertEscalated,
    FollowUpRecorded,
    FollowUpResponse,
    MtbDecisionRecorded,
    MtbOutcome,
)
from services.common.settings import Settings
from services.notify import metrics
from services.notify.domain.followup import answer_problem, followup_due
from services.notify.domain.four_eyes import NO_MEMBER, draft_problem, sign_off_problem
from services.notify.domain.review import ACKNOWLEDGED, DECIDED, OPEN, next_escalation_due
from services.notify.domain.routing import Team, channel_doc
from services.notify.domain.tokens import Principal
from services.notify.ports import (
    AlertStore,
    CaseRecord,
    Clock,
    DeliveryStore,
    Effect,
    Publish,
    StreamStore,
    TeamDirectory,
    Wakeup,
)

log = logging.getLogger("oncorelay.notify")
SERVICE = "notify"

Text = Annotated[str, Field(min_length=1, max_length=4000)]
Name = Annotated[str, Field(min_length=1, max_length=120)]


class AcknowledgeInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: Name
    note: Annotated[str, Field(max_length=2000)] | None = None


class DecisionDraft(BaseModel):
    """A decision as one member drafts it; a second member signs it off (four eyes)."""

    model_config = ConfigDict(extra="forbid")
    outcome: MtbOutcome
    recommendation: Text
    rationale: Text
    therapies: list[Name] = Field(default_factory=list, max_length=20)
    trial_referral: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    members_present: Annotated[list[Name], Field(min_length=1, max_length=30)]


class FollowUpInput(BaseModel):
    """The treating team's answer, some weeks after a decision recommending a therapy."""

    model_config = ConfigDict(extra="forbid")
    therapy_started: bool
    not_started_reason: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    response: FollowUpResponse | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None


@dataclass(frozen=True)
class Outcome:
    """What an API call did: 'done', 'already' (repeated request), 'not_found', 'forbidden' (no member to act as)
    'conflict' (four eyes: no draft, or the author signing their own draft) or 'invalid' (an incomplete answer)."""

    status: str
    document: dict | None = None
    message: str = ""


class Review:
    def __init__(self, alerts: AlertStore, deliveries: DeliveryStore, streams: StreamStore, directory: TeamDirectory,
                 cases: CaseRecord, publish: Publish, settings: Settings, deliveries_wake: Wakeup,
                 stream_wake: Wakeup, clock: Clock) -> None:
        self.alerts = alerts
        self.deliveries = deliveries
        self.streams = streams
        self.directory = directory
        self.cases = cases
        self.clock = clock
        self.publish = publish
        self.settings = settings
        self.deliveries_wake = deliveries_wake
        self.stream_wake = stream_wake

    async def visible_alert(self, team: Team, alert_id: str) -> dict | None:
        """The alert if it concerns a site the team serves (otherwise None, as if it did not exist)."""
        alert = await self.alerts.get_alert(alert_id)
        return alert if alert and team.serves(alert["treating_site"]) else None

    async def acknowledge(self, team: Team, alert_id: str, request: AcknowledgeInput) -> Outcome:
        """Mark an open alert as seen by the team (stops its escalation)."""
        alert = await self.visible_alert(team, alert_id)
        if alert is None:
            return Outcome("not_found")
        now = self.clock()
        updated = await self.alerts.transition_alert(alert_id, [OPEN], {
            "status": ACKNOWLEDGED, "acknowledged_at": now, "acknowledged_by": request.by, "acknowledged_team": team.team_id,
            "acknowledged_note": request.note,
            "escalation_due_at": None,
        })
        if updated is None:
            return Outcome("already", alert, f"alert is {alert['status']}")
        metrics.ACKNOWLEDGEMENTS.labels(alert["priority"]).inc()
        metrics.TIME_TO_ACKNOWLEDGE.labels(alert["priority"]).observe((now - alert["raised_at"]).total_seconds())
        event = AlertAcknowledged(alert_id=alert_id, case_id=alert["case_id"], result_key=alert["result_key"],
                                  team_id=team.team_id, acknowledged_by=request.by, note=request.note, acknowledged_at=now)
        await self._record(team, alert, "acknowledged", f"by {request.by}", event.model_dump(mode="json"))
        await self.publish(topics.ALERTS_ACKNOWLEDGED, alert["case_id"], event)
        return Outcome("done", updated)

    async def draft(self, principal: Principal, alert_id: str, request: DecisionDraft) -> Outcome:
        """Store a member's draft of the decision (replacing an earlier draft); a second member signs it off."""
        team = principal.team
        if problem := draft_problem(principal.member):
            return Outcome("forbidden", message=problem)
        alert = await self.visible_alert(team, alert_id)
        if alert is None:
            return Outcome("not_found")
        if alert["status"] == DECIDED:
            return Outcome("already", alert, "a decision is already recorded for this alert")
        now = self.clock()
        draft = {"_id": alert_id, "alert_id": alert_id, "case_id": alert["case_id"], "team_id": team.team_id,
                 **request.model_dump(), "drafted_by": principal.member, "drafted_at": now}
        await self.alerts.save_draft(draft)
        data = {"alert_id": alert_id, "case_id": alert["case_id"], "drafted_by": principal.member,
                "outcome": request.outcome, "drafted_at": now.isoformat()}
        await self.cases.audit(f"team:{team.team_id}", "decision_drafted", alert["case_id"], alert_id, data)
        await self.streams.append_stream_event(team.team_id, "decision_drafted", data,
                                               f"decision_drafted:{alert_id}:{now.isoformat()}")
        self.stream_wake.set()
        return Outcome("done", draft)

    async def sign_off(self, principal: Principal, alert_id: str) -> Outcome:
        """A second member signs the draft off: the MTB's recommendation is recorded and closes the review."""
        team = principal.team
        if not principal.member:
            return Outcome("forbidden", message=NO_MEMBER)
        alert = await self.visible_alert(team, alert_id)
        if alert is None:
            return Outcome("not_found")
        if alert["status"] == DECIDED:
            return Outcome("already", alert, "a decision is already recorded for this alert")
        draft = await self.alerts.get_draft(alert_id)
        if problem := sign_off_problem(draft, principal.member):
            return Outcome("conflict", alert, problem)
        assert draft is not None  # sign_off_problem refuses a missing draft
        now = self.clock()
        decision_id = f"{alert_id}:decision"
        updated = await self.alerts.transition_alert(alert_id, [OPEN, ACKNOWLEDGED], {
            "status": DECIDED, "decided_at": now, "decision_id": decision_id, "escalation_due_at": None,
        })
        if updated is None:
            return Outcome("already", alert, "a decision is already recorded for this alert")
        fields = DecisionDraft.model_validate({k: draft[k] for k in DecisionDraft.model_fields if k in draft})
        event = MtbDecisionRecorded(decision_id=decision_id, alert_id=alert_id, case_id=alert["case_id"],
                                    result_key=alert["result_key"], team_id=team.team_id, decided_at=now,
                                    drafted_by=draft["drafted_by"], drafted_at=draft["drafted_at"],
                                    signed_off_by=[principal.member], signed_off_at=now, **fields.model_dump())
        await self.alerts.record_decision({"_id": decision_id, **event.model_dump(mode="json"), "decided_at": now})
        due = followup_due({**fields.model_dump(), "decided_at": now}, self.settings.followup_after_s)
        if due is not None:
            await self.alerts.schedule_followup({
                "_id": decision_id, "decision_id": decision_id, "alert_id": alert_id, "case_id": alert["case_id"],
                "team_id": team.team_id, "treating_site": alert["treating_site"], "result_key": alert["result_key"],
                "outcome": fields.outcome, "therapies": fields.therapies, "due_at": due, "status": "pending"})
        metrics.DECISIONS.labels(fields.outcome).inc()
        await self._record(team, alert, "decided", fields.outcome, event.model_dump(mode="json"))
        await self.publish(topics.MTB_DECISIONS, alert["case_id"], event)
        return Outcome("done", updated)

    async def follow_up(self, principal: Principal, alert_id: str, request: FollowUpInput) -> Outcome:
        """Record what became of the decision's recommendation (once): started or not, and the response."""
        team = principal.team
        alert = await self.visible_alert(team, alert_id)
        if alert is None or not alert.get("decision_id"):
            return Outcome("not_found")
        followup = await self.alerts.get_followup(alert["decision_id"])
        if followup is None:
            return Outcome("not_found", message="this decision recommended no therapy: nothing to follow up")
        if problem := answer_problem(request.therapy_started, request.not_started_reason, request.response):
            return Outcome("invalid", followup, problem)
        now = self.clock()
        by = principal.member or f"{team.team_id} (team token)"
        event = FollowUpRecorded(followup_id=followup["_id"], decision_id=followup["decision_id"], alert_id=alert_id,
                                 case_id=alert["case_id"], team_id=team.team_id, recorded_by=by,
                                 due_at=followup["due_at"], recorded_at=now, **request.model_dump())
        answered = await self.alerts.answer_followup(followup["_id"], {**event.model_dump(mode="json"),
                                                                       "due_at": followup["due_at"],
                                                                       "recorded_at": now})
        if answered is None:
            return Outcome("already", followup, "this follow-up is answered already")
        detail = ("started" if request.therapy_started else "not started") + (
            f", {request.response.replace('_', ' ')}" if request.response else "")
        data = event.model_dump(mode="json")
        await self.cases.add_step(alert["case_id"], alert["result_key"], "followed_up", detail)
        await self.cases.audit(f"team:{team.team_id}", "followed_up", alert["case_id"], alert_id, data)
        await self.streams.append_stream_event(team.team_id, "followed_up", data, f"followed_up:{alert_id}")
        self.stream_wake.set()
        metrics.FOLLOWUPS.labels("started" if request.therapy_started else "not_started").inc()
        await self.publish(topics.MTB_FOLLOWUPS, alert["case_id"], event)
        return Outcome("done", answered)

    async def _record(self, team: Team, alert: dict, stage: str, detail: str, data: dict) -> None:
        await self.cases.advance(alert["case_id"], alert["result_key"], alert["published_at"], [(stage, detail)])
        await self.cases.audit(f"team:{team.team_id}", stage, alert["case_id"], alert["_id"], data)
        await self.streams.append_stream_event(team.team_id, stage, data, f"{stage}:{alert['_id']}")
        self.stream_wake.set()

    async def escalate_overdue(self) -> int:
        """Escalate every urgent alert whose acknowledgement is overdue by one level; returns how many."""
        count = 0
        for alert in await self.alerts.overdue_alerts(self.clock()):
            try:
                count += await self._escalate(alert)
            except Exception:  # one bad alert must not stop the others; it is looked at again next scan
                log.exception("escalation failed", extra={"alert_id": alert["_id"]})
        return count

    async def _escalate(self, alert: dict) -> int:
        """Escalate one overdue alert to its next contact. Every effect is recorded once (by the alert and level) and
        the claim of the level comes last: a crash before it leaves the alert due, and the next scan redoes only
        what is missing (the AlertEscalated event may then be published twice, as any event after a crash)."""
        now = self.clock()
        teams = await self.directory.teams_serving(alert["treating_site"])
        contacts = [(team, contact) for team in teams for contact in team.escalation_contacts]
        level = alert.get("escalation_level", 0) + 1
        if level > len(contacts):
            await self.alerts.stop_escalating(alert["_id"])
            return 0
        next_due = next_escalation_due(level, len(contacts), now, self.settings.escalation_after_s)
        team, contact = contacts[level - 1]
        overdue_s = max((now - alert["raised_at"]).total_seconds(), 0.0)
        event = AlertEscalated(alert_id=alert["_id"], case_id=alert["case_id"], team_id=team.team_id, level=level,
                               channel=contact.kind, overdue_s=round(overdue_s, 3), escalated_at=now)
        await self.alerts.record_escalation({"_id": f"{alert['_id']}|{level}", **event.model_dump(mode="json"),
                                             "target": contact.target(), "at": now})
        await self.deliveries.create_delivery({
            "_id": f"{alert['_id']}|escalation-{level}", "alert_id": alert["_id"], "case_id": alert["case_id"],
            "kind": "escalation", "level": level, "team_id": team.team_id, "channel": contact.kind,
            "target": contact.target(), "contact": channel_doc(contact),
        })
        await self.cases.audit_once([Effect(f"escalated:{alert['_id']}:{level}", SERVICE, "escalated", alert["case_id"],
                                            alert["_id"], {"level": level, "team_id": team.team_id,
                                                           "channel": contact.kind})])
        await self.cases.add_step(alert["case_id"], alert["result_key"], f"escalated-{level}",
                                  f"to {contact.kind} contact of {team.team_id}")
        await self.streams.append_stream_event(team.team_id, "escalated", event.model_dump(mode="json"),
                                               f"escalated:{alert['_id']}:{level}")
        await self.publish(topics.ALERTS_ESCALATED, alert["case_id"], event)
        if not await self.alerts.claim_escalation(alert["_id"], level, next_due):
            return 0  # another process escalated it at the same time (the effects above are each recorded once)
        self.deliveries_wake.set()
        self.stream_wake.set()
        metrics.ESCALATIONS.labels(str(level)).inc()
        return 1
