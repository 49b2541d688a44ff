"""The notify service: wiring only.

- agent on oncorelay.mtb.alerts.v1 -> AlertIntake (record, route, queue deliveries; quick)
- task: Dispatcher (sends due deliveries: webhook, e-mail, stream; retries; dead letters)
- timer: Review.escalate_overdue (urgent alerts not acknowledged in time)
- task: the clinician API and SSE stream on ONCORELAY_NOTIFY_API_PORT
"""

import asyncio
import logging
from functools import partial

from contracts import topics
from services.common import metrics
from services.common.mongo import connect, database, ensure_indexes
from services.common.oncotree import load_oncotree
from services.common.runtime import Health, declare_topics, publisher, until_done
from services.common.service import add_ops_pages, create_app
from services.common.settings import load_settings
from services.notify.adapters import directory, store
from services.notify.api import ClinicianApi, serve
from services.notify.delivery import Dispatcher
from services.notify.intake import SERVICE, AlertIntake
from services.notify.review import Review
from services.notify.wakeup import Signal

log = logging.getLogger("oncorelay.notify")
settings = load_settings()
app = create_app(SERVICE, settings)
if settings.notify_group_id:  # a second notify deployment on the same cluster consumes every alert too
    app.conf.id = settings.notify_group_id
health = Health()
mongo = connect(settings)
db = database(mongo, settings)
publish = publisher(app, SERVICE)
deliveries_due = asyncio.Event()
stream_signal = Signal()
dispatcher = Dispatcher(db, publish, settings, deliveries_due, stream_signal)
intake = AlertIntake(db, settings, load_oncotree(settings.oncotree_file).lineage, dispatcher.take)
review = Review(db, publish, settings, deliveries_due, stream_signal)
api = ClinicianApi(db, review, settings, stream_signal)
alerts_topic = app.topic(topics.MTB_ALERTS, key_type=bytes, value_type=bytes)
add_ops_pages(app, lambda: db, health)
ready = asyncio.Event()


@app.task
async def prepare() -> None:
    await declare_topics(app)
    await until_done(lambda: ensure_indexes(db), health, "creating indexes")
    await until_done(lambda: store.ensure_indexes(db), health, "creating notify indexes")
    await until_done(lambda: store.queue_open_escalations(db), health, "queueing open escalations")
    await until_done(lambda: directory.ensure_operator_subscriptions(db, settings.webhook_targets()), health,
                     "registering the operator's webhook subscriptions")
    ready.set()


@app.task
async def deliver() -> None:
    await ready.wait()
    await dispatcher.run_forever()


@app.task
async def clinician_api() -> None:
    while True:  # a taken port must not stop alert delivery: say so and keep trying
        try:
            runner = await serve(api, settings.bind_host, settings.notify_api_port)
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
        await until_done(review.escalate_overdue, health, "escalating overdue alerts")


@app.agent(alerts_topic)
async def notify_alerts(stream):
    await ready.wait()
    async for event in stream.events():
        metrics.MESSAGES_CONSUMED.labels(SERVICE, topics.MTB_ALERTS).inc()
        raw = event.value or b""
        await until_done(partial(intake.handle, raw), health, f"alert at offset {event.message.offset}")
