"""Who receives an alert: subscriptions and the routing rule (pure).

A subscription belongs to one MTB team and covers some of the hospitals (sites) that team serves;
an alert goes to the subscriptions whose sites include the alert's treating site, so a team never
receives another team's cases. The operator's default subscriptions (ONCORELAY_WEBHOOK_URLS)
cover every site and are not a team.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from contracts.events import ChannelKind
from services.notify.domain.mailbox import addresses_problem

WEBHOOK_SCHEMES = {"https", "http"}  # the URL schemes a webhook may use
PayloadFormat = Literal["json", "fhir"]
OPERATOR_TEAM = "_operator"


@dataclass(frozen=True)
class Channel:
    """Where and how to deliver: a webhook URL (with its signing secret), e-mail addresses, or the team's stream."""

    kind: ChannelKind
    url: str | None = None
    secret: str | None = None  # None on operator subscriptions: the service's ONCORELAY_WEBHOOK_SECRET signs
    to: tuple[str, ...] = ()
    payload: PayloadFormat = "json"

    def target(self) -> str:
        """A printable description of the destination (no secrets)."""
        if self.kind == "webhook":
            return self.url or ""
        if self.kind == "email":
            return ",".join(self.to)
        return "stream"


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    team_id: str
    site_ids: frozenset[str]
    channel: Channel
    tumor_types: frozenset[str] = frozenset()  # OncoTree codes; empty = every tumour type
    priorities: frozenset[str] = frozenset()  # empty = every priority
    all_sites: bool = False  # operator subscriptions only
    active: bool = True


@dataclass(frozen=True)
class AlertFacts:
    """The parts of an alert that routing looks at."""

    treating_site: str
    tumor_type: str
    priority: str


Lineage = Callable[[str], Iterable[str]]


def exact(code: str) -> tuple[str, ...]:
    """The lineage when no OncoTree is loaded: the code itself only."""
    return (code,)


def matches(subscription: Subscription, alert: AlertFacts, lineage: Lineage = exact) -> bool:
    """True when `subscription` should receive `alert`: its site, and its tumour type and priority filters."""
    if not subscription.active:
        return False
    if not (subscription.all_sites or alert.treating_site in subscription.site_ids):
        return False
    if subscription.priorities and alert.priority not in subscription.priorities:
        return False
    if subscription.tumor_types and not subscription.tumor_types.intersection(lineage(alert.tumor_type)):
        return False
    return True


def route(subscriptions: Iterable[Subscription], alert: AlertFacts, lineage: Lineage = exact) -> list[Subscription]:
    """The subscriptions that receive `alert`, in a stable order (by id)."""
    return sorted((s for s in subscriptions if matches(s, alert, lineage)), key=lambda s: s.subscription_id)


@dataclass(frozen=True)
class Team:
    team_id: str
    site_ids: frozenset[str]
    name: str = ""
    escalation_contacts: tuple[Channel, ...] = field(default_factory=tuple)

    def serves(self, site_id: str) -> bool:
        """True when the team reviews cases treated at `site_id`."""
        return site_id in self.site_ids


def subscription_problem(team: Team, site_ids: Iterable[str], channel: Channel) -> str | None:
    """Why a team may not create this subscription (None when it may)."""
    outside = sorted(set(site_ids) - team.site_ids)
    if outside:
        return f"team {team.team_id} does not serve {', '.join(outside)}"
    if channel.kind == "webhook" and not (channel.url or "").startswith(("https://", "http://")):
        return "a webhook subscription needs an http(s) URL"
    if channel.kind == "webhook" and not channel.secret:
        return "a webhook subscription needs a signing secret"
    if channel.kind == "email" and not channel.to:
        return "an e-mail subscription needs at least one address"
    if channel.kind == "email":
        return addresses_problem(channel.to)
    return None


# --- how channels and subscriptions are stored and shown (the documents of services.notify.adapters) ---

def channel_from_doc(doc: dict[str, Any]) -> Channel:
    return Channel(kind=doc["kind"], url=doc.get("url"), secret=doc.get("secret"), to=tuple(doc.get("to") or ()),
                   payload=doc.get("payload", "json"))


def channel_doc(channel: Channel) -> dict[str, Any]:
    doc: dict[str, Any] = {"kind": channel.kind, "payload": channel.payload}
    if channel.kind == "webhook":
        doc.update(url=channel.url, secret=channel.secret)
    if channel.kind == "email":
        doc["to"] = list(channel.to)
    return doc


def public_subscription(doc: dict[str, Any]) -> dict[str, Any]:
    """A subscription as shown to its team: the webhook secret is never shown back."""
    channel = {k: v for k, v in doc["channel"].items() if k != "secret"}
    return {"subscription_id": doc["_id"], "team_id": doc["team_id"], "site_ids": doc.get("site_ids", []),
            "tumor_types": doc.get("tumor_types", []), "priorities": doc.get("priorities", []),
            "channel": channel, "event_counter": doc.get("event_counter", 0), "active": doc.get("active", True)}
