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
from contracts.events import AlertAcknowledged, AlertEscalated, MtbDecisionRecorded, MtbOutcome
from services.common.settings import Settings
from services.notify import metrics
from services.notify.domain.review import ACKNOWLEDGED, DECIDED, OPEN, next_escalation_due
from services.notify.domain.routing import Team, channel_doc
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


class DecisionInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: MtbOutcome
    recommendation: Text
    rationale: Text
    therapies: list[Name] = Field(default_factory=list, max_length=20)
    signed_off_by: Annotated[list[Name], Field(min_length=1, max_length=20)]


@dataclass(frozen=True)
class Outcome:
    """What an API call did: 'done', 'already' (repeated request), 'not_found', or 'conflict'."""

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

    async def decide(self, team: Team, alert_id: str, request: DecisionInput) -> Outcome:
        """Record the MTB's recommendation for the review this alert asked for; it closes the review."""
        alert = await self.visible_alert(team, alert_id)
        if alert is None:
            return Outcome("not_found")
        now = self.clock()
        decision_id = f"{alert_id}:decision"
        updated = await self.alerts.transition_alert(alert_id, [OPEN, ACKNOWLEDGED], {
            "status": DECIDED, "decided_at": now, "decision_id": decision_id, "escalation_due_at": None,
        })
        if updated is None:
            return Outcome("already", alert, "a decision is already recorded for this alert")
        event = MtbDecisionRecorded(decision_id=decision_id, alert_id=alert_id, case_id=alert["case_id"],
                                    result_key=alert["result_key"], team_id=team.team_id, decided_at=now,
                                    **request.model_dump())
        await self.alerts.record_decision({"_id": decision_id, **event.model_dump(mode="json"), "decided_at": now})
        metrics.DECISIONS.labels(request.outcome).inc()
        await self._record(team, alert, "decided", request.outcome, event.model_dump(mode="json"))
        await self.publish(topics.MTB_DECISIONS, alert["case_id"], event)
        return Outcome("done", updated)

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
