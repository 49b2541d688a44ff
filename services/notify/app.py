"""The notify service: a faust agent on oncorelay.mtb.alerts.v1 (see services.notify.process)."""

from contracts import topics
from services.common import metrics
from services.common.mongo import connect, database, ensure_indexes
from services.common.runtime import Health, declare_topics, publisher, until_done
from services.common.service import add_ops_pages, create_app
from services.common.settings import load_settings
from services.notify.process import SERVICE, Notifier

settings = load_settings()
app = create_app(SERVICE, settings)
health = Health()
mongo = connect(settings)
db = database(mongo, settings)
notifier = Notifier(db, publisher(app, SERVICE), settings)
alerts_topic = app.topic(topics.MTB_ALERTS, key_type=bytes, value_type=bytes)
add_ops_pages(app, lambda: db, health)


@app.task
async def prepare() -> None:
    await declare_topics(app)
    await until_done(lambda: ensure_indexes(db), health, "creating indexes")


@app.agent(alerts_topic)
async def notify_alerts(stream):
    async for event in stream.events():
        metrics.MESSAGES_CONSUMED.labels(SERVICE, topics.MTB_ALERTS).inc()
        raw = event.value or b""
        await until_done(lambda: notifier.handle(raw), health, f"alert at offset {event.message.offset}")
