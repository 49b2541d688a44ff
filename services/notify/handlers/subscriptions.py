"""Creating subscriptions (shared by the clinician API and the CLI): the team's input checked, the webhook's
destination checked, the subscription stored."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.events import ChannelKind
from services.notify.domain.routing import Channel, Subscription, Team, subscription_problem
from services.notify.ports import DestinationCheck, Document, TeamDirectory

OncoTreeCode = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,19}$")]


class ChannelInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: ChannelKind
    url: Annotated[str, Field(max_length=2048)] | None = None
    secret: Annotated[str, Field(min_length=16, max_length=256)] | None = None
    to: list[Annotated[str, Field(max_length=254)]] = Field(default_factory=list, max_length=20)
    payload: Literal["json", "fhir"] = "json"

    def channel(self) -> Channel:
        return Channel(kind=self.kind, url=self.url, secret=self.secret, to=tuple(self.to), payload=self.payload)


class SubscriptionInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site_ids: list[str] = Field(default_factory=list, description="empty = every site the team serves")
    tumor_types: list[OncoTreeCode] = Field(default_factory=list, description="empty = every tumour type")
    priorities: list[Literal["urgent", "routine", "info"]] = Field(default_factory=list, description="empty = all")
    channel: ChannelInput


async def create(directory: TeamDirectory, team: Team, request: SubscriptionInput,
                 destination_problem: DestinationCheck) -> tuple[Document | None, str | None]:
    """Store a new subscription of `team`; (document, None) or (None, why it was refused).
    A webhook's destination must pass `destination_problem` (its host resolving only to permitted addresses)."""
    sites = request.site_ids or sorted(team.site_ids)
    channel = request.channel.channel()
    problem = subscription_problem(team, sites, channel) or await destination_problem(channel)
    if problem:
        return None, problem
    subscription = Subscription(
        subscription_id=directory.new_subscription_id(), team_id=team.team_id, site_ids=frozenset(sites),
        channel=channel, tumor_types=frozenset(request.tumor_types), priorities=frozenset(request.priorities),
    )
    return await directory.add_subscription(subscription), None
