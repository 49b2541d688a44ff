"""POST an alert to a webhook URL (adapter); the outcome of one attempt."""

import time
from dataclasses import dataclass

import aiohttp

from services.notify.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign


@dataclass(frozen=True)
class AttemptOutcome:
    ok: bool
    detail: str


async def post_alert(
    session: aiohttp.ClientSession, url: str, body: bytes, idempotency_key: str, secret: bytes, timeout_s: float
) -> AttemptOutcome:
    """One signed delivery attempt; any 2xx answer counts as delivered."""
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        IDEMPOTENCY_HEADER: idempotency_key,
    }
    try:
        async with session.post(url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
            if 200 <= response.status < 300:
                return AttemptOutcome(True, f"HTTP {response.status}")
            return AttemptOutcome(False, f"HTTP {response.status}")
    except (aiohttp.ClientError, TimeoutError) as error:
        return AttemptOutcome(False, type(error).__name__)
