"""The ingest service: a faust agent on oncorelay.lab.results.v1 and the own results topics of the labs in
ONCORELAY_LAB_TOPICS (see services.ingest.process)."""

import logging
from functools import partial

from contracts import topics
from services.common import metrics
from services.common.attempts import Attempts, MongoAttemptStore
from services.common.mongo import connect, database, ensure_indexes
from services.common.runtime import Health, declare_topics, publisher, until_done
from services.common.service import add_ops_pages, create_app
from services.common.settings import load_settings
from services.ingest.process import SERVICE, Ingest, Message
from services.ingest.retention import delete_expired_payloads

log = logging.getLogger("oncorelay.ingest")

settings = load_settings()
app = create_app(SERVICE, settings)
health = Health()
mongo = connect(settings)
db = database(mongo, settings)
processor = Ingest(db, publisher(app, SERVICE), settings)
attempts = Attempts(MongoAttemptStore(db), SERVICE, settings.max_message_attempts)
own_topic_labs = sorted(settings.own_topic_labs())
results_topic = app.topic(topics.LAB_RESULTS, *map(topics.lab_results, own_topic_labs), key_type=bytes, value_type=bytes)
add_ops_pages(app, lambda: db, health)


@app.task
async def prepare() -> None:
    """Create topics and indexes before the first message (retrying while the database starts)."""
    await declare_topics(app, [topic(lab_id) for lab_id in own_topic_labs
                               for topic in (topics.lab_results, topics.lab_receipts)])
    await until_done(lambda: ensure_indexes(db), health, "creating indexes")


@app.timer(settings.payload_retention_check_s)
async def expire_payloads() -> None:
    """Delete raw VCF payloads past payload_retention_days (a failure is retried at the next tick)."""
    try:
        await delete_expired_payloads(db, settings.payload_retention_days)
    except Exception as error:  # the database may be away; nothing is lost by waiting for the next tick
        log.warning("payload retention not run: %s", type(error).__name__)


@app.agent(results_topic)
async def ingest_results(stream):
    async for event in stream.events():
        metrics.MESSAGES_CONSUMED.labels(SERVICE, event.message.topic).inc()
        message = Message(
            value=event.value or b"",
            key=event.key.decode("utf-8", "replace") if event.key else None,
            partition=event.message.partition,
            offset=event.message.offset,
            topic=event.message.topic,
        )
        exhausted = await attempts.check(message.topic, message.partition, message.offset, health)
        if exhausted is not None:
            await until_done(partial(processor.set_aside, message, exhausted), health, f"offset {message.offset}")
            continue
        await until_done(partial(processor.handle, message), health, f"offset {message.offset}")
