"""The Kafka ACLs of a lab with its own topics, on a real broker with SASL/PLAIN and ACLs enforced (issue 18):
the commands `oncorelay labs acls LAB` prints let the lab's principal write its own results topic and read its
own receipts, and nothing else, so a result on a lab's topic was written by that lab's principal."""

import asyncio
import shlex

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAuthorizationFailedError

from contracts import topics
from tests.support.labs import register
from tests.support.sasl_kafka import SaslBroker


@pytest.fixture
def labs(stack):
    lab_a, lab_b = f"LAB-SA-{stack.run_id}", f"LAB-SB-{stack.run_id}"
    register(stack.db, lab_a, ["HOSP-A"])
    register(stack.db, lab_b, ["HOSP-B"], kafka_principal=f"User:lab-b-{stack.run_id}.mol.example")
    return lab_a, lab_b


@pytest.fixture
def broker(stack, labs):
    lab_a, _ = labs
    sasl = SaslBroker({lab_a: "lab-a-secret", f"lab-b-{stack.run_id}.mol.example": "lab-b-secret"}).start()
    yield sasl
    sasl.stop()


async def _create_topics(broker, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(**broker.client_options("admin"))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1) for name in names])
    finally:
        await admin.close()


async def _write(broker, user: str, topic: str) -> None:
    producer = AIOKafkaProducer(**broker.client_options(user), request_timeout_ms=15_000)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b'{"result_id": "R-ACL"}', key=b"R-ACL")
    finally:
        await producer.stop()


async def _read_one(broker, user: str, topic: str) -> bytes:
    consumer = AIOKafkaConsumer(topic, **broker.client_options(user), group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    try:
        return (await asyncio.wait_for(consumer.getone(), 30)).value
    finally:
        await consumer.stop()


def test_the_printed_acls_confine_a_labs_principal_to_its_own_topics(stack, labs, broker):
    lab_a, lab_b = labs
    names = [topics.LAB_RESULTS, topics.LAB_RECEIPTS,
             *(topic(lab) for lab in labs for topic in (topics.lab_results, topics.lab_receipts))]
    asyncio.run(_create_topics(broker, names))
    for lab in labs:
        run = stack.cli("labs", "acls", lab, "--bootstrap-server", broker.bootstrap,
                        "--command-config", str(broker.admin_properties()))
        assert run.returncode == 0, run.stderr
        commands = [shlex.split(line) for line in run.stdout.splitlines()]
        assert len(commands) == 2 and all(command[0] == "kafka-acls.sh" for command in commands)
        for command in commands:  # kafka-acls.sh is org.apache.kafka.tools.AclCommand
            broker.run_acl_command(command[1:])
    asyncio.run(_write(broker, "admin", topics.lab_receipts(lab_a)))
    user_b = f"lab-b-{stack.run_id}.mol.example"

    asyncio.run(_write(broker, lab_a, topics.lab_results(lab_a)))
    asyncio.run(_write(broker, user_b, topics.lab_results(lab_b)))  # its registered principal, not User:<lab_id>
    assert asyncio.run(_read_one(broker, lab_a, topics.lab_receipts(lab_a))) == b'{"result_id": "R-ACL"}'
    for topic in (topics.lab_results(lab_b), topics.LAB_RESULTS, topics.lab_receipts(lab_a)):
        with pytest.raises(TopicAuthorizationFailedError):
            asyncio.run(_write(broker, lab_a, topic))
    for topic in (topics.lab_receipts(lab_b), topics.LAB_RECEIPTS, topics.lab_results(lab_a)):
        with pytest.raises(TopicAuthorizationFailedError):
            asyncio.run(_read_one(broker, lab_a, topic))
    with pytest.raises(TopicAuthorizationFailedError):
        asyncio.run(_write(broker, user_b, topics.lab_results(lab_a)))


def test_a_lab_that_is_not_registered_gets_no_acls(stack):
    run = stack.cli("labs", "acls", f"LAB-NOBODY-{stack.run_id}")
    assert run.returncode == 1 and "no registered lab" in run.stderr
