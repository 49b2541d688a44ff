"""The attempts ledger (services/common/attempts.py) against an in-memory store."""

from contracts.reasons import RejectionCode
from services.common.attempts import Attempts, AttemptsExhausted

TOPIC = "oncorelay.lab.results.v1"


class MemoryStore:
    def __init__(self) -> None:
        self.documents: dict[str, dict] = {}
        self.reads = self.writes = 0

    async def get(self, ledger_id: str) -> dict | None:
        self.reads += 1
        document = self.documents.get(ledger_id)
        return dict(document) if document else None

    async def put(self, ledger_id: str, offset: int, attempts: int) -> None:
        self.writes += 1
        self.documents[ledger_id] = {"offset": offset, "attempts": attempts}


def ledger(store: MemoryStore, max_attempts: int = 3) -> Attempts:
    """A new ledger over `store`: a (re)started process."""
    return Attempts(store, "ingest", max_attempts)


async def test_the_steady_state_is_one_write_per_message_and_one_read_per_partition():
    store = MemoryStore()
    attempts = ledger(store)
    assert [await attempts.begin(TOPIC, 0, offset) for offset in range(10, 20)] == [1] * 10
    assert [await attempts.begin(TOPIC, 1, offset) for offset in range(5)] == [1] * 5
    assert (store.reads, store.writes) == (2, 15)
    assert store.documents["ingest|oncorelay.lab.results.v1|0"] == {"offset": 19, "attempts": 1}


async def test_a_message_that_stops_the_process_every_time_is_exhausted_after_the_allowed_attempts():
    store = MemoryStore()
    for restart in range(3):  # three processes, each killed while handling offset 7
        attempts = ledger(store)
        assert await attempts.begin(TOPIC, 0, 7) == restart + 1
        assert attempts.exhausted(restart + 1) is None
    attempts = ledger(store)
    fourth = await attempts.begin(TOPIC, 0, 7)
    why = attempts.exhausted(fourth)
    assert isinstance(why, AttemptsExhausted) and why.code == RejectionCode.ATTEMPTS_EXHAUSTED
    assert str(why) == "this message stopped ingest 3 times"
    assert await attempts.begin(TOPIC, 0, 8) == 1  # and the service moves on


async def test_messages_replayed_after_a_restart_do_not_reset_the_count_of_the_one_that_stopped_it():
    """Offsets committed at 3 but begun up to 7 (killed there): 3-6 finished before, 7 is on its second attempt."""
    store = MemoryStore()
    first = ledger(store)
    for offset in range(3, 8):
        await first.begin(TOPIC, 0, offset)
    second = ledger(store)
    assert [await second.begin(TOPIC, 0, offset) for offset in range(3, 8)] == [1, 1, 1, 1, 2]
    assert store.documents["ingest|oncorelay.lab.results.v1|0"] == {"offset": 7, "attempts": 2}


async def test_an_offset_that_is_not_the_next_one_is_read_again():
    """A rebalance took the partition away and another process moved it on to 5 (killed there)."""
    store = MemoryStore()
    attempts, other = ledger(store), ledger(store)
    await attempts.begin(TOPIC, 0, 1)
    for offset in range(2, 6):
        await other.begin(TOPIC, 0, offset)
    reads = store.reads
    assert await attempts.begin(TOPIC, 0, 5) == 2
    assert store.reads == reads + 1


async def test_a_message_redelivered_to_the_same_process_counts_as_another_attempt():
    store = MemoryStore()
    attempts = ledger(store, max_attempts=1)
    assert await attempts.begin(TOPIC, 0, 4) == 1
    assert attempts.exhausted(await attempts.begin(TOPIC, 0, 4)) is not None
