"""notify's store contracts (alerts and escalations, deliveries, team streams, the team directory), on the fakes and
FerretDB: what the handler unit tests assume of the fakes holds for the adapters the service runs."""

from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.variant import Variant
from services.annotate.adapters.interpretation_store import MongoInterpretationStore
from services.annotate.domain.interpret import ResultContext, interpret
from services.annotate.domain.knowledge import KnowledgeBase
from services.annotate.domain.triage import RuleSet
from services.common.oncotree import load_oncotree
from services.notify.adapters.alert_store import MongoAlertStore, MongoCaseViews, MongoDeliveryStore, MongoStreamStore
from services.notify.adapters.session_store import MongoSessionStore
from services.notify.adapters.team_directory import MongoTeamDirectory
from services.notify.domain.routing import Channel, Subscription, Team
from tests.fakes.notify import (
    FakeAlertStore,
    FakeCaseViews,
    FakeDeliveryStore,
    FakeSessionStore,
    FakeStreamStore,
    FakeTeamDirectory,
)

NOW = datetime.now(UTC).replace(microsecond=0)
GENT = Team(team_id="mtb-gent", site_ids=frozenset({"HOSP-GENT"}), name="Gent",
            escalation_contacts=(Channel(kind="email", to=("oncall@gent.example",)),))


@pytest.fixture
def alerts(backend, db, faults, clock):
    return FakeAlertStore(faults, clock) if backend == "fake" else MongoAlertStore(db)


@pytest.fixture
def deliveries(backend, db, faults, clock):
    return FakeDeliveryStore(faults, clock) if backend == "fake" else MongoDeliveryStore(db)


@pytest.fixture
def streams(backend, db, faults, clock):
    return FakeStreamStore(faults, clock) if backend == "fake" else MongoStreamStore(db)


@pytest.fixture
def directory(backend, db, faults, clock):
    return FakeTeamDirectory(faults, clock) if backend == "fake" else MongoTeamDirectory(db)


def alert_doc(alert_id: str, raised_at: datetime = NOW, site: str = "HOSP-GENT") -> dict:
    return {"alert_id": alert_id, "case_id": f"C-{alert_id}", "result_key": "R@1", "treating_site": site,
            "priority": "urgent", "raised_at": raised_at, "published_at": raised_at}


# --- AlertStore ------------------------------------------------------------------------------------------------

async def test_an_alert_is_recorded_once_and_the_earlier_document_returned(alerts):
    due = NOW + timedelta(minutes=15)
    assert await alerts.record_alert(alert_doc("A1"), due) is None
    before = await alerts.record_alert({**alert_doc("A1"), "priority": "info"}, due)
    assert before["priority"] == "urgent" and before["routed"] is False and before["status"] == "open"
    await alerts.mark_routed("A1", ["mtb-gent"])
    stored = await alerts.get_alert("A1")
    assert stored["_id"] == "A1" and stored["routed"] and stored["team_ids"] == ["mtb-gent"]
    assert stored["escalation_level"] == 0 and stored["delivery_status"] == "pending"


async def test_alerts_of_sites_are_listed_newest_first_by_status(alerts):
    for n in range(3):
        await alerts.record_alert(alert_doc(f"A{n}", NOW + timedelta(minutes=n)), None)
    await alerts.record_alert(alert_doc("X", site="HOSP-LEUVEN"), None)
    await alerts.transition_alert("A1", ["open"], {"status": "acknowledged"})
    assert [a["_id"] for a in await alerts.alerts_for_sites(["HOSP-GENT"], ["open"])] == ["A2", "A0"]
    assert [a["_id"] for a in await alerts.alerts_for_sites(["HOSP-GENT"], ["open", "acknowledged"], 2)] == ["A2", "A1"]


async def test_delivered_wins_over_pending_and_failed_over_both(alerts):
    await alerts.record_alert(alert_doc("A1"), None)
    await alerts.set_delivery_outcome("A1", True)
    assert (await alerts.get_alert("A1"))["delivery_status"] == "delivered"
    await alerts.set_delivery_outcome("A1", False)
    await alerts.set_delivery_outcome("A1", True)
    assert (await alerts.get_alert("A1"))["delivery_status"] == "failed"


