"""Running CPU-bound work beside the event loop, or on it when the work is small.

A worker thread keeps the event loop answering (heartbeats, health pages, other messages) while a
large VCF is parsed or interpreted. For a panel-sized result the hop costs more than the work: each
one wakes a thread and then the loop again, and the GIL lets only one of them run anyway. Measured on
the 2-core bench VM at 20 panel results/s (bench/README.md): ingest made 5 hops per result and
annotate 3. Work below the callers' thresholds (a few milliseconds) runs on the loop instead.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Runner = Callable[..., Awaitable[Any]]


async def on_loop(function: Callable[..., Any], /, *args: Any) -> Any:
    """Run `function(*args)` on the event loop (for small work; see the module docstring)."""
    return function(*args)


def runner(small: bool) -> Runner:
    """`on_loop` for small work, else `asyncio.to_thread`; both are awaited the same way."""
    return on_loop if small else asyncio.to_thread
