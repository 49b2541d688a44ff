"""How often a service has begun each message, so that one that stops the process every time (a crash, a
kill for memory) goes to the DLQ after `max_attempts` instead of stopping the service forever.

One document per service, topic and partition (`message_attempts`, `_id` "<service>|<topic>|<partition>")
holds the offset in hand and how often it was begun. Beginning a message writes it: one write per message.
The document is read only when the process has no memory of the partition or the offset is not the one
after the last it began (a restart or a rebalance). A message below the stored offset was begun before
and moved past, so it finished: it is handled again (idempotently) without touching the count.
"""

from dataclasses import dataclass
from typing import Protocol

from pymongo.asynchronous.database import AsyncDatabase

from contracts.reasons import RejectionCode
from services.common.runtime import Health, until_done


class AttemptStore(Protocol):
    """The ledger's storage: the document of one partition."""

    async def get(self, ledger_id: str) -> dict | None: ...

    async def put(self, ledger_id: str, offset: int, attempts: int) -> None: ...


class MongoAttemptStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db.message_attempts

    async def get(self, ledger_id: str) -> dict | None:
        return await self.collection.find_one({"_id": ledger_id})

    async def put(self, ledger_id: str, offset: int, attempts: int) -> None:
        await self.collection.replace_one({"_id": ledger_id}, {"offset": offset, "attempts": attempts}, upsert=True)


class AttemptsExhausted(Exception):
    """A message that stopped the service on each of its allowed attempts; parked with this reason code."""

    code = RejectionCode.ATTEMPTS_EXHAUSTED

    def __init__(self, service: str, stopped: int) -> None:
        super().__init__(f"this message stopped {service} {stopped} times")


@dataclass
class _Held:
    offset: int
    attempts: int


class Attempts:
    """The attempts ledger of one service."""

    def __init__(self, store: AttemptStore, service: str, max_attempts: int) -> None:
        self.store = store
        self.service = service
        self.max_attempts = max_attempts
        self._held: dict[str, _Held] = {}  # what this process last wrote, per partition

    async def begin(self, topic: str, partition: int, offset: int) -> int:
        """Record that this message is begun (durably, before it is handled); returns its attempt number."""
        ledger_id = f"{self.service}|{topic}|{partition}"
        held = self._held.get(ledger_id)
        if held is not None and offset == held.offset + 1:
            attempts = 1
        else:
            stored = await self.store.get(ledger_id)
            if stored is not None and offset < stored["offset"]:
                return 1  # begun before and moved past: it finished
            attempts = stored["attempts"] + 1 if stored is not None and offset == stored["offset"] else 1
        await self.store.put(ledger_id, offset, attempts)
        self._held[ledger_id] = _Held(offset, attempts)
        return attempts

    def exhausted(self, attempts: int) -> AttemptsExhausted | None:
        """The reason to set the message aside, when this attempt is beyond the allowed ones."""
        return AttemptsExhausted(self.service, attempts - 1) if attempts > self.max_attempts else None

    async def check(self, topic: str, partition: int, offset: int, health: Health) -> AttemptsExhausted | None:
        """`begin` (retried while the database is away), then `exhausted`."""
        attempts: list[int] = []

        async def work() -> None:
            attempts.append(await self.begin(topic, partition, offset))

        await until_done(work, health, f"recording the attempt at offset {offset}")
        return self.exhausted(attempts[-1])
