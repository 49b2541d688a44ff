"""The annotate service: a faust agent on the internal variants-ingested topic (see services.annotate.process)."""

from functools import partial

from contracts import topics
from services.annotate.process import SERVICE, Annotator
from services.common import metrics
from services.common.attempts import Attempts, MongoAttemptStore
from services.common.mongo import connect, database, ensure_indexes
from services.common.parking import parker
from services.common.runtime import Health, declare_topics, process_or_park, publisher, until_done
from services.common.service import add_ops_pages, create_app
from services.common.settings import load_settings

settings = load_settings()
app = create_app(SERVICE, settings)
health = Health()
mongo = connect(settings)
db = database(mongo, settings)
publish = publisher(app, SERVICE)
annotator = Annotator(db, publish, settings)
attempts = Attempts(MongoAttemptStore(db), SERVICE, settings.max_message_attempts)
ingested_topic = app.topic(topics.VARIANTS_INGESTED, key_type=bytes, value_type=bytes)
add_ops_pages(app, lambda: db, health)


@app.task
async def prepare() -> None:
    await declare_topics(app)
    await until_done(lambda: ensure_indexes(db), health, "creating indexes")
    await until_done(annotator.refresh_knowledge, health, "loading the knowledge base")


@app.timer(settings.kb_refresh_s)
async def refresh_knowledge() -> None:
    await until_done(annotator.refresh_knowledge, health, "reloading the knowledge base")


@app.agent(ingested_topic)
async def annotate_results(stream):
    async for event in stream.events():
        metrics.MESSAGES_CONSUMED.labels(SERVICE, topics.VARIANTS_INGESTED).inc()
        raw = event.value or b""
        park = parker(publish, SERVICE, topics.VARIANTS_INGESTED, event)
        message = event.message
        exhausted = await attempts.check(topics.VARIANTS_INGESTED, message.partition, message.offset, health)
        if exhausted is not None:
            await until_done(partial(park, exhausted), health, f"parking offset {message.offset}")
            continue
        await process_or_park(partial(annotator.handle, raw), park, health, f"offset {message.offset}")
