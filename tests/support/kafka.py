"""Small synchronous Kafka helpers for tests (aiokafka under asyncio.run)."""

import asyncio
import json

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


def produce(bootstrap: str, topic: str, key: bytes | None, value: bytes,
            partition: int | None = None) -> tuple[int, int]:
    """Send one record and wait for the broker's acknowledgement (to `partition`, else by key);
    returns where it was written (partition, offset)."""
    async def run():
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=4 * 1024 * 1024)
        await producer.start()
        try:
            written = await producer.send_and_wait(topic, value, key=key, partition=partition)
            return written.partition, written.offset
        finally:
            await producer.stop()

    return asyncio.run(run())


def partition_count(bootstrap: str, topic: str) -> int:
    """How many partitions `topic` has."""
    async def run():
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            return len(await producer.partitions_for(topic))
        finally:
            await producer.stop()

    return asyncio.run(run())


def read_all(bootstrap: str, topic: str, idle_s: float = 1.5) -> list[tuple[bytes | None, dict]]:
    """Every record of `topic` from the beginning, values parsed as JSON."""

    async def run():
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                    enable_auto_commit=False, group_id=None)
        await consumer.start()
        records = []
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=int(idle_s * 1000))
                if not batch:
                    return records
                for messages in batch.values():
                    records += [(m.key, json.loads(m.value)) for m in messages]
        finally:
            await consumer.stop()

    return asyncio.run(run())
