"""POST an alert to a webhook URL (adapter); the outcome of one attempt.

Headers: X-Oncorelay-Timestamp and X-Oncorelay-Signature ("v1=" + hex HMAC-SHA256 over
"<timestamp>.<body>", see services.notify.signing), Idempotency-Key (the same on every retry of
one alert to one subscription), X-Oncorelay-Subscription and X-Oncorelay-Event-Number (the
subscription's event counter: a receiver that sees 7 after 5 knows it missed one).
"""

import time
from dataclasses import dataclass

import aiohttp

from services.notify.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

SUBSCRIPTION_HEADER = "X-Oncorelay-Subscription"
EVENT_NUMBER_HEADER = "X-Oncorelay-Event-Number"


@dataclass(frozen=True)
class AttemptOutcome:
    ok: bool
    detail: str


async def post_alert(
    session: aiohttp.ClientSession, url: str, body: bytes, idempotency_key: str, secret: bytes, timeout_s: float,
    content_type: str = "application/json", extra_headers: dict[str, str] | None = None,
) -> AttemptOutcome:
    """One signed delivery attempt; any 2xx answer counts as delivered."""
    timestamp = int(time.time())
    headers = {
        "Content-Type": content_type,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        IDEMPOTENCY_HEADER: idempotency_key,
        **(extra_headers or {}),
    }
    try:
        async with session.post(url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
            return AttemptOutcome(200 <= response.status < 300, f"HTTP {response.status}")
    except (aiohttp.ClientError, TimeoutError) as error:
        return AttemptOutcome(False, type(error).__name__)
