"""The skeleton every oncorelay service shares: a faust app, its ops endpoints, and how it is run.

Endpoints (on the service's port): /metrics (Prometheus text), /healthz (process alive),
/readyz (broker reachable with partitions assigned, database reachable).
"""

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

import faust
from faust.types.auth import CredentialsT
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pymongo.asynchronous.database import AsyncDatabase

from services.common.kafka import ssl_context
from services.common.runtime import Health
from services.common.settings import Settings


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
    """A faust app for one service: at-least-once, raw bytes in and out (contracts parse JSON)."""
    datadir = Path(settings.data_dir) / service
    datadir.mkdir(parents=True, exist_ok=True)
    return faust.App(
        f"oncorelay-{service}",
        broker=[f"kafka://{host}" for host in settings.kafka_bootstrap.split(",")],
        broker_credentials=faust_credentials(settings),
        value_serializer="raw",
        key_serializer="raw",
        processing_guarantee="at_least_once",
        topic_partitions=settings.kafka_topic_partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        producer_max_request_size=2 * 1024 * 1024,
        consumer_max_fetch_size=4 * 1024 * 1024,
        web_port=getattr(settings, f"{service}_port"),
        web_bind=settings.bind_host,
        web_enabled=True,
        datadir=str(datadir),
        stream_wait_empty=False,
    )


def add_ops_pages(app: faust.App, db: Callable[[], AsyncDatabase], health: Health) -> None:
    """Register /metrics, /healthz and /readyz on the app's web server."""

    async def readiness() -> dict[str, bool]:
        checks = {
            "consumer_assigned": bool(app.consumer.assignment()) and not app.rebalancing,
            "progressing": health.stalled_reason is None,
        }
        try:
            await asyncio.wait_for(db().command("ping"), timeout=2.0)
            checks["database"] = True
        except Exception:  # any failure means not ready; the reason is in the service log
            checks["database"] = False
        return checks

    @app.page("/metrics")
    async def metrics(web, request):
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
    """Run the app as a faust worker in this process (used by `python -m services.<name>`)."""
    level = settings.log_level
    sys.argv = [
        sys.argv[0],
        "worker",
        "--loglevel",
        level,
        "--web-port",
        str(app.conf.web_port),
        "--web-bind",
        app.conf.web_bind,
    ]
    app.main()
