"""Fakes of notify's ports (services.notify.ports): alerts, deliveries, team streams, the team directory and the
channel senders, in memory, with the semantics of services.notify.adapters (tests/contract/test_notify_stores.py
runs one suite against both). Every write first asks `Faults`, so a test can crash a handler between any two."""

import asyncio
import copy
import hashlib
import itertools
from datetime import datetime, timedelta
from typing import Any

from services.notify.domain.attempts import AttemptOutcome
from services.notify.domain.routing import OPERATOR_TEAM, Channel, Subscription, Team, channel_doc
from services.notify.domain.tokens import Principal, new_token, token_hash
from services.notify.ports import Document
from tests.fakes.common import FixedClock
from tests.fakes.faults import Faults


class FakeAlertStore:
    """The AlertStore port: alerts, the escalation queue, escalations and decisions."""

    def __init__(self, faults: Faults, clock: FixedClock) -> None:
        self.faults = faults
        self.clock = clock
        self.alerts: dict[str, Document] = {}
        self.escalation_queue: dict[str, datetime] = {}
        self.escalations: dict[str, Document] = {}
        self.decisions: dict[str, Document] = {}
        self.drafts: dict[str, Document] = {}
        self.followups: dict[str, Document] = {}
        self.migrated = False

    async def record_alert(self, alert_doc: Document, escalation_due_at: datetime | None) -> Document | None:
        alert_id = alert_doc["alert_id"]
        if escalation_due_at is not None:
            self.faults.write("escalation_queue")
            self.escalation_queue.setdefault(alert_id, escalation_due_at)
        before = self.alerts.get(alert_id)
        if before is not None:
            return copy.deepcopy(before)
        self.faults.write("alerts")
        self.alerts[alert_id] = {
            "_id": alert_id, **copy.deepcopy({k: v for k, v in alert_doc.items() if k != "alert_id"}),
            "status": "open", "delivery_status": "pending", "routed": False, "escalation_level": 0,
            "escalation_due_at": escalation_due_at, "created_at": self.clock(),
        }
        return None

    async def mark_routed(self, alert_id: str, team_ids: list[str]) -> None:
        self.faults.write("alerts.routed")
        if alert_id in self.alerts:
            self.alerts[alert_id].update(routed=True, team_ids=list(team_ids))

    async def get_alert(self, alert_id: str) -> Document | None:
        return copy.deepcopy(self.alerts.get(alert_id))

    async def alerts_for_sites(self, site_ids: list[str], statuses: list[str], limit: int = 200) -> list[Document]:
        found = [a for a in self.alerts.values() if a.get("treating_site") in site_ids and a.get("status") in statuses]
        return copy.deepcopy(sorted(found, key=lambda a: a["raised_at"], reverse=True)[:limit])

    async def set_delivery_outcome(self, alert_id: str, delivered: bool) -> None:
        self.faults.write("alerts.delivery_status")
        alert = self.alerts.get(alert_id)
        if alert is None:
            return
        if not delivered:
            alert["delivery_status"] = "failed"
        elif alert["delivery_status"] == "pending":
            alert["delivery_status"] = "delivered"

    async def transition_alert(self, alert_id: str, from_statuses: list[str], fields: Document) -> Document | None:
        alert = self.alerts.get(alert_id)
        if alert is None or alert.get("status") not in from_statuses:
            return None
        self.faults.write("alerts.transition")
        alert.update(copy.deepcopy(fields))
        return copy.deepcopy(alert)

    async def overdue_alerts(self, now: datetime, limit: int = 100) -> list[Document]:
        overdue = []
        for alert_id, _ in sorted(self.escalation_queue.items(), key=lambda item: item[1])[:limit]:
            alert = self.alerts.get(alert_id)
            if alert is None:
                continue
            due = alert.get("escalation_due_at")
            if alert.get("status") != "open" or due is None:
                self.faults.write("escalation_queue.drop")
                del self.escalation_queue[alert_id]
            elif due <= now:
                overdue.append(copy.deepcopy(alert))
            else:
                self.faults.write("escalation_queue.move")
                self.escalation_queue[alert_id] = due
        return overdue

    async def queue_open_escalations(self) -> int:
        if self.migrated:
            return 0
        added = 0
        for alert in self.alerts.values():
            if alert.get("status") == "open" and alert.get("escalation_due_at") is not None:
                if alert["_id"] not in self.escalation_queue:
                    self.faults.write("escalation_queue")
                    self.escalation_queue[alert["_id"]] = alert["escalation_due_at"]
                    added += 1
        self.faults.write("migrations")
        self.migrated = True
        return added

    async def claim_escalation(self, alert_id: str, level_done: int, next_due: datetime | None) -> bool:
        alert = self.alerts.get(alert_id)
        if alert is None or alert.get("status") != "open" or alert.get("escalation_level") != level_done - 1:
            return False
        self.faults.write("alerts.escalation")
        alert.update(escalation_level=level_done, escalation_due_at=next_due)
        self.faults.write("escalation_queue")
        if next_due is None:
            self.escalation_queue.pop(alert_id, None)
        else:
            self.escalation_queue[alert_id] = next_due
        return True

    async def stop_escalating(self, alert_id: str) -> None:
        self.faults.write("alerts.escalation")
        if alert_id in self.alerts:
            self.alerts[alert_id]["escalation_due_at"] = None
        self.faults.write("escalation_queue")
        self.escalation_queue.pop(alert_id, None)

    async def record_escalation(self, doc: Document) -> bool:
        return self._insert_once(self.escalations, "escalations", doc)

    async def save_draft(self, doc: Document) -> None:
        self.faults.write("decision_drafts")
        self.drafts[doc["_id"]] = copy.deepcopy(doc)

    async def get_draft(self, alert_id: str) -> Document | None:
        return copy.deepcopy(self.drafts.get(alert_id))

    async def schedule_followup(self, doc: Document) -> None:
        if doc["_id"] not in self.followups:
            self.faults.write("followups")
            self.followups[doc["_id"]] = copy.deepcopy(doc)

    async def followups_due(self, site_ids: list[str], now: datetime, limit: int = 200) -> list[Document]:
        due = [f for f in self.followups.values()
               if f["status"] == "pending" and f["treating_site"] in site_ids and f["due_at"] <= now]
        return copy.deepcopy(sorted(due, key=lambda f: f["due_at"])[:limit])

    async def get_followup(self, followup_id: str) -> Document | None:
        return copy.deepcopy(self.followups.get(followup_id))

    async def answer_followup(self, followup_id: str, fields: Document) -> Document | None:
        followup = self.followups.get(followup_id)
        if followup is None or followup["status"] != "pending":
            return None
        self.faults.write("followups.answer")
        followup.update(copy.deepcopy(fields), status="answered")
        return copy.deepcopy(followup)

    async def record_decision(self, doc: Document) -> bool:
        return self._insert_once(self.decisions, "decisions", doc)

    def _insert_once(self, collection: dict[str, Document], label: str, doc: Document) -> bool:
        if doc["_id"] in collection:
            return False
        self.faults.write(label)
        collection[doc["_id"]] = copy.deepcopy(doc)
        return True


