"""Retry delays for deliveries: bounded exponential backoff with full jitter (pure).

"Full jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015): the n-th retry
waits a uniformly random time in [0, min(cap, base * 2**(n-1))], which spreads retries of many
senders after a receiver outage.
"""

import random


def retry_delay(attempt: int, base_s: float, cap_s: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number `attempt` (1 = the first retry)."""
    if attempt < 1:
        raise ValueError("attempt starts at 1")
    ceiling = min(cap_s, base_s * 2 ** (attempt - 1))
    return (rng or random).uniform(0, ceiling)
