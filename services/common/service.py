"""The skeleton every oncorelay service shares: a faust app, its ops endpoints, and how it is run.

Endpoints (on the service's port): /metrics (Prometheus text), /healthz (process alive),
/readyz (broker and database reachable, partitions assigned, not stalled on a failing dependency).
Logs are structured (services.common.logging); consumer lag is measured every
`lag_interval_s` into oncorelay_consumer_lag_messages.
"""

import asyncio
import logging
import logging.config
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import faust
from aiokafka.client import AIOKafkaClient
from faust.types.auth import CredentialsT
from mode.supervisors import OneForOneSupervisor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pymongo.asynchronous.database import AsyncDatabase

from services.common import metrics
from services.common.kafka import aiokafka_options, ssl_context
from services.common.logging import level_name, logging_config
from services.common.runtime import Health
from services.common.settings import Settings

log = logging.getLogger("oncorelay.ops")


def faust_credentials(settings: Settings) -> CredentialsT | None:
    """faust's broker credentials for the configured security protocol (None for PLAINTEXT)."""
    context = ssl_context(settings)
    if settings.kafka_security_protocol.startswith("SASL"):
        password = settings.kafka_sasl_password
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=password.get_secret_value() if password else None,
            mechanism=settings.kafka_sasl_mechanism or "PLAIN",
            ssl_context=context,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def create_app(service: str, settings: Settings) -> faust.App:
    """A faust app for one service: at-least-once, raw bytes in and out (contracts parse JSON).

    It logs through services.common.logging and keeps oncorelay_consumer_lag_messages current.
    """
    metrics.identify(service)
    datadir = Path(settings.data_dir) / service
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        f"oncorelay-{service}",
        broker=[f"kafka://{host}" for host in settings.kafka_bootstrap.split(",")],
        broker_credentials=faust_credentials(settings),
        value_serializer="raw",
        key_serializer="raw",
        processing_guarantee="at_least_once",
        topic_partitions=settings.kafka_topic_partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset=settings.consumer_offset_reset,
        broker_commit_interval=1.0,
        # A killed worker never leaves its group: the broker notices after the session timeout, so keep it short
        # (faust's default, 60 s, stalled a restarted service for a minute or more in the chaos runs).
        broker_session_timeout=10.0,
        broker_heartbeat_interval=3.0,
        producer_max_request_size=2 * 1024 * 1024,
        consumer_max_fetch_size=4 * 1024 * 1024,
        web_port=getattr(settings, f"{service}_port"),
        web_bind=settings.bind_host,
        web_enabled=True,
        datadir=str(datadir),
        stream_wait_empty=False,
        logging_config=logging_config(service, settings.log_level, settings.log_format),
        # Topics created after start-up (declare_topics, a lab's first publish) are found within
        # seconds, not aiokafka's default 5 minutes, so the agent gets its partitions promptly.
        consumer_metadata_max_age_ms=10_000,
        agent_supervisor=CountingSupervisor,
        # faust prefetches up to 4096 messages per stream by default; lab results are up to 1 MiB,
        # so a backlog could hold gigabytes. Our agents take one message at a time: 32 is plenty.
        stream_buffer_maxsize=32,
    )
    _add_lag_monitor(app, settings.lag_interval_s)
    return app


class CountingSupervisor(OneForOneSupervisor):
    """faust's default agent supervisor (restart the crashed actor), counting each restart.

    A crashed actor leaves its message unacknowledged, so its partition stops committing: the
    restart counter and the lag gauge both show it (alerts OncorelayAgentCrashed, ...LagGrowing).
    """

    async def restart_service(self, service) -> None:
        metrics.AGENT_RESTARTS.labels(metrics.service_name()).inc()
        await super().restart_service(service)


def _add_lag_monitor(app: faust.App, interval_s: float) -> None:
    @app.timer(interval_s)
    async def measure_consumer_lag() -> None:
        if app.rebalancing:
            return
        try:
            lags = await consumer_lag(app.consumer)
            metrics.set_consumer_lag({tp: lag for tp, lag in lags.items() if not _internal(app, tp[0])})
        except Exception as error:  # the broker may be away; /readyz says so, the gauge keeps its last value
            log.debug("consumer lag not measured: %s", type(error).__name__)


