"""MongoDB access through PyMongo's async API; works on MongoDB and on FerretDB.

Only features both servers support are used: no transactions, change streams, $lookup,
TTL or partial indexes (see README, "Storage").
"""

from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

from services.common.metrics import MONGODB_OPERATION_SECONDS, service_name
from services.common.settings import Settings

INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict]]] = {
    "results": [([("case_id", 1)], {}), ([("result_id", 1), ("result_version", -1)], {})],
    "variants": [([("result_key", 1), ("chunk", 1)], {})],
    "alerts": [([("case_id", 1)], {}), ([("treating_site", 1), ("status", 1)], {})],
    "interpretations": [([("case_id", 1)], {}), ([("patient_pseudonym", 1)], {})],
    "deliveries": [([("alert_id", 1)], {})],
    "kb_records": [([("kb_version", 1)], {})],
    "patient_specimens": [([("patient_pseudonym", 1), ("collected_on", 1)], {})],
    "receipts": [([("lab_id", 1), ("received_at", -1)], {}), ([("result_id", 1)], {})],
}


def connect(settings: Settings) -> AsyncMongoClient:
    """A client for the configured URI; short timeouts so readiness reflects reality quickly.

    Every command is timed into oncorelay_mongodb_operation_seconds (MongoCommandTimer).
    """
    return AsyncMongoClient(
        settings.mongo_uri.get_secret_value(),
        serverSelectionTimeoutMS=5000,
        connectTimeoutMS=5000,
        tz_aware=True,
        event_listeners=[MongoCommandTimer()],
    )


def database(client: AsyncMongoClient, settings: Settings) -> AsyncDatabase:
    return client[settings.mongo_database]


async def ensure_indexes(db: AsyncDatabase) -> None:
    """Create the secondary indexes oncorelay queries by (idempotent)."""
    for collection, indexes in INDEXES.items():
        for keys, options in indexes:
            await db[collection].create_index(keys, **options)


class MongoCommandTimer(monitoring.CommandListener):
    """A PyMongo command listener that times every command the driver sends (register it on the client)."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        """Nothing to do at the start: the driver reports the duration on completion."""

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Observe a successful command's round trip."""
        self._observe(event.command_name, "ok", event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Observe a failed command's round trip (server error or network failure)."""
        self._observe(event.command_name, "error", event.duration_micros)

    @staticmethod
    def _observe(command: str, outcome: str, micros: int) -> None:
        MONGODB_OPERATION_SECONDS.labels(service_name(), command, outcome).observe(micros / 1_000_000)
