"""Waking waiters inside one notify process (new stream events, new deliveries)."""

import asyncio


class Signal:
    """Wakes every waiter at once; waiters also time out, so a missed wake costs one poll, never an event."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            pass
