"""POST an alert to a webhook URL (adapter); the outcome of one attempt.

Headers: X-Oncorelay-Timestamp and X-Oncorelay-Signature ("v1=" + hex HMAC-SHA256 over
"<timestamp>.<body>", see services.notify.signing), Idempotency-Key (the same on every retry of
one alert to one subscription), X-Oncorelay-Subscription and X-Oncorelay-Event-Number (the
subscription's event counter: a receiver that sees 7 after 5 knows it missed one).

A team's webhook is checked again at each attempt: the URL's form, then every address its host
resolves to, and the connection is made only to those checked addresses (services.common.netguard).
Redirects are not followed. Outcomes name the HTTP status or the kind of failure, never an address
or error text from inside the network.
"""

import time
from dataclasses import dataclass

import aiohttp

from services.common.netguard import AddressPolicy, HostUnresolved, OutboundRefused, check_before_connect, check_url
from services.notify.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

SUBSCRIPTION_HEADER = "X-Oncorelay-Subscription"
EVENT_NUMBER_HEADER = "X-Oncorelay-Event-Number"


WEBHOOK_SCHEMES = {"https", "http"}


@dataclass(frozen=True)
class AttemptOutcome:
    """One attempt: delivered or not, a sentence for the team, and whether trying again is pointless."""

    ok: bool
    detail: str
    final: bool = False


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
