"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" (pure).

A receiver verifies a delivery like this (services/notify/README.md has the same snippet):

    expected = hmac.new(secret, f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(f"v1={expected}", signature_header) and abs(time.time() - int(ts)) < 300
"""

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Oncorelay-Timestamp"
SIGNATURE_HEADER = "X-Oncorelay-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Deliveries older than this are refused by verify(): limits replay of a captured request.
MAX_SKEW_S = 300


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The signature header value for a body sent at `timestamp` (Unix seconds)."""
    digest = hmac.new(secret, f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(secret: bytes, timestamp_header: str, signature_header: str, body: bytes, now: float) -> bool:
    """True when the signature matches and the timestamp is within MAX_SKEW_S of `now`."""
    try:
        timestamp = int(timestamp_header)
    except (TypeError, ValueError):
        return False
    if abs(now - timestamp) > MAX_SKEW_S:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature_header or "")