class FakeDeliveryStore:
    """The DeliveryStore port: deliveries and the queue of unfinished ones, claimed with a lease."""

    def __init__(self, faults: Faults, clock: FixedClock) -> None:
        self.faults = faults
        self.clock = clock
        self.deliveries: dict[str, Document] = {}
        self.queue: dict[str, Document] = {}
        self._order = itertools.count()  # creation order (the adapter sorts by created_at)

    async def delivery_exists(self, delivery_id: str) -> bool:
        return delivery_id in self.deliveries

    async def create_delivery(self, doc: Document, lease_until: datetime | None = None) -> Document | None:
        now = self.clock()
        status = "pending" if lease_until is None else "sending"
        if doc["_id"] not in self.queue:
            self.faults.write("delivery_queue")
            self.queue[doc["_id"]] = {"status": status, "next_attempt_at": now, "lease_until": lease_until}
        if doc["_id"] in self.deliveries:
            return None
        self.faults.write("deliveries")
        delivery = {"status": status, "attempt_count": 0, "attempts": [], "next_attempt_at": now,
                    "lease_until": lease_until, "created_at": now, **copy.deepcopy(doc)}
        self.deliveries[doc["_id"]] = {**delivery, "_order": next(self._order)}
        return copy.deepcopy(delivery)

    async def claim_due_delivery(self, now: datetime, lease_s: float) -> Document | None:
        due = [(entry["next_attempt_at"], delivery_id) for delivery_id, entry in self.queue.items()
               if (entry["status"] == "pending" and entry["next_attempt_at"] <= now)
               or (entry["status"] == "sending" and entry["lease_until"] is not None and entry["lease_until"] <= now)]
        if not due:
            return None
        _, delivery_id = min(due)
        lease_until = now + timedelta(seconds=lease_s)
        self.faults.write("delivery_queue.claim")
        self.queue[delivery_id].update(status="sending", lease_until=lease_until)
        delivery = self.deliveries.get(delivery_id)
        if delivery is None:  # create_delivery half done: hand the entry back, due as it was
            self.faults.write("delivery_queue.release")
            self.queue[delivery_id].update(status="pending", lease_until=None)
            return None
        self.faults.write("deliveries.claim")
        delivery.update(status="sending", lease_until=lease_until)
        return self._public(delivery)

    async def finish_attempt(self, delivery_id: str, attempt: Document, status: str,
                             next_attempt_at: datetime | None) -> None:
        self.faults.write("deliveries.attempt")
        delivery = self.deliveries.get(delivery_id)
        if delivery is not None:
            delivery.update(status=status, attempt_count=attempt["n"], next_attempt_at=next_attempt_at,
                            lease_until=None, updated_at=attempt["at"])
            delivery["attempts"].append(copy.deepcopy(attempt))
        self.faults.write("delivery_queue.finish")
        if status == "pending":
            if delivery_id in self.queue:
                self.queue[delivery_id].update(status="pending", next_attempt_at=next_attempt_at, lease_until=None)
        else:
            self.queue.pop(delivery_id, None)

    async def deliveries_of(self, alert_ids: list[str]) -> list[Document]:
        found = sorted((d for d in self.deliveries.values() if d["alert_id"] in alert_ids), key=lambda d: d["_order"])
        return [self._public(d) for d in found]

    @staticmethod
    def _public(delivery: Document) -> Document:
        return copy.deepcopy({k: v for k, v in delivery.items() if k != "_order"})


