"""What notify's handlers and its clinician API need from the world (typing.Protocol interfaces; adapters in
services.notify.adapters, in-memory fakes in tests/fakes/notify.py, one contract suite per store in
tests/contract/test_notify_stores.py). Shared ports (publishing, the clock, the case record with its timeline and
audit trail) are in services.common.ports.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from contracts.events import ChannelKind
from services.common.ports import CaseRecord, Clock, Effect, Publish
from services.notify.domain.attempts import AttemptOutcome
from services.notify.domain.routing import Channel, Subscription, Team
from services.notify.domain.tokens import Principal

__all__ = ["AlertStore", "AttemptOutcome", "CaseRecord", "CaseViews", "ChannelSender", "Clock", "DeliveryStore",
           "DestinationCheck", "Document", "Effect", "Publish", "SessionStore", "StreamStore", "TeamDirectory", "Wakeup"]

Document = dict[str, Any]


class AlertStore(Protocol):
    """Alerts as notify keeps them (status, delivery status, routing, escalation level), the queue of alerts
    that may still escalate, and the escalations and decisions recorded; every write idempotent."""

    async def record_alert(self, alert_doc: Document, escalation_due_at: datetime | None) -> Document | None:
        """Insert the alert once (queued for escalation first when it will escalate); the document stored before
        this call, None when this call inserted it."""
        ...

    async def mark_routed(self, alert_id: str, team_ids: list[str]) -> None:
        """The alert's deliveries exist and its case is advanced: a redelivered event does nothing more."""
        ...

    async def get_alert(self, alert_id: str) -> Document | None: ...

    async def alerts_for_sites(self, site_ids: list[str], statuses: list[str], limit: int = 200) -> list[Document]:
        """Alerts of these sites in these statuses, newest first."""
        ...

    async def set_delivery_outcome(self, alert_id: str, delivered: bool) -> None:
        """delivered wins over pending; failed is shown as soon as one channel failed for good."""
        ...

    async def transition_alert(self, alert_id: str, from_statuses: list[str], fields: Document) -> Document | None:
        """Set `fields` if the alert's status is one of `from_statuses` (atomic); the new document or None."""
        ...

    async def overdue_alerts(self, now: datetime, limit: int = 100) -> list[Document]:
        """Open alerts whose escalation is due at `now`, most overdue first."""
        ...

    async def queue_open_escalations(self) -> int:
        """Queue open alerts raised before the escalation queue existed (once per database); how many."""
        ...

    async def claim_escalation(self, alert_id: str, level_done: int, next_due: datetime | None) -> bool:
        """Move an open alert from escalation level `level_done` - 1 to `level_done`, once across processes."""
        ...

    async def stop_escalating(self, alert_id: str) -> None: ...

    async def record_escalation(self, doc: Document) -> bool:
        """Insert an escalation once (by its `_id`); False when it was recorded before."""
        ...

    async def save_draft(self, doc: Document) -> None:
        """Store the draft decision of an alert (`_id`: the alert id), replacing an earlier draft."""
        ...

    async def get_draft(self, alert_id: str) -> Document | None: ...

    async def schedule_followup(self, doc: Document) -> None:
        """Schedule a decision's follow-up once (`_id`: the decision id; status pending, due_at)."""
        ...

    async def followups_due(self, site_ids: list[str], now: datetime, limit: int = 200) -> list[Document]:
        """Pending follow-ups of these sites due at `now`, the longest due first."""
        ...

    async def get_followup(self, followup_id: str) -> Document | None: ...

    async def answer_followup(self, followup_id: str, fields: Document) -> Document | None:
        """Record the answer of a pending follow-up once (atomic); the answered document, None if not pending."""
        ...

    async def record_decision(self, doc: Document) -> bool:
        """Insert a decision once (by its `_id`); False when it was recorded before."""
        ...


class DeliveryStore(Protocol):
    """Deliveries of alerts and escalations, and the queue of unfinished ones (claimed with a lease)."""

    async def delivery_exists(self, delivery_id: str) -> bool: ...

    async def create_delivery(self, doc: Document, lease_until: datetime | None = None) -> Document | None:
        """Insert a delivery due now (leased to the caller until `lease_until` if given); the stored delivery,
        None when it existed already."""
        ...

    async def claim_due_delivery(self, now: datetime, lease_s: float) -> Document | None:
        """Take one due delivery (pending and due, or sending with an expired lease) for `lease_s` seconds."""
        ...

    async def finish_attempt(self, delivery_id: str, attempt: Document, status: str,
                             next_attempt_at: datetime | None) -> None:
        """Record one attempt and the delivery's new status (pending again and queued, or finished)."""
        ...

    async def deliveries_of(self, alert_ids: list[str]) -> list[Document]:
        """The deliveries of these alerts, oldest first."""
        ...


