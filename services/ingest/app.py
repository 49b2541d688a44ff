"""The ingest service, wiring only: a faust agent on oncorelay.lab.results.v1 and the own results topics of the
labs in ONCORELAY_LAB_TOPICS, handing each record to services.ingest.handlers.Ingest, the payload retention
timer, and the lab-facing HTTP door (services.ingest.entrypoints.lab_api). The database client and the handlers are built at start-up (the first task or agent to run), not import."""

import asyncio
import logging
from dataclasses import dataclass
from functools import cache, partial

from pymongo.asynchronous.database import AsyncDatabase

from contracts import topics
from services.common import metrics
from services.common.adapters.case_record import MongoCaseRecord
from services.common.attempts import Attempts, MongoAttemptStore
from services.common.labs import LabDirectory
from services.common.mongo import connect, database, ensure_indexes
from services.common.runtime import TRANSIENT_ERRORS, Health, declare_topics, publisher, until_done, utc_now
from services.common.service import add_ops_pages, create_app
from services.common.settings import load_settings
from services.ingest.adapters.lab_tokens import MongoLabTokens
from services.ingest.adapters.result_store import MongoResultStore
from services.ingest.adapters.vcf_files import LocalVcfFiles, PysamVcfReader
from services.ingest.entrypoints.lab_api import LabApi, serve
from services.ingest.handlers import SERVICE, Ingest, LabSubmissions, Message, PayloadRetention

log = logging.getLogger("oncorelay.ingest")

settings = load_settings()
app = create_app(SERVICE, settings)
health = Health()
own_topic_labs = sorted(settings.own_topic_labs())
results_topic = app.topic(topics.LAB_RESULTS, *map(topics.lab_results, own_topic_labs), key_type=bytes, value_type=bytes)


@dataclass(frozen=True)
class Wiring:
    """The handlers with their adapters, and the database they share."""

    db: AsyncDatabase
    ingest: Ingest
    retention: PayloadRetention
    attempts: Attempts
    lab_api: LabApi


@cache
def wiring() -> Wiring:
    """Build the clients and handlers once, when the worker first needs them."""
    db = database(connect(settings), settings)
    results, cases, labs, publish = MongoResultStore(db), MongoCaseRecord(db), LabDirectory(db), publisher(app, SERVICE)
    ingest = Ingest(results=results, labs=labs, cases=cases, files=LocalVcfFiles(settings),
                    reader=PysamVcfReader(settings), publish=publish, settings=settings,
                    clock=utc_now, transient_errors=TRANSIENT_ERRORS)
    lab_api = LabApi(LabSubmissions(MongoLabTokens(db), labs, results, publish, settings), settings)
    return Wiring(db, ingest, PayloadRetention(results, cases, utc_now),
                  Attempts(MongoAttemptStore(db), SERVICE, settings.max_message_attempts), lab_api)


add_ops_pages(app, lambda: wiring().db, health)


@app.task
async def prepare() -> None:
    """Create topics and indexes before the first message (retrying while the database starts)."""
    await declare_topics(app, [topic(lab_id) for lab_id in own_topic_labs
                               for topic in (topics.lab_results, topics.lab_receipts)])
    await until_done(lambda: ensure_indexes(wiring().db), health, "creating indexes")


@app.task
async def lab_http_door() -> None:
    """The lab-facing HTTP door on ONCORELAY_INGEST_API_PORT (a taken port is said and retried)."""
    while True:
        try:
            runner = await serve(wiring().lab_api, settings.bind_host, settings.ingest_api_port)
            break
        except OSError as error:
            log.error("lab API cannot listen on %s:%s (%s); retrying in 5 s", settings.bind_host,
                      settings.ingest_api_port, error.strerror)
            await asyncio.sleep(5)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


@app.timer(settings.payload_retention_check_s)
async def expire_payloads() -> None:
    """Delete raw VCF payloads past payload_retention_days (a failure is retried at the next tick)."""
    try:
        await wiring().retention.run(settings.payload_retention_days)
    except Exception as error:  # the database may be away; nothing is lost by waiting for the next tick
        log.warning("payload retention not run: %s", type(error).__name__)


@app.agent(results_topic)
async def ingest_results(stream):
    handlers = wiring()
    async for event in stream.events():
        metrics.MESSAGES_CONSUMED.labels(SERVICE, event.message.topic).inc()
        message = Message(
            value=event.value or b"",
            key=event.key.decode("utf-8", "replace") if event.key else None,
            partition=event.message.partition,
            offset=event.message.offset,
            topic=event.message.topic,
        )
        exhausted = await handlers.attempts.check(message.topic, message.partition, message.offset, health)
        if exhausted is not None:
            await until_done(partial(handlers.ingest.set_aside, message, exhausted), health, f"offset {message.offset}")
            continue
        await until_done(partial(handlers.ingest.handle, message), health, f"offset {message.offset}")