class FakeStreamStore:
    """The StreamStore port: each team's numbered events, each dedupe key numbered once."""

    def __init__(self, faults: Faults, clock: FixedClock) -> None:
        self.faults = faults
        self.clock = clock
        self.events: dict[tuple[str, int], Document] = {}
        self.dedupe: dict[tuple[str, str], int] = {}
        self.counters: dict[str, int] = {}

    async def append_stream_event(self, team_id: str, event: str, data: Document, dedupe: str) -> int | None:
        seq = self.dedupe.get((team_id, dedupe))
        added_before = seq is not None
        if seq is None:
            self.faults.write("counters")
            seq = self.counters[team_id] = self.counters.get(team_id, 0) + 1
            self.faults.write("stream_dedupe")
            self.dedupe[(team_id, dedupe)] = seq
        self.faults.write("stream_events")
        self.events[(team_id, seq)] = {"team_id": team_id, "seq": seq, "event": event, "data": copy.deepcopy(data),
                                       "dedupe": dedupe, "at": self.clock()}
        return None if added_before else seq

    async def stream_events_after(self, team_id: str, seq: int, limit: int = 100) -> list[Document]:
        numbers = sorted(n for team, n in self.events if team == team_id and n > seq)[:limit]
        return [copy.deepcopy(self.events[(team_id, n)]) for n in numbers]

    async def latest_stream_seq(self, team_id: str) -> int:
        return self.counters.get(team_id, 0)


