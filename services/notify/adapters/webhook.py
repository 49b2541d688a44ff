"""POST an alert to a webhook URL (adapter): WebhookSender, the ChannelSender of webhooks; the outcome of one
attempt. `destination_problem` checks a team's webhook URL before a subscription is stored.

Headers: X-Oncorelay-Timestamp and X-Oncorelay-Signature ("v1=" + hex HMAC-SHA256 over
"<timestamp>.<body>", see services.notify.domain.signing), Idempotency-Key (the same on every retry of
one alert to one subscription), X-Oncorelay-Subscription and X-Oncorelay-Event-Number (the
subscription's event counter: a receiver that sees 7 after 5 knows it missed one).

A team's webhook is checked again at each attempt: the URL's form, then every address its host
resolves to, and the connection is made only to those checked addresses (services.common.netguard).
Redirects are not followed. Outcomes name the HTTP status or the kind of failure, never an address
or error text from inside the network.
"""

import json
import time

import aiohttp

from services.common.netguard import (
    AddressPolicy,
    HostUnresolved,
    OutboundRefused,
    PinnedResolver,
    check_before_connect,
    check_destination,
    check_url,
)
from services.common.settings import Settings
from services.notify.domain import fhir
from services.notify.domain.attempts import AttemptOutcome
from services.notify.domain.routing import OPERATOR_TEAM, WEBHOOK_SCHEMES, Channel
from services.notify.domain.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

SUBSCRIPTION_HEADER = "X-Oncorelay-Subscription"
EVENT_NUMBER_HEADER = "X-Oncorelay-Event-Number"


def failure_kind(error: Exception) -> str:
    """What went wrong, without addresses or the error's own text."""
    if isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
        return "timed out"
    if isinstance(error, aiohttp.ClientSSLError):
        return "TLS handshake or certificate check failed"
    if isinstance(error, aiohttp.ClientConnectorError):
        return "could not connect"
    return "the request failed"


async def post_alert(
    session: aiohttp.ClientSession, url: str, body: bytes, idempotency_key: str, secret: bytes, timeout_s: float,
    content_type: str = "application/json", extra_headers: dict[str, str] | None = None,
    policy: AddressPolicy | None = None,
) -> AttemptOutcome:
    """One signed delivery attempt; any 2xx answer counts as delivered. With a `policy` (a team's webhook) the
    host must resolve to permitted addresses: `session` must connect through a PinnedResolver of it, which
    checks each name once, as it resolves it for the connection."""
    try:
        if policy is None:
            check_url(url, WEBHOOK_SCHEMES)
        else:
            check_before_connect(url, WEBHOOK_SCHEMES, policy)
    except OutboundRefused as error:  # a name that does not resolve may resolve later: tried again
        return AttemptOutcome(False, f"not sent: {error}", final=not isinstance(error, HostUnresolved))
    timestamp = int(time.time())
    headers = {
        "Content-Type": content_type,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        IDEMPOTENCY_HEADER: idempotency_key,
        **(extra_headers or {}),
    }
    try:
        async with session.post(url, data=body, headers=headers, allow_redirects=False,
                                timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
            if 300 <= response.status < 400:
                return AttemptOutcome(False, f"HTTP {response.status}: a redirect, not followed")
            return AttemptOutcome(200 <= response.status < 300, f"HTTP {response.status}")
    except OutboundRefused as error:  # raised by the PinnedResolver: a name on a refused address, or none
        return AttemptOutcome(False, f"not sent: {error}", final=not isinstance(error, HostUnresolved))
    except (aiohttp.ClientError, TimeoutError) as error:
        return AttemptOutcome(False, failure_kind(error))


async def destination_problem(channel: Channel, policy: AddressPolicy) -> str | None:
    """Why a team's webhook URL may not be used (form, credentials, where its host resolves); None when it may."""
    if channel.kind != "webhook":
        return None
    try:
        await check_destination(channel.url or "", WEBHOOK_SCHEMES, policy)
    except OutboundRefused as error:
        return f"webhook URL refused: {error}"
    return None


class WebhookSender:
    """The ChannelSender of webhooks: the alert (or its FHIR notification bundle) signed and POSTed once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.policy = AddressPolicy.parse(settings.webhook_allowed_networks)
        self._sessions: dict[bool, aiohttp.ClientSession] = {}

    def session(self, guarded: bool) -> aiohttp.ClientSession:
        """The HTTP session for operator webhooks, or (guarded) for teams' webhooks: connecting only to addresses
        the policy permits."""
        session = self._sessions.get(guarded)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(resolver=PinnedResolver(self.policy)) if guarded else None
            session = self._sessions[guarded] = aiohttp.ClientSession(connector=connector)
        return session

    async def check(self, channel: Channel) -> str | None:
        """The DestinationCheck of services.notify.ports: a team's webhook URL checked against the policy."""
        return await destination_problem(channel, self.policy)

    async def send(self, delivery: dict, alert: dict, channel: Channel) -> AttemptOutcome:
        headers = {}
        if delivery.get("subscription_id"):
            headers = {SUBSCRIPTION_HEADER: delivery["subscription_id"],
                       EVENT_NUMBER_HEADER: str(delivery.get("event_number", 0))}
        body, content_type = alert["payload"].encode("utf-8"), "application/json"
        if channel.payload == "fhir":
            bundle = fhir.notification_bundle(json.loads(alert["payload"]), delivery.get("subscription_id") or "",
                                              delivery.get("event_number", 0), self.settings.case_link_base)
            body, content_type = json.dumps(bundle).encode("utf-8"), "application/fhir+json"
        secret = (channel.secret or self.settings.webhook_secret.get_secret_value()).encode("utf-8")
        key = alert["_id"] if delivery.get("kind", "alert") == "alert" else delivery["_id"].replace("|", ".")
        guarded = delivery.get("team_id") != OPERATOR_TEAM
        return await post_alert(self.session(guarded), channel.url or "", body, key, secret,
                                self.settings.delivery_timeout_s, content_type, headers,
                                self.policy if guarded else None)
