"""The annotate service, wiring only: a faust agent on the internal variants-ingested topic handing each event to
services.annotate.handlers.Annotator, and the timer that reloads the knowledge base. The database client and the
handler are built at start-up (the first task or agent to run), not import."""

from dataclasses import dataclass
from functools import cache, partial

from pymongo.asynchronous.database import AsyncDatabase

from contracts import topics
from services.annotate.adapters.interpretation_store import MongoInterpretationStore
from services.annotate.adapters.knowledge_store import MongoKnowledgeStore
from services.annotate.domain.knowledge import KnowledgeBase
from services.annotate.handlers import SERVICE, Annotator, load_rules
from services.common import metrics
from services.common.adapters.case_record import MongoCaseRecord
from services.common.attempts import Attempts, MongoAttemptStore
from services.common.mongo import connect, database, ensure_indexes
from services.common.oncotree import load_oncotree
from services.common.parking import parker
from services.common.runtime import (
    TRANSIENT_ERRORS,
    Health,
    declare_topics,
    process_or_park,
    publisher,
    until_done,
    utc_now,
)
from services.common.service import add_ops_pages, create_app
from services.common.settings import load_settings

settings = load_settings()
app = create_app(SERVICE, settings)
health = Health()
publish = publisher(app, SERVICE)
ingested_topic = app.topic(topics.VARIANTS_INGESTED, key_type=bytes, value_type=bytes)


@dataclass(frozen=True)
class Wiring:
    """The handler with its adapters, and the database they share."""

    db: AsyncDatabase
    annotator: Annotator
    attempts: Attempts


@cache
def wiring() -> Wiring:
    """Build the clients and the handler once, when the worker first needs them."""
    db = database(connect(settings), settings)
    annotator = Annotator(store=MongoInterpretationStore(db), knowledge=MongoKnowledgeStore(db),
                          cases=MongoCaseRecord(db), publish=publish, settings=settings, clock=utc_now,
                          transient_errors=TRANSIENT_ERRORS, kb=KnowledgeBase.build(), rules=load_rules(settings),
                          oncotree=load_oncotree())
    return Wiring(db, annotator, Attempts(MongoAttemptStore(db), SERVICE, settings.max_message_attempts))


add_ops_pages(app, lambda: wiring().db, health)


@app.task
async def prepare() -> None:
    await declare_topics(app)
    await until_done(lambda: ensure_indexes(wiring().db), health, "creating indexes")
    await until_done(wiring().annotator.refresh_knowledge, health, "loading the knowledge base")


@app.timer(settings.kb_refresh_s)
async def refresh_knowledge() -> None:
    await until_done(wiring().annotator.refresh_knowledge, health, "reloading the knowledge base")


@app.agent(ingested_topic)
async def annotate_results(stream):
    handlers = wiring()
    async for event in stream.events():
        metrics.MESSAGES_CONSUMED.labels(SERVICE, topics.VARIANTS_INGESTED).inc()
        raw = event.value or b""
        park = parker(publish, SERVICE, topics.VARIANTS_INGESTED, event)
        message = event.message
        exhausted = await handlers.attempts.check(topics.VARIANTS_INGESTED, message.partition, message.offset, health)
        if exhausted is not None:
            await until_done(partial(park, exhausted), health, f"parking offset {message.offset}")
            continue
        await process_or_park(partial(handlers.annotator.handle, raw), park, health, f"offset {message.offset}")