class FakeTeamDirectory:
    """The TeamDirectory port: teams, token hashes and subscriptions (with their event counters)."""

    def __init__(self, faults: Faults, clock: FixedClock) -> None:
        self.faults = faults
        self.clock = clock
        self.teams: dict[str, Team] = {}
        self.tokens: dict[str, Document] = {}  # sha256 of the token -> {team_id, scopes, label}
        self.subscriptions: dict[str, Document] = {}
        self.objects: dict[str, Subscription] = {}
        self._ids = itertools.count(1)

    async def save_team(self, team: Team) -> None:
        self.faults.write("teams")
        self.teams[team.team_id] = team

    async def get_team(self, team_id: str) -> Team | None:
        return self.teams.get(team_id)

    async def teams_serving(self, site_id: str) -> list[Team]:
        return [self.teams[t] for t in sorted(self.teams) if site_id in self.teams[t].site_ids]

    async def issue_token(self, team_id: str, scopes: list[str], label: str = "", member: str | None = None) -> str:
        token = new_token()
        self.faults.write("team_tokens")
        self.tokens[token_hash(token)] = {"team_id": team_id, "scopes": sorted(set(scopes)), "label": label,
                                          "member": member}
        return token

    async def revoke_tokens(self, team_id: str) -> int:
        gone = [h for h, doc in self.tokens.items() if doc["team_id"] == team_id]
        self.faults.write("team_tokens")
        for token in gone:
            del self.tokens[token]
        return len(gone)

    async def authenticate(self, token: str) -> Principal | None:
        doc = self.tokens.get(token_hash(token))
        team = self.teams.get(doc["team_id"]) if doc else None
        return Principal(team, frozenset(doc["scopes"]), doc["member"]) if team and doc else None

    async def add_subscription(self, subscription: Subscription) -> Document:
        self.faults.write("subscriptions")
        doc = {"_id": subscription.subscription_id, "team_id": subscription.team_id,
               "site_ids": sorted(subscription.site_ids), "tumor_types": sorted(subscription.tumor_types),
               "priorities": sorted(subscription.priorities), "channel": channel_doc(subscription.channel),
               "all_sites": subscription.all_sites, "active": True, "event_counter": 0, "created_at": self.clock()}
        self.subscriptions[subscription.subscription_id] = doc
        self.objects[subscription.subscription_id] = subscription
        return copy.deepcopy(doc)

    def new_subscription_id(self) -> str:
        return f"sub-{next(self._ids):016x}"

    async def list_subscriptions(self, team_id: str | None = None) -> list[Document]:
        return [copy.deepcopy(self.subscriptions[s]) for s in sorted(self.subscriptions)
                if team_id is None or self.subscriptions[s]["team_id"] == team_id]

    async def remove_subscription(self, subscription_id: str, team_id: str | None = None) -> bool:
        doc = self.subscriptions.get(subscription_id)
        if doc is None or not doc["active"] or (team_id and doc["team_id"] != team_id):
            return False
        self.faults.write("subscriptions.remove")
        doc.update(active=False, removed_at=self.clock())
        return True

    async def active_subscriptions(self) -> list[Subscription]:
        return [self.objects[s] for s, doc in self.subscriptions.items() if doc["active"]]

    async def subscription_channel(self, subscription_id: str) -> Channel | None:
        doc = self.subscriptions.get(subscription_id)
        return self.objects[subscription_id].channel if doc and doc["active"] else None

    async def next_event_number(self, subscription_id: str) -> int:
        self.faults.write("subscriptions.counter")
        doc = self.subscriptions[subscription_id]
        doc["event_counter"] += 1
        return int(doc["event_counter"])

    async def ensure_operator_subscriptions(self, urls: list[str]) -> None:
        wanted = {"operator-" + hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]: url for url in urls}
        for subscription_id, url in wanted.items():
            self.faults.write("subscriptions.operator")
            subscription = Subscription(subscription_id=subscription_id, team_id=OPERATOR_TEAM, site_ids=frozenset(),
                                        channel=Channel(kind="webhook", url=url), all_sites=True)
            counter = self.subscriptions.get(subscription_id, {}).get("event_counter", 0)
            self.subscriptions[subscription_id] = {
                "_id": subscription_id, "team_id": OPERATOR_TEAM, "site_ids": [], "tumor_types": [], "priorities": [],
                "all_sites": True, "channel": {"kind": "webhook", "url": url, "secret": None, "payload": "json"},
                "active": True, "event_counter": counter}
            self.objects[subscription_id] = subscription
        for subscription_id, doc in self.subscriptions.items():
            if doc["team_id"] == OPERATOR_TEAM and subscription_id not in wanted and doc["active"]:
                self.faults.write("subscriptions.operator")
                doc["active"] = False