async def test_a_transition_happens_once_from_the_named_statuses(alerts):
    await alerts.record_alert(alert_doc("A1"), None)
    updated = await alerts.transition_alert("A1", ["open"], {"status": "acknowledged", "acknowledged_by": "Dr. A"})
    assert updated["status"] == "acknowledged" and updated["acknowledged_by"] == "Dr. A"
    assert await alerts.transition_alert("A1", ["open"], {"status": "acknowledged", "acknowledged_by": "B"}) is None
    assert await alerts.transition_alert("missing", ["open"], {"status": "decided"}) is None


async def test_overdue_alerts_are_found_through_the_queue_and_claimed_one_level_at_a_time(alerts):
    await alerts.record_alert(alert_doc("late"), NOW - timedelta(minutes=1))
    await alerts.record_alert(alert_doc("later"), NOW + timedelta(hours=1))
    await alerts.record_alert(alert_doc("routine"), None)
    assert [a["_id"] for a in await alerts.overdue_alerts(NOW)] == ["late"]
    assert await alerts.claim_escalation("late", 1, NOW + timedelta(minutes=15))
    assert not await alerts.claim_escalation("late", 1, NOW + timedelta(minutes=15))  # once, across processes
    assert await alerts.overdue_alerts(NOW) == []
    assert [a["_id"] for a in await alerts.overdue_alerts(NOW + timedelta(minutes=16))] == ["late"]
    assert await alerts.claim_escalation("late", 2, None)
    assert [a["_id"] for a in await alerts.overdue_alerts(NOW + timedelta(days=1))] == ["later"]  # "late" is done
    assert (await alerts.get_alert("late"))["escalation_level"] == 2


async def test_acknowledged_and_stopped_alerts_leave_the_queue(alerts):
    for alert_id in ("acked", "stopped"):
        await alerts.record_alert(alert_doc(alert_id), NOW - timedelta(minutes=1))
    await alerts.transition_alert("acked", ["open"], {"status": "acknowledged", "escalation_due_at": None})
    await alerts.stop_escalating("stopped")
    assert await alerts.overdue_alerts(NOW) == []
    assert not await alerts.claim_escalation("acked", 1, None)


async def test_open_alerts_from_before_the_queue_are_queued_once(alerts, backend, db):
    if backend == "fake":
        alerts.alerts["old"] = {"_id": "old", **alert_doc("old"), "status": "open",
                                "escalation_due_at": NOW - timedelta(minutes=1)}
    else:
        await db.alerts.insert_one({"_id": "old", **alert_doc("old"), "status": "open",
                                    "escalation_due_at": NOW - timedelta(minutes=1)})
    assert await alerts.queue_open_escalations() == 1
    assert await alerts.queue_open_escalations() == 0
    assert [a["_id"] for a in await alerts.overdue_alerts(NOW)] == ["old"]


async def test_escalations_and_decisions_are_recorded_once(alerts):
    assert await alerts.record_escalation({"_id": "A1|1", "level": 1})
    assert not await alerts.record_escalation({"_id": "A1|1", "level": 1})
    assert await alerts.record_decision({"_id": "A1:decision", "outcome": "no_action"})
    assert not await alerts.record_decision({"_id": "A1:decision", "outcome": "other"})


# --- DeliveryStore ---------------------------------------------------------------------------------------------

async def test_a_delivery_is_created_once_and_a_leased_one_is_claimed_only_after_its_lease(deliveries):
    lease = datetime.now(UTC) + timedelta(seconds=60)
    created = await deliveries.create_delivery({"_id": "A1|s1", "alert_id": "A1", "channel": "webhook"}, lease)
    assert created["status"] == "sending" and created["attempt_count"] == 0
    assert await deliveries.create_delivery({"_id": "A1|s1", "alert_id": "A1", "channel": "webhook"}) is None
    assert await deliveries.delivery_exists("A1|s1") and not await deliveries.delivery_exists("A1|s2")
    assert await deliveries.claim_due_delivery(datetime.now(UTC), 30) is None
    claimed = await deliveries.claim_due_delivery(lease + timedelta(seconds=1), 30)
    assert claimed["_id"] == "A1|s1" and claimed["status"] == "sending"


