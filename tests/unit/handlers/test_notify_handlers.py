"""notify's handlers with in-memory fakes of their ports: routing an alert (handled twice, a crash between any two
writes), sending deliveries through the channel registry (delivered, retried, failed, cancelled, a crash while
recording), and the MTB's review (acknowledge, decide, escalate), the orderings services/notify/handlers argue."""

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import get_args

import pytest

from contracts import topics
from contracts.events import AlertDelivered, AlertEscalated, ChannelKind, MtbReviewRequired
from services.common import metrics
from services.common.oncotree import load_oncotree
from services.common.settings import Settings
from services.notify.adapters.channels import channel_senders
from services.notify.domain.attempts import AttemptOutcome
from services.notify.domain.routing import Channel, Subscription, Team
from services.notify.domain.tokens import Principal
from services.notify.handlers.alert_intake import AlertIntake
from services.notify.handlers.delivery import Dispatcher
from services.notify.handlers.review import AcknowledgeInput, DecisionDraft, FollowUpInput, Review
from tests.fakes.common import FakeCaseRecord, FakePublisher, FixedClock
from tests.fakes.faults import CrashRun, Faults
from tests.fakes.notify import (
    FakeAlertStore,
    FakeDeliveryStore,
    FakeStreamStore,
    FakeTeamDirectory,
    ScriptedSender,
    WakeCount,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "contracts" / "examples" / "MtbReviewRequired.json"
LINEAGE = load_oncotree().lineage
SITE = "HOSP-GENT"
GENT = Team(team_id="mtb-gent", site_ids=frozenset({SITE}), name="Gent MTB",
            escalation_contacts=(Channel(kind="email", to=("oncall@gent.example",)),
                                 Channel(kind="webhook", url="https://pager.gent.example/hook", secret="s" * 16)))
OTHER = Team(team_id="mtb-leuven", site_ids=frozenset({"HOSP-LEUVEN"}))


def alert(**changes) -> MtbReviewRequired:
    event = MtbReviewRequired.model_validate_json(EXAMPLE.read_bytes())
    return event.model_copy(update=changes)


@dataclass
class NotifyWorld:
    faults: Faults = field(default_factory=Faults)
    settings: Settings = field(default_factory=lambda: Settings(_env_file=None, delivery_max_attempts=3))

    def __post_init__(self) -> None:
        self.clock = FixedClock()
        self.publish = FakePublisher(self.faults)
        self.alerts = FakeAlertStore(self.faults, self.clock)
        self.deliveries = FakeDeliveryStore(self.faults, self.clock)
        self.streams = FakeStreamStore(self.faults, self.clock)
        self.directory = FakeTeamDirectory(self.faults, self.clock)
        self.cases = FakeCaseRecord(self.faults, self.clock)
        self.webhook, self.email, self.stream = ScriptedSender(), ScriptedSender(), ScriptedSender()
        self.handed: list[str] = []  # deliveries the intake handed to this process's Dispatcher
        self.wake, self.stream_wake = WakeCount(), WakeCount()
        senders = {"webhook": self.webhook, "email": self.email, "stream": self.stream}
        self.dispatcher = Dispatcher(self.deliveries, self.alerts, self.directory, self.cases, self.publish, senders,
                                     self.settings, self.wake, self.clock)
        self.intake = AlertIntake(self.alerts, self.deliveries, self.directory, self.cases, self.streams,
                                  self.stream_wake, self.settings, LINEAGE,
                                  lambda delivery, _alert, _channel: self.handed.append(delivery["_id"]), self.clock)
        self.review = Review(self.alerts, self.deliveries, self.streams, self.directory, self.cases, self.publish,
                             self.settings, self.wake, self.stream_wake, self.clock)
        for team in (GENT, OTHER):
            self.directory.teams[team.team_id] = team
        for sub_id, team, channel in (("sub-hook", GENT, Channel(kind="webhook", url="https://mtb.gent.example/in",
                                                                 secret="x" * 16)),
                                      ("sub-stream", GENT, Channel(kind="stream")),
                                      ("sub-leuven", OTHER, Channel(kind="stream"))):
            subscription = Subscription(subscription_id=sub_id, team_id=team.team_id, site_ids=team.site_ids,
                                        channel=channel)
            self.directory.objects[sub_id] = subscription
            self.directory.subscriptions[sub_id] = {"_id": sub_id, "team_id": team.team_id, "active": True,
                                                    "event_counter": 0}

    def case_of(self, event: MtbReviewRequired) -> None:
        """What annotate left: the case, at review_required."""
        self.cases.cases[event.case_id] = {"_id": event.case_id, "state": "review_required", "state_order": "",
                                           "treating_site": event.treating_site}

    def state(self) -> dict:
        return {"alerts": self.alerts.alerts, "queue": self.alerts.escalation_queue,
                "deliveries": self.deliveries.deliveries, "delivery_queue": self.deliveries.queue,
                "subscriptions": self.directory.subscriptions, "cases": self.cases.cases,
                "audit": self.cases.audited, "audit_log": self.cases.audit_log,
                # by dedupe key: a crash after a number was reserved makes the retry take the next (a gap the
                # stream skips, never a repeat)
                "streams": {(e["team_id"], e["dedupe"]): (e["event"], e["data"]) for e in self.streams.events.values()},
                "escalations": self.alerts.escalations, "decisions": self.alerts.decisions,
                "published": self.publish.distinct()}


async def routed(world: NotifyWorld, event: MtbReviewRequired) -> None:
    world.case_of(event)
    await world.intake.handle(event.model_dump_json().encode())


# --- AlertIntake -----------------------------------------------------------------------------------------------

async def test_an_alert_is_routed_to_the_treating_sites_team_only_and_its_deliveries_handed_over_leased():
    world, event = NotifyWorld(), alert()
    await routed(world, event)
    assert [(e["team_id"], e["event"]) for e in world.streams.events.values()] == [(GENT.team_id, "alert")]
    stored = world.alerts.alerts[event.alert_id]
    assert stored["routed"] and stored["team_ids"] == [GENT.team_id] and stored["status"] == "open"
    ids = {f"{event.alert_id}|sub-hook", f"{event.alert_id}|sub-stream"}
    assert set(world.deliveries.deliveries) == ids and sorted(world.handed) == sorted(ids)  # not Leuven's
    assert all(d["status"] == "sending" and d["lease_until"] > world.clock() for d in world.deliveries.deliveries.values())
    assert [d["event_number"] for d in world.deliveries.deliveries.values()] == [1, 1]
    assert world.cases.cases[event.case_id]["state"] == "alerted"
    assert event.alert_id not in world.alerts.escalation_queue  # a routine alert does not escalate


async def test_an_alert_handled_twice_is_routed_once_and_takes_no_second_event_number():
    world, event = NotifyWorld(), alert()
    await routed(world, event)
    before = world.state()
    await world.intake.handle(event.model_dump_json().encode())
    assert world.state() == before and len(world.handed) == 2
    assert world.directory.subscriptions["sub-hook"]["event_counter"] == 1


async def test_a_crash_between_any_two_writes_of_routing_ends_as_one_clean_run():
    event = alert(priority="urgent")

    def build() -> NotifyWorld:
        world = NotifyWorld()
        world.case_of(event)
        return world

    def invariant(world: NotifyWorld) -> None:  # a half-done alert that will escalate is queued before it exists
        if event.alert_id in world.alerts.alerts:
            assert event.alert_id in world.alerts.escalation_queue

    def observe(world: NotifyWorld) -> dict:
        """The state, but for event numbers: a crash after a number was taken and before its delivery existed
        makes the redelivery take the next one (a receiver sees a gap, never a number twice)."""
        numbers = [d.pop("event_number") for d in (world.deliveries.deliveries or {}).values()]
        assert len(numbers) == len(set(numbers)) or len({d["subscription_id"] for d in
                                                         world.deliveries.deliveries.values()}) == len(numbers)
        state = world.state()
        state["subscriptions"] = {k: {f: v for f, v in d.items() if f != "event_counter"}
                                  for k, d in state["subscriptions"].items()}
        state["deliveries"] = {i: {k: v for k, v in d.items() if k not in ("lease_until", "status")}
                               for i, d in world.deliveries.deliveries.items()}
        return state

    run = CrashRun(build, lambda w: w.intake.handle(event.model_dump_json().encode()), observe)
    assert await run.check_every_crash(invariant) >= 8


async def test_an_invalid_alert_is_skipped_without_a_write():
    world = NotifyWorld()
    await world.intake.handle(b'{"alert_id": "x"}')
    assert world.faults.writes == [] and not world.alerts.alerts


async def test_an_urgent_alert_is_queued_to_escalate_after_the_configured_time():
    world, event = NotifyWorld(), alert(priority="urgent")
    await routed(world, event)
    due = event.raised_at + timedelta(seconds=world.settings.escalation_after_s)
    assert world.alerts.escalation_queue[event.alert_id] == due == world.alerts.alerts[event.alert_id]["escalation_due_at"]


async def routed_before_the_run(world: NotifyWorld, event: MtbReviewRequired) -> bool:
    """Route the alert once, before the first run of a CrashRun, with no crash (routing is not under test) and
    its writes not counted; False when it is routed already (the redelivery after a crash)."""
    if event.alert_id in world.alerts.alerts:
        return False
    crash_at, world.faults.crash_at = world.faults.crash_at, None
    await world.intake.handle(event.model_dump_json().encode())
    world.faults.writes.clear()
    world.faults.crash_at = crash_at
    return True


# --- Dispatcher and the channel registry -----------------------------------------------------------------------

async def routed_and_due(world: NotifyWorld, event: MtbReviewRequired) -> None:
    """Routed by another process that died before sending: its leases have run out."""
    await routed(world, event)
    world.clock.advance(world.settings.delivery_lease_s + 1)


async def test_the_registry_has_one_sender_for_each_declared_channel_kind():
    senders = channel_senders(Settings(_env_file=None), FakeStreamStore(Faults(), FixedClock()), WakeCount())
    assert set(senders) == set(get_args(ChannelKind)) == {"webhook", "email", "stream"}


async def test_a_due_delivery_is_claimed_sent_once_and_recorded_as_delivered():
    world, event = NotifyWorld(), alert()
    await routed(world, event)
    assert await world.deliveries.claim_due_delivery(world.clock(), 60) is None  # leased to the routing process
    world.clock.advance(world.settings.delivery_lease_s + 1)
    counted = metrics.ALERTS_DELIVERED.labels("webhook", "delivered")._value.get()
    await world.dispatcher.drain()
    for task in list(world.dispatcher.in_flight):
        await task
    assert world.webhook.sent == [(f"{event.alert_id}|sub-hook", event.alert_id)]
    assert world.stream.sent == [(f"{event.alert_id}|sub-stream", event.alert_id)]
    assert {d["status"] for d in world.deliveries.deliveries.values()} == {"delivered"} and not world.deliveries.queue
    assert world.alerts.alerts[event.alert_id]["delivery_status"] == "delivered"
    delivered = world.publish.on(topics.ALERTS_DELIVERED)
    assert {(e.channel, e.status, e.attempts) for e in delivered} == {("webhook", "delivered", 1),
                                                                      ("stream", "delivered", 1)}
    steps = [s["stage"] for s in world.cases.cases[event.case_id]["timeline"]]
    assert steps.count("delivered") == 1  # one step per result, however many channels
    assert metrics.ALERTS_DELIVERED.labels("webhook", "delivered")._value.get() == counted + 1


async def test_a_failing_webhook_is_retried_with_backoff_then_dead_lettered():
    world, event = NotifyWorld(), alert()
    world.webhook.outcomes = [AttemptOutcome(False, "HTTP 503")] * 3
    await routed_and_due(world, event)
    delivery_id = f"{event.alert_id}|sub-hook"
    for attempt in (1, 2):
        await world.dispatcher.attempt(await world.deliveries.claim_due_delivery(world.clock(), 60)
                                       if attempt == 1 else world.deliveries.deliveries[delivery_id])
        delivery = world.deliveries.deliveries[delivery_id]
        assert delivery["status"] == "pending" and delivery["attempt_count"] == attempt
        assert world.clock() < delivery["next_attempt_at"] <= world.clock() + timedelta(seconds=30)
        assert world.alerts.alerts[event.alert_id]["delivery_status"] == "pending"
    await world.dispatcher.attempt(world.deliveries.deliveries[delivery_id])
    assert world.deliveries.deliveries[delivery_id]["status"] == "failed" and delivery_id not in world.deliveries.queue
    assert world.alerts.alerts[event.alert_id]["delivery_status"] == "failed"
    assert [e.alert_id for e in world.publish.on(topics.ALERTS_DLQ)] == [event.alert_id]
    [failed] = [e for e in world.publish.on(topics.ALERTS_DELIVERED) if isinstance(e, AlertDelivered)]
    assert (failed.status, failed.attempts, failed.detail) == ("failed", 3, "HTTP 503")
    assert [e["action"] for e in world.cases.audited.values() if e["action"] != "state_changed"] == ["delivery_failed"]


async def test_an_outcome_that_cannot_succeed_fails_at_once():
    world, event = NotifyWorld(), alert()
    world.webhook.outcomes = [AttemptOutcome(False, "not sent: webhook URL refused", final=True)]
    await routed_and_due(world, event)
    delivery_id = f"{event.alert_id}|sub-hook"
    await world.dispatcher.attempt(world.deliveries.deliveries[delivery_id])
    assert world.deliveries.deliveries[delivery_id]["status"] == "failed"
    assert world.deliveries.deliveries[delivery_id]["attempt_count"] == 1


async def test_a_delivery_of_a_removed_subscription_is_cancelled_not_sent():
    world, event = NotifyWorld(), alert()
    await routed_and_due(world, event)
    assert await world.directory.remove_subscription("sub-hook", GENT.team_id)
    delivery_id = f"{event.alert_id}|sub-hook"
    await world.dispatcher.attempt(world.deliveries.deliveries[delivery_id])
    assert world.webhook.sent == [] and world.deliveries.deliveries[delivery_id]["status"] == "cancelled"
    assert [e["action"] for e in world.cases.audited.values() if e["action"] != "state_changed"] == [
        "delivery_cancelled"]
    assert world.publish.on(topics.ALERTS_DELIVERED) == []


async def test_a_crash_while_recording_a_delivery_is_sent_again_after_the_lease_and_recorded_once():
    event = alert()

    def build() -> NotifyWorld:
        world = NotifyWorld()
        world.case_of(event)
        return world

    async def run(world: NotifyWorld) -> None:
        await routed_before_the_run(world, event)
        world.clock.advance(world.settings.delivery_lease_s + 1)  # the routing process (or a crashed attempt) died
        while claimed := await world.deliveries.claim_due_delivery(world.clock(), world.settings.delivery_lease_s):
            await world.dispatcher.attempt(claimed)

    def observe(world: NotifyWorld) -> dict:
        return {"status": {i: d["status"] for i, d in world.deliveries.deliveries.items()},
                "queue": dict(world.deliveries.queue), "alert": world.alerts.alerts[event.alert_id]["delivery_status"],
                "timeline": [s["stage"] for s in world.cases.cases[event.case_id]["timeline"]],
                "delivered": {(e.alert_id, e.channel, e.status) for e in world.publish.on(topics.ALERTS_DELIVERED)}}

    assert await CrashRun(build, run, observe).check_every_crash() >= 6


# --- Review: acknowledge, decide, escalate ---------------------------------------------------------------------

DECISION = DecisionDraft(outcome="targeted_therapy", recommendation="dabrafenib + trametinib",
                         rationale="BRAF V600E, Tier I in NSCLC", therapies=["dabrafenib", "trametinib"],
                         trial_referral=None, members_present=["Dr. A", "Dr. B", "Dr. C"])
SCOPES = frozenset({"read", "ack", "decide"})
DR_A, DR_B = Principal(GENT, SCOPES, "Dr. A"), Principal(GENT, SCOPES, "Dr. B")
TEAM_TOKEN, LEUVEN_MEMBER = Principal(GENT, SCOPES), Principal(OTHER, SCOPES, "Dr. L")


async def test_an_acknowledgement_is_recorded_once_and_stops_the_escalation():
    world, event = NotifyWorld(), alert(priority="urgent")
    await routed(world, event)
    first = await world.review.acknowledge(GENT, event.alert_id, AcknowledgeInput(by="Dr. A"))
    second = await world.review.acknowledge(GENT, event.alert_id, AcknowledgeInput(by="Dr. B"))
    assert (first.status, second.status) == ("done", "already")
    stored = world.alerts.alerts[event.alert_id]
    assert stored["acknowledged_by"] == "Dr. A" and stored["escalation_due_at"] is None
    assert [e.acknowledged_by for e in world.publish.on(topics.ALERTS_ACKNOWLEDGED)] == ["Dr. A"]
    assert world.cases.cases[event.case_id]["state"] == "acknowledged"
    assert [e["event"] for e in world.streams.events.values()] == ["alert", "acknowledged"]
    assert world.stream_wake.count == 2  # the alert, then its acknowledgement
    world.clock.advance(world.settings.escalation_after_s * 10)
    assert await world.review.escalate_overdue() == 0 and event.alert_id not in world.alerts.escalation_queue


async def test_another_teams_alert_is_not_found_for_a_team():
    world, event = NotifyWorld(), alert()
    await routed(world, event)
    assert (await world.review.acknowledge(OTHER, event.alert_id, AcknowledgeInput(by="x"))).status == "not_found"
    assert (await world.review.draft(LEUVEN_MEMBER, event.alert_id, DECISION)).status == "not_found"
    assert (await world.review.sign_off(LEUVEN_MEMBER, event.alert_id)).status == "not_found"
    assert world.alerts.alerts[event.alert_id]["status"] == "open"


async def test_a_decision_is_drafted_by_one_member_signed_off_by_another_and_closes_the_review_once():
    world, event = NotifyWorld(), alert()
    await routed(world, event)
    assert (await world.review.sign_off(DR_B, event.alert_id)).status == "conflict"  # nothing drafted yet
    assert (await world.review.draft(DR_A, event.alert_id, DECISION)).status == "done"
    own = await world.review.sign_off(DR_A, event.alert_id)
    assert own.status == "conflict" and "cannot sign it off" in own.message
    assert world.alerts.alerts[event.alert_id]["status"] == "open" and not world.publish.on(topics.MTB_DECISIONS)
    world.clock.advance(60)
    assert (await world.review.sign_off(DR_B, event.alert_id)).status == "done"
    assert (await world.review.sign_off(DR_B, event.alert_id)).status == "already"
    assert (await world.review.draft(DR_A, event.alert_id, DECISION)).status == "already"
    assert (await world.review.acknowledge(GENT, event.alert_id, AcknowledgeInput(by="late"))).status == "already"
    [decision] = world.publish.on(topics.MTB_DECISIONS)
    assert (decision.drafted_by, decision.signed_off_by, decision.outcome) == ("Dr. A", ["Dr. B"], "targeted_therapy")
    assert decision.signed_off_at - decision.drafted_at == timedelta(seconds=60)
    assert decision.members_present == ["Dr. A", "Dr. B", "Dr. C"]
    assert list(world.alerts.decisions) == [f"{event.alert_id}:decision"]
    assert world.cases.cases[event.case_id]["state"] == "decided"
    assert [e["action"] for e in world.cases.audit_log] == ["decision_drafted", "decided"]


async def test_a_team_wide_token_can_neither_draft_nor_sign_off():
    world, event = NotifyWorld(), alert()
    await routed(world, event)
    assert (await world.review.draft(TEAM_TOKEN, event.alert_id, DECISION)).status == "forbidden"
    await world.review.draft(DR_A, event.alert_id, DECISION)
    assert (await world.review.sign_off(TEAM_TOKEN, event.alert_id)).status == "forbidden"


async def test_a_redraft_by_the_second_member_needs_the_first_to_sign_it_off():
    world, event = NotifyWorld(), alert()
    await routed(world, event)
    await world.review.draft(DR_A, event.alert_id, DECISION)
    await world.review.draft(DR_B, event.alert_id, DECISION.model_copy(update={"outcome": "clinical_trial"}))
    assert (await world.review.sign_off(DR_B, event.alert_id)).status == "conflict"
    assert (await world.review.sign_off(DR_A, event.alert_id)).status == "done"
    [decision] = world.publish.on(topics.MTB_DECISIONS)
    assert (decision.outcome, decision.drafted_by, decision.signed_off_by) == ("clinical_trial", "Dr. B", ["Dr. A"])


async def test_an_unacknowledged_urgent_alert_escalates_one_contact_at_a_time_then_stops():
    world, event = NotifyWorld(), alert(priority="urgent", raised_at=FixedClock().now)
    await routed(world, event)
    assert await world.review.escalate_overdue() == 0  # not due yet
    world.clock.advance(world.settings.escalation_after_s)
    assert await world.review.escalate_overdue() == 1
    assert await world.review.escalate_overdue() == 0  # the same scan again (another process): once
    world.clock.advance(world.settings.escalation_after_s)
    assert await world.review.escalate_overdue() == 1
    world.clock.advance(world.settings.escalation_after_s)
    assert await world.review.escalate_overdue() == 0  # both contacts done
    escalated = world.publish.on(topics.ALERTS_ESCALATED)
    assert [(e.level, e.channel) for e in escalated if isinstance(e, AlertEscalated)] == [(1, "email"), (2, "webhook")]
    assert {f"{event.alert_id}|escalation-1", f"{event.alert_id}|escalation-2"} <= set(world.deliveries.deliveries)
    assert world.deliveries.deliveries[f"{event.alert_id}|escalation-1"]["contact"]["to"] == ["oncall@gent.example"]
    assert event.alert_id not in world.alerts.escalation_queue and world.wake.count == 2
    stages = [s["stage"] for s in world.cases.cases[event.case_id]["timeline"]]
    assert stages[-2:] == ["escalated-1", "escalated-2"]


@pytest.mark.parametrize("contacts", [(), GENT.escalation_contacts[:1]])
async def test_an_alert_whose_teams_have_no_contact_left_stops_escalating(contacts):
    world, event = NotifyWorld(), alert(priority="urgent", raised_at=FixedClock().now)
    world.directory.teams[GENT.team_id] = Team(team_id=GENT.team_id, site_ids=GENT.site_ids,
                                               escalation_contacts=contacts)
    await routed(world, event)
    for _ in range(3):
        world.clock.advance(world.settings.escalation_after_s)
        await world.review.escalate_overdue()
    assert len(world.publish.on(topics.ALERTS_ESCALATED)) == len(contacts)
    assert world.alerts.alerts[event.alert_id]["escalation_due_at"] is None
    assert event.alert_id not in world.alerts.escalation_queue


async def test_a_crash_between_any_two_writes_of_an_escalation_ends_as_one_clean_escalation():
    event = alert(priority="urgent", raised_at=FixedClock().now)

    def build() -> NotifyWorld:
        world = NotifyWorld()
        world.case_of(event)
        return world

    async def run(world: NotifyWorld) -> None:
        if await routed_before_the_run(world, event):
            world.clock.advance(world.settings.escalation_after_s)
        await world.review.escalate_overdue()

    def observe(world: NotifyWorld) -> dict:
        alert_doc = world.alerts.alerts[event.alert_id]
        return {"level": alert_doc["escalation_level"], "due": alert_doc["escalation_due_at"],
                "queue": dict(world.alerts.escalation_queue), "escalations": world.alerts.escalations,
                "deliveries": sorted(i for i, d in world.deliveries.deliveries.items() if d["kind"] == "escalation"),
                "audit": world.cases.audited, "timeline": world.cases.cases[event.case_id]["timeline"],
                # by dedupe key: a crash after a number was reserved makes the retry take the next (a gap the stream skips)
                "streams": {(e["team_id"], e["dedupe"]): (e["event"], e["data"]) for e in world.streams.events.values()},
                "published": world.publish.distinct()}

    assert await CrashRun(build, run, observe).check_every_crash() >= 6


async def decided(world: NotifyWorld, event: MtbReviewRequired, draft: DecisionDraft = DECISION) -> None:
    await routed(world, event)
    await world.review.draft(DR_A, event.alert_id, draft)
    assert (await world.review.sign_off(DR_B, event.alert_id)).status == "done"


async def test_a_therapy_recommendation_is_followed_up_once_after_the_configured_time():
    world, event = NotifyWorld(), alert()
    await decided(world, event)
    [followup] = world.alerts.followups.values()
    assert followup["due_at"] == world.clock() + timedelta(seconds=world.settings.followup_after_s)
    assert await world.alerts.followups_due([SITE], world.clock()) == []
    world.clock.advance(world.settings.followup_after_s)
    assert [f["case_id"] for f in await world.alerts.followups_due([SITE], world.clock())] == [event.case_id]
    incomplete = await world.review.follow_up(DR_A, event.alert_id, FollowUpInput(therapy_started=False))
    assert incomplete.status == "invalid" and "why" in incomplete.message
    answer = FollowUpInput(therapy_started=True, response="partial_response", note="-40 % at 8 weeks")
    assert (await world.review.follow_up(DR_A, event.alert_id, answer)).status == "done"
    assert (await world.review.follow_up(DR_B, event.alert_id, answer)).status == "already"
    [recorded] = world.publish.on(topics.MTB_FOLLOWUPS)
    assert (recorded.therapy_started, recorded.response, recorded.recorded_by) == (True, "partial_response", "Dr. A")
    assert await world.alerts.followups_due([SITE], world.clock()) == []
    assert [s["stage"] for s in world.cases.cases[event.case_id]["timeline"]][-1] == "followed_up"
    assert [e["action"] for e in world.cases.audit_log][-1] == "followed_up"


async def test_a_decision_without_a_therapy_asks_no_follow_up():
    world, event = NotifyWorld(), alert()
    await decided(world, event, DECISION.model_copy(update={"outcome": "no_action", "therapies": []}))
    assert world.alerts.followups == {}
    answer = FollowUpInput(therapy_started=False, not_started_reason="no therapy recommended")
    assert (await world.review.follow_up(DR_A, event.alert_id, answer)).status == "not_found"
