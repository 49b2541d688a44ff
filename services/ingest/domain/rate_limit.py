"""A token bucket per caller (pure; the time is passed in): `rate` requests per second on average, bursts of
`burst`. Used to keep one lab's HTTP client from crowding out the others."""

from dataclasses import dataclass, field


@dataclass
class TokenBuckets:
    rate: float
    burst: float
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # caller -> (tokens, at)

    def take(self, caller: str, now: float) -> float:
        """0.0 when the request may go ahead (one token taken), else the seconds until one is free."""
        tokens, at = self._buckets.get(caller, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens >= 1.0:
            self._buckets[caller] = (tokens - 1.0, now)
            return 0.0
        self._buckets[caller] = (tokens, now)
        return (1.0 - tokens) / self.rate