async def test_attempts_are_recorded_and_a_pending_delivery_comes_due_again(deliveries):
    await deliveries.create_delivery({"_id": "A1|s1", "alert_id": "A1", "channel": "webhook"})
    now = datetime.now(UTC) + timedelta(seconds=1)
    claimed = await deliveries.claim_due_delivery(now, 30)
    assert claimed["_id"] == "A1|s1"
    assert await deliveries.claim_due_delivery(now, 30) is None  # leased
    retry_at = now + timedelta(seconds=5)
    await deliveries.finish_attempt("A1|s1", {"n": 1, "at": now, "ok": False, "detail": "HTTP 503"}, "pending", retry_at)
    assert await deliveries.claim_due_delivery(now + timedelta(seconds=1), 30) is None
    again = await deliveries.claim_due_delivery(retry_at, 30)
    assert again["attempt_count"] == 1 and [a["detail"] for a in again["attempts"]] == ["HTTP 503"]
    await deliveries.finish_attempt("A1|s1", {"n": 2, "at": retry_at, "ok": True, "detail": "HTTP 200"},
                                    "delivered", None)
    assert await deliveries.claim_due_delivery(retry_at + timedelta(days=1), 30) is None
    [done] = await deliveries.deliveries_of(["A1"])
    assert done["status"] == "delivered" and done["attempt_count"] == 2 and len(done["attempts"]) == 2


async def test_deliveries_of_alerts_are_listed_oldest_first(deliveries):
    for sid in ("s2", "s1", "s3"):
        await deliveries.create_delivery({"_id": f"A1|{sid}", "alert_id": "A1", "channel": "stream"})
    await deliveries.create_delivery({"_id": "B|s1", "alert_id": "B", "channel": "stream"})
    assert [d["_id"] for d in await deliveries.deliveries_of(["A1"])] == ["A1|s2", "A1|s1", "A1|s3"]


# --- StreamStore -----------------------------------------------------------------------------------------------

async def test_stream_events_are_numbered_per_team_and_each_dedupe_key_once(streams):
    assert await streams.append_stream_event("t1", "alert", {"n": 1}, "alert:A1") == 1
    assert await streams.append_stream_event("t1", "alert", {"n": 1}, "alert:A1") is None
    assert await streams.append_stream_event("t1", "acknowledged", {"n": 2}, "acknowledged:A1") == 2
    assert await streams.append_stream_event("t2", "alert", {"n": 3}, "alert:A1") == 1
    assert await streams.latest_stream_seq("t1") == 2 and await streams.latest_stream_seq("none") == 0
    assert [(e["seq"], e["event"]) for e in await streams.stream_events_after("t1", 0)] == [(1, "alert"),
                                                                                          (2, "acknowledged")]
    assert [e["seq"] for e in await streams.stream_events_after("t1", 1)] == [2]
    assert [e["data"] for e in await streams.stream_events_after("t2", 0, limit=1)] == [{"n": 3}]


# --- TeamDirectory ---------------------------------------------------------------------------------------------

async def test_teams_and_their_tokens(directory):
    await directory.save_team(GENT)
    assert await directory.get_team("mtb-gent") == GENT and await directory.get_team("nobody") is None
    assert [t.team_id for t in await directory.teams_serving("HOSP-GENT")] == ["mtb-gent"]
    assert await directory.teams_serving("HOSP-LEUVEN") == []
    token = await directory.issue_token("mtb-gent", ["read", "ack", "read"], "test")
    principal = await directory.authenticate(token)
    assert principal.team == GENT and principal.scopes == frozenset({"read", "ack"}) and principal.member is None
    personal = await directory.issue_token("mtb-gent", ["decide"], "chair", member="Dr. A")
    assert (await directory.authenticate(personal)).member == "Dr. A"
    assert await directory.authenticate(token + "x") is None
    assert await directory.revoke_tokens("mtb-gent") == 2
    assert await directory.authenticate(token) is None


async def test_subscriptions_count_their_events_and_stop_when_removed(directory):
    channel = Channel(kind="webhook", url="https://mtb.gent.example/in", secret="x" * 16)
    subscription = Subscription(subscription_id=directory.new_subscription_id(), team_id="mtb-gent",
                                site_ids=frozenset({"HOSP-GENT"}), channel=channel, tumor_types=frozenset({"LUAD"}))
    doc = await directory.add_subscription(subscription)
    assert doc["_id"] == subscription.subscription_id and doc["active"] and doc["event_counter"] == 0
    assert [s.subscription_id for s in await directory.active_subscriptions()] == [subscription.subscription_id]
    assert await directory.subscription_channel(subscription.subscription_id) == channel
    assert [await directory.next_event_number(subscription.subscription_id) for _ in range(2)] == [1, 2]
    assert not await directory.remove_subscription(subscription.subscription_id, "another-team")
    assert await directory.remove_subscription(subscription.subscription_id, "mtb-gent")
    assert not await directory.remove_subscription(subscription.subscription_id)
    assert await directory.subscription_channel(subscription.subscription_id) is None
    assert await directory.active_subscriptions() == []
    [listed] = await directory.list_subscriptions("mtb-gent")
    assert listed["active"] is False and listed["event_counter"] == 2


