"""The notify service, wiring only: the database client, the stores, the channel registry and the handlers are
built at start-up (the first task or agent to run), not import.

- agent on oncorelay.mtb.alerts.v1 -> AlertIntake (record, route, queue deliveries; quick)
- task: Dispatcher (sends due deliveries through the channel registry; retries; dead letters)
- timer: Review.escalate_overdue (urgent alerts not acknowledged in time)
- task: the clinician API, its SSE stream and the MTB workspace pages on ONCORELAY_NOTIFY_API_PORT
- timer: BoardMetrics.export (the per-site board gauges on /metrics)
"""

import asyncio
import logging
from dataclasses import dataclass
from functools import cache, partial

from pymongo.asynchronous.database import AsyncDatabase

from contracts import topics
from services.common import metrics
from services.common.adapters.case_record import MongoCaseRecord
from services.common.mongo import connect, database, ensure_indexes
from services.common.oncotree import load_oncotree
from services.common.runtime import Health, declare_topics, publisher, until_done, utc_now
from services.common.service import add_ops_pages, create_app
from services.common.settings import load_settings
from services.notify.adapters.alert_store import MongoAlertStore, MongoCaseViews, MongoDeliveryStore, MongoStreamStore
from services.notify.adapters.channels import channel_senders
from services.notify.adapters.session_store import MongoSessionStore
from services.notify.adapters.team_directory import MongoTeamDirectory
from services.notify.adapters.wakeup import Signal
from services.notify.adapters.webhook import WebhookSender
from services.notify.entrypoints.api import ClinicianApi, serve
from services.notify.entrypoints.pages import Workspace
from services.notify.handlers.alert_intake import SERVICE, AlertIntake
from services.notify.handlers.board import BoardMetrics
from services.notify.handlers.delivery import Dispatcher
from services.notify.handlers.review import Review
from services.notify.handlers.sessions import SignIn

log = logging.getLogger("oncorelay.notify")
settings = load_settings()
app = create_app(SERVICE, settings)
if settings.notify_group_id:  # a second notify deployment on the same cluster consumes every alert too
    app.conf.id = settings.notify_group_id
health = Health()
alerts_topic = app.topic(topics.MTB_ALERTS, key_type=bytes, value_type=bytes)


@dataclass(frozen=True)
class Wiring:
    """The handlers with their adapters, and the stores the start-up tasks prepare."""

    db: AsyncDatabase
    alerts: MongoAlertStore
    directory: MongoTeamDirectory
    dispatcher: Dispatcher
    intake: AlertIntake
    review: Review
    api: ClinicianApi
    board: BoardMetrics


@cache
def wiring() -> Wiring:
    """Build the clients and handlers once, when the worker first needs them."""
    db = database(connect(settings), settings)
    alerts, deliveries, streams = MongoAlertStore(db), MongoDeliveryStore(db), MongoStreamStore(db)
    directory, cases = MongoTeamDirectory(db), MongoCaseRecord(db)
    publish = publisher(app, SERVICE)
    deliveries_due, stream_signal = asyncio.Event(), Signal()
    webhook = WebhookSender(settings)
    senders = channel_senders(settings, streams, stream_signal, webhook)
    dispatcher = Dispatcher(deliveries, alerts, directory, cases, publish, senders, settings, deliveries_due, utc_now)
    intake = AlertIntake(alerts, deliveries, directory, cases, streams, stream_signal, settings,
                         load_oncotree(settings.oncotree_file).lineage, dispatcher.take, utc_now)
    review = Review(alerts, deliveries, streams, directory, cases, publish, settings, deliveries_due, stream_signal,
                    utc_now)
    case_views = MongoCaseViews(db)
    sign_in = SignIn(directory, MongoSessionStore(db), utc_now, settings.session_ttl_s)
    api = ClinicianApi(directory, alerts, deliveries, streams, case_views, review, settings, stream_signal,
                       webhook.check)
    board = BoardMetrics(case_views)
    api.pages = Workspace(sign_in, review, alerts, deliveries, case_views, board, settings, api.team_stream, utc_now)
    return Wiring(db, alerts, directory, dispatcher, intake, review, api, board)


add_ops_pages(app, lambda: wiring().db, health)
ready = asyncio.Event()


@app.task
async def prepare() -> None:
    """Create topics and indexes, queue open escalations, register the operator's webhooks; then start work."""
    handlers = wiring()
    await declare_topics(app)
    await until_done(lambda: ensure_indexes(handlers.db), health, "creating indexes")
    await until_done(handlers.alerts.ensure_indexes, health, "creating notify indexes")
    await until_done(handlers.alerts.queue_open_escalations, health, "queueing open escalations")
    await until_done(lambda: handlers.directory.ensure_operator_subscriptions(settings.webhook_targets()), health,
                     "registering the operator's webhook subscriptions")
    ready.set()


@app.task
async def deliver() -> None:
    await ready.wait()
    await wiring().dispatcher.run_forever()


@app.task
async def clinician_api() -> None:
    while True:  # a taken port must not stop alert delivery: say so and keep trying
        try:
            runner = await serve(wiring().api, settings.bind_host, settings.notify_api_port)
            break
        except OSError as error:
            log.error("clinician API cannot listen on %s:%s (%s); retrying in 5 s", settings.bind_host,
                      settings.notify_api_port, error.strerror)
            await asyncio.sleep(5)
    try:
        await asyncio.Event().wait()  # serve until the worker stops (this task is cancelled then)
    finally:
        await runner.cleanup()


@app.timer(settings.escalation_check_s)
async def escalate() -> None:
    if ready.is_set():  # a database outage must not escape: an exception in a faust timer stops the worker
        await until_done(wiring().review.escalate_overdue, health, "escalating overdue alerts")


@app.timer(settings.board_metrics_s)
async def board_metrics() -> None:
    """Refresh the per-site board gauges (a failure is retried at the next tick)."""
    if ready.is_set():
        try:
            await wiring().board.export()
        except Exception as error:  # the database may be away; the gauges keep their last values meanwhile
            log.warning("board metrics not refreshed: %s", type(error).__name__)


@app.agent(alerts_topic)
async def notify_alerts(stream):
    await ready.wait()
    intake = wiring().intake
    async for event in stream.events():
        metrics.MESSAGES_CONSUMED.labels(SERVICE, topics.MTB_ALERTS).inc()
        raw = event.value or b""
        await until_done(partial(intake.handle, raw), health, f"alert at offset {event.message.offset}")