def _internal(app: faust.App, topic: str) -> bool:
    """faust's own topics (partition assignor, changelogs) are named after the app id."""
    return topic.startswith(f"{app.conf.id}-")


async def consumer_lag(consumer) -> dict[tuple[str, int], int]:
    """Messages per assigned (topic, partition) that this consumer group has not committed yet.

    Log end offset (from the broker) minus the committed offset faust holds (Kafka's convention:
    the next offset to read); a partition never committed counts from its earliest offset.
    """
    assigned = consumer.assignment()
    if not assigned:
        return {}
    ends: Mapping = await consumer.highwaters(*assigned)
    committed: Mapping = consumer._committed_offset  # faust keeps no public accessor for it
    never = [tp for tp in assigned if committed.get(tp) is None]
    starts: Mapping = await consumer.earliest_offsets(*never) if never else {}
    lags = {}
    for tp in assigned:
        end = ends.get(tp)
        base = committed.get(tp)
        if base is None:
            base = starts.get(tp)
        if end is not None and base is not None:
            lags[(tp.topic, tp.partition)] = end - base
    return lags


async def broker_reachable(app: faust.App, timeout_s: float = 2.0) -> bool:
    """True if the broker answers a metadata request on the app's producer connection."""
    producer = getattr(app.producer, "_producer", None)  # faust's aiokafka driver: the AIOKafkaProducer
    if producer is None:
        return False
    try:
        await asyncio.wait_for(producer.client.fetch_all_metadata(), timeout=timeout_s)
        return True
    except Exception:  # any failure means not reachable now
        return False


def add_ops_pages(app: faust.App, db: Callable[[], AsyncDatabase], health: Health) -> None:
    """Register /metrics, /healthz and /readyz on the app's web server."""

    async def readiness() -> dict[str, bool]:
        checks = {
            "consumer_assigned": any(not _internal(app, tp.topic) for tp in app.consumer.assignment())
            and not app.rebalancing,
            "progressing": health.stalled_reason is None,
            "broker": await broker_reachable(app),
        }
        try:
            await asyncio.wait_for(db().command("ping"), timeout=2.0)
            checks["database"] = True
        except Exception:  # any failure means not ready; the reason is in the service log
            checks["database"] = False
        return checks

    @app.page("/metrics")
    async def metrics_page(web, request):
        return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/healthz")
    async def healthz(web, request):
        return web.json({"status": "alive"})

    @app.page("/readyz")
    async def readyz(web, request):
        checks = await readiness()
        ready = all(checks.values())
        return web.json({"ready": ready, "checks": checks}, status=200 if ready else 503)


def run_worker(app: faust.App, settings: Settings) -> None:
    """Run the app as a faust worker in this process (used by `python -m services.<name>`).

    Port and bind address come from the app's configuration (create_app). faust's start-up spinner
    is off (it writes terminal escapes even into a log file); with JSON logs the banner is silenced
    too, so every line of output is one JSON object.
    """
    worker = faust.Worker(app, loglevel=level_name(settings.log_level), quiet=settings.log_format == "json")
    worker.spinner = None
    logging.config.dictConfig(app.conf.logging_config)  # faust applies it again once the worker runs
    wait_for_broker(settings)
    worker.execute_from_commandline()


def wait_for_broker(settings: Settings, max_delay_s: float = 10.0) -> None:
    """Block until the broker answers a metadata request, retrying with backoff.

    faust gives up at once when it cannot bootstrap, so without this a service started while Kafka
    is away (both restarted together, a host booting) exits instead of waiting for it.
    """
    delay, waited = 0.5, 0.0
    while not _bootstraps(settings):
        log.warning("Kafka at %s is not reachable; waiting %.1f s (%.0f s so far)", settings.kafka_bootstrap, delay,
                    waited)
        time.sleep(delay)
        waited += delay
        delay = min(delay * 2, max_delay_s)


def _bootstraps(settings: Settings) -> bool:
    """One metadata request to the bootstrap servers, on an event loop of its own (faust's is not made yet)."""
    async def attempt() -> bool:
        client = AIOKafkaClient(**aiokafka_options(settings), request_timeout_ms=5000)
        try:
            await client.bootstrap()
            return True
        except Exception:  # refused, timed out, not ready: not reachable now
            return False
        finally:
            await client.close()

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(attempt())
    finally:
        loop.close()