class ScriptedSender:
    """A ChannelSender whose outcomes a test scripts (default: delivered); it records every attempt."""

    def __init__(self, *outcomes: AttemptOutcome) -> None:
        self.outcomes = list(outcomes)
        self.sent: list[tuple[str, str]] = []  # (delivery id, alert id)

    async def send(self, delivery: Document, alert: Document, channel: Channel) -> AttemptOutcome:
        self.sent.append((delivery["_id"], alert["_id"]))
        return self.outcomes.pop(0) if self.outcomes else AttemptOutcome(True, "HTTP 200")


class WakeCount:
    """The Wakeup (and Signal) port: how often a handler woke the waiters; a waiter sleeps briefly instead."""

    def __init__(self) -> None:
        self.count = 0

    def set(self) -> None:
        self.count += 1

    async def wait(self, timeout: float) -> None:
        await asyncio.sleep(min(timeout, 0.05))


class FakeSessionStore:
    """The SessionStore port: sessions by the hash of their id."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.sessions: dict[str, Document] = {}

    async def create_session(self, doc: Document) -> None:
        self.faults.write("sessions")
        self.sessions[doc["_id"]] = copy.deepcopy(doc)

    async def get_session(self, session_hash: str) -> Document | None:
        return copy.deepcopy(self.sessions.get(session_hash))

    async def end_session(self, session_hash: str) -> None:
        self.faults.write("sessions.delete")
        self.sessions.pop(session_hash, None)


class FakeCaseViews:
    """The CaseViews port over the other fakes: the case record, the alerts and decisions, and interpretation
    summaries a test adds (as contracts.read_models.InterpretationSummary.view() gives them)."""

    def __init__(self, cases: Any, alerts: FakeAlertStore) -> None:
        self.cases = cases
        self.alerts = alerts
        self.interpretations: list[Document] = []
        self.results: list[Document] = []

    async def case_site(self, case_id: str) -> str | None:
        case = self.cases.cases.get(case_id)
        if case and case.get("treating_site"):
            return str(case["treating_site"])
        return next((a["treating_site"] for a in self.alerts.alerts.values() if a["case_id"] == case_id), None)

    async def treating_sites(self) -> list[str]:
        return sorted({c["treating_site"] for c in self.cases.cases.values() if c.get("treating_site")})

    async def board_data(self, site_ids: list[str]) -> tuple[list[Document], list[Document], list[Document]]:
        cases = [copy.deepcopy(c) for c in self.cases.cases.values() if c.get("treating_site") in site_ids]
        ids = {c["_id"] for c in cases}
        return (cases, [copy.deepcopy(d) for d in self.alerts.decisions.values() if d["case_id"] in ids],
                [copy.deepcopy(f) for f in self.alerts.followups.values()
                 if f["treating_site"] in site_ids and f["status"] == "answered"])

    async def network_memory(self, tumor_type: str) -> tuple[list[Document], list[Document]]:
        alerts = [{"_id": a["_id"], "case_id": a["case_id"],
                   "findings": [{"gene": f.get("gene"), "alteration": f.get("alteration")} for f in a.get("findings") or []]}
                  for a in self.alerts.alerts.values() if a.get("tumor_type") == tumor_type]
        ids = {a["_id"] for a in alerts}
        return alerts, [copy.deepcopy(d) for d in self.alerts.decisions.values() if d.get("alert_id") in ids]

    async def case_documents(self, case_id: str) -> Document:
        def of_case(docs: Any) -> list[Document]:
            return [copy.deepcopy(d) for d in docs if d.get("case_id") == case_id]
        return {"case": copy.deepcopy(self.cases.cases.get(case_id)), "results": of_case(self.results),
                "interpretations": of_case(self.interpretations),
                "alerts": sorted(of_case(self.alerts.alerts.values()), key=lambda a: a["raised_at"]),
                "decisions": of_case(self.alerts.decisions.values()), "escalations": [],
                "audit": of_case(self.cases.audit_log)}
