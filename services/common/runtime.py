"""Runtime helpers for stream processors: publishing with broker acknowledgement, and retrying
transient failures without moving past the message (so no effect is skipped)."""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

import faust
from aiokafka.errors import KafkaError
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from contracts import topics
from contracts.events import Contract
from services.common import metrics
from services.common.ports import Publish

log = logging.getLogger("oncorelay.runtime")

# Failures that go away by themselves: the database or broker is down or failing over.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (ConnectionFailure, KafkaError, OSError, asyncio.TimeoutError)


def utc_now() -> datetime:
    """The Clock port's real implementation: the time now, in UTC."""
    return datetime.now(UTC)


def publisher(app: faust.App, service: str) -> Publish:
    """A coroutine that publishes a contract as JSON and returns once the broker has acknowledged it."""

    async def publish(topic: str, key: str, event: Contract) -> None:
        await app.producer.send_and_wait(
            topic, key.encode("utf-8"), event.model_dump_json().encode("utf-8"), None, None, None
        )
        metrics.record_produced(service, topic)

    return publish


async def declare_topics(app: faust.App, extra: Iterable[str] = ()) -> None:
    """Create every oncorelay topic (and the `extra` ones) that does not exist yet (brokers may disable
    auto-creation)."""
    for name in (*topics.ALL_TOPICS, *extra):
        await app.topic(name).maybe_declare()


class Health:
    """Whether the service is currently able to make progress (fed to /readyz)."""

    def __init__(self) -> None:
        self.stalled_reason: str | None = None


async def until_done(
    work: Callable[[], Awaitable[None]], health: Health, describe: str, max_delay_s: float = 15.0
) -> None:
    """Run `work` until it succeeds, backing off (with jitter) on transient errors.

    While it fails the service reports not-ready; it never moves on to the next message, so the
    consumer effectively stops and catches up afterwards without loss.
    """
    delay = 0.2
    while True:
        try:
            await work()
            health.stalled_reason = None
            return
        except TRANSIENT_ERRORS as error:
            health.stalled_reason = f"{type(error).__name__}"
            log.warning("transient failure on %s, retrying in %.1f s: %s", describe, delay, type(error).__name__)
        except (OperationFailure, PyMongoError) as error:
            if not _is_transient_mongo(error):
                raise
            health.stalled_reason = f"{type(error).__name__}"
            log.warning("database unavailable on %s, retrying in %.1f s", describe, delay)
        await asyncio.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 2, max_delay_s)


def _is_transient_mongo(error: PyMongoError) -> bool:
    return isinstance(error, ConnectionFailure) or getattr(error, "has_error_label", lambda _: False)(
        "RetryableWriteError"
    )


async def process_or_park(
    work: Callable[[], Awaitable[None]],
    park: Callable[[BaseException], Awaitable[None]],
    health: Health,
    describe: str,
) -> None:
    """Run `work` until done (retrying transient failures); an unforeseen error parks the event
    with `park` (e.g. to a dead-letter topic) so one bad event never stops the stream or is lost."""
    try:
        await until_done(work, health, describe)
    except Exception as error:  # deliberately broad: anything not transient is a poison event
        log.exception("unforeseen failure on %s; parking the event", describe)
        failure = error  # bound for the closure below

        async def park_it() -> None:
            await park(failure)

        await until_done(park_it, health, f"parking {describe}")