class StreamStore(Protocol):
    """The teams' event streams: numbered events, each dedupe key numbered once."""

    async def append_stream_event(self, team_id: str, event: str, data: Document, dedupe: str) -> int | None:
        """Add an event with the team's next number; None when `dedupe` was added before."""
        ...

    async def stream_events_after(self, team_id: str, seq: int, limit: int = 100) -> list[Document]:
        """The team's events numbered above `seq`, oldest first, at most `limit`."""
        ...

    async def latest_stream_seq(self, team_id: str) -> int: ...


class TeamDirectory(Protocol):
    """MTB teams, their API tokens and their subscriptions."""

    async def save_team(self, team: Team) -> None: ...

    async def get_team(self, team_id: str) -> Team | None: ...

    async def teams_serving(self, site_id: str) -> list[Team]:
        """Teams whose sites include `site_id`, by team id."""
        ...

    async def issue_token(self, team_id: str, scopes: list[str], label: str = "", member: str | None = None) -> str:
        """A new token of the team (personal when it names a `member`), returned once; only its hash is kept."""
        ...

    async def revoke_tokens(self, team_id: str) -> int: ...

    async def authenticate(self, token: str) -> Principal | None:
        """The team, scopes and member of a token; None when it is unknown (or its team is gone)."""
        ...

    async def add_subscription(self, subscription: Subscription) -> Document: ...

    def new_subscription_id(self) -> str: ...

    async def list_subscriptions(self, team_id: str | None = None) -> list[Document]: ...

    async def remove_subscription(self, subscription_id: str, team_id: str | None = None) -> bool:
        """Deactivate an active subscription (of `team_id` when given); False when there is none."""
        ...

    async def active_subscriptions(self) -> list[Subscription]: ...

    async def subscription_channel(self, subscription_id: str) -> Channel | None:
        """The channel of an active subscription; None once it is removed (or never existed)."""
        ...

    async def next_event_number(self, subscription_id: str) -> int:
        """Count one more event for the subscription and return its number (1, 2, ...)."""
        ...

    async def ensure_operator_subscriptions(self, urls: list[str]) -> None:
        """Make `urls` the operator's all-site webhook subscriptions (others of the operator deactivated)."""
        ...


class CaseViews(Protocol):
    """What the clinician API reads for a case: its site, and everything its summary and FHIR export draw on
    (the case, its results, annotate's interpretations through contracts.read_models, alerts, decisions,
    escalations, audit)."""

    async def case_site(self, case_id: str) -> str | None:
        """The treating site of a case (from the case, else from its alerts); None for an unknown case."""
        ...

    async def case_documents(self, case_id: str) -> Document: ...

    async def treating_sites(self) -> list[str]:
        """Every site a case is treated at (for the per-site board metrics)."""
        ...

    async def board_data(self, site_ids: list[str]) -> tuple[list[Document], list[Document], list[Document]]:
        """The cases treated at these sites (their timelines), their decisions and answered follow-ups."""
        ...

    async def network_memory(self, tumor_type: str) -> tuple[list[Document], list[Document]]:
        """Every alert of this tumour type in the network (its case, findings and teams only) and the decisions
        on them: what services.notify.domain.memory counts a finding's history from."""
        ...


class SessionStore(Protocol):
    """Browser sessions of the MTB workspace, by the sha256 of their id (the id itself is only in the cookie)."""

    async def create_session(self, doc: Document) -> None:
        """Store a new session ({_id: sha256 of its id, team_id, member, scopes, csrf, created_at, expires_at})."""
        ...

    async def get_session(self, session_hash: str) -> Document | None: ...

    async def end_session(self, session_hash: str) -> None:
        """Forget the session (sign-out): its cookie no longer signs anyone in."""
        ...


class ChannelSender(Protocol):
    """Hands an alert to one kind of channel once (webhook, e-mail, team stream: services.notify.adapters.channels
    finds the sender of a channel kind)."""

    async def send(self, delivery: Document, alert: Document, channel: Channel) -> AttemptOutcome:
        """One attempt; never raises for the receiver's failure (that is the outcome)."""
        ...


class Wakeup(Protocol):
    """Wakes waiters inside one process (new stream events, new deliveries); waiters also time out."""

    def set(self) -> None: ...


class Signal(Wakeup, Protocol):
    """A Wakeup that can be waited on (the SSE stream waits for new events)."""

    async def wait(self, timeout: float) -> None: ...


DestinationCheck = Callable[[Channel], Awaitable[str | None]]
"""Why a channel's destination may not be used (a webhook URL's form, where its host resolves); None: it may."""

Senders = dict[ChannelKind, ChannelSender]
"""The channel registry: the sender of each channel kind."""