async def test_the_operators_webhooks_are_made_exactly_the_configured_ones(directory):
    await directory.ensure_operator_subscriptions(["https://a.example/hook", "https://b.example/hook"])
    await directory.ensure_operator_subscriptions(["https://b.example/hook"])
    active = await directory.active_subscriptions()
    assert [(s.all_sites, s.channel.url) for s in active] == [(True, "https://b.example/hook")]
    assert len(await directory.list_subscriptions()) == 2


# --- CaseViews: what notify reads of annotate's documents (contracts.read_models) ------------------------------

@pytest.mark.integration
@pytest.mark.parametrize("backend", ["ferretdb"])  # between two real adapters: no fake half
async def test_notify_reads_the_interpretation_annotates_adapter_stores(db):
    """Written by annotate's adapter, read by notify's through contracts.read_models: a field either side renames
    fails here."""
    braf = Variant(chrom="chr7", pos=140753336, ref="A", alt="T", kind="snv", gene="BRAF", hgvsp="p.Val600Glu",
                   consequence="missense_variant", vaf=0.31, depth=500)
    context = ResultContext(result_key="R-V@1", case_id="C-V", tumor_type="COAD", specimen_id="SP-V",
                            collected_on=date(2026, 11, 1), genome_build="GRCh38", panel_size_mb=1.5)
    interp = interpret(context, [braf], KnowledgeBase.build(), load_oncotree(), RuleSet.load())
    await MongoInterpretationStore(db).save_interpretation_once(
        "R-V@1", {"case_id": "C-V", "result_id": "R-V", "result_version": 1, "annotated_at": NOW},
        interp.model_dump_json().encode("utf-8"))
    [view] = (await MongoCaseViews(db).case_documents("C-V"))["interpretations"]
    assert (view["_id"], view["case_id"], view["result_version"], view["tumor_type"]) == ("R-V@1", "C-V", 1, "COAD")
    [finding] = [f for f in view["findings"] if f["gene"] == "BRAF"]
    assert (finding["chrom"], finding["pos"], finding["amp_tier"]) == ("chr7", 140753336, "I") and finding["sources"]


@pytest.fixture
def views(backend, db, alerts):
    if backend == "fake":
        return FakeCaseViews(None, alerts)
    return MongoCaseViews(db)


async def test_network_memory_reads_the_alerts_of_a_tumour_type_and_their_decisions(alerts, views):
    braf = [{"gene": "BRAF", "alteration": "p.V600E", "amp_tier": "I"}]
    await alerts.record_alert({**alert_doc("M1"), "tumor_type": "LUAD", "findings": braf}, None)
    await alerts.record_alert({**alert_doc("M2"), "tumor_type": "COAD", "findings": braf}, None)
    await alerts.record_decision({"_id": "M1:decision", "alert_id": "M1", "case_id": "C-M1", "team_id": "mtb-gent",
                                  "outcome": "targeted_therapy", "recommendation": "r", "decided_at": NOW})
    found, decisions = await views.network_memory("LUAD")
    assert [(a["_id"], a["case_id"], a["findings"][0]["gene"]) for a in found] == [("M1", "C-M1", "BRAF")]
    assert [(d["alert_id"], d["outcome"]) for d in decisions] == [("M1", "targeted_therapy")]


# --- SessionStore ----------------------------------------------------------------------------------------------

@pytest.fixture
def sessions(backend, db, faults):
    return FakeSessionStore(faults) if backend == "fake" else MongoSessionStore(db)


async def test_a_session_is_kept_by_its_hash_until_it_ends(sessions):
    doc = {"_id": "a" * 64, "team_id": "mtb-gent", "member": "Dr. A", "scopes": ["read"], "csrf": "c",
           "created_at": NOW, "expires_at": NOW + timedelta(hours=8)}
    await sessions.create_session(doc)
    stored = await sessions.get_session("a" * 64)
    assert (stored["team_id"], stored["member"], stored["expires_at"]) == ("mtb-gent", "Dr. A", doc["expires_at"])
    assert await sessions.get_session("b" * 64) is None
    await sessions.end_session("a" * 64)
    await sessions.end_session("a" * 64)  # ending twice is harmless
    assert await sessions.get_session("a" * 64) is None
