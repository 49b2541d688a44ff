"""The whole bad-input corpus against the real stack, interleaved with good results: every bad one gets a
rejected receipt with its precise code and a DLQ record, every good one is accepted, and ingest keeps
running throughout."""

import asyncio

from aiokafka import AIOKafkaProducer

from contracts import topics
from tests.badinput import corpus
from tests.integration.conftest import wait_until
from tests.support.kafka import read_all


def _publish(bootstrap: str, messages: list[tuple[str, bytes]]) -> None:
    async def run():
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=4 * 1024 * 1024, acks="all")
        await producer.start()
        try:
            for key, value in messages:
                await producer.send_and_wait(topics.LAB_RESULTS, value, key=key.encode())
        finally:
            await producer.stop()

    asyncio.run(run())


def _by_key(bootstrap: str, topic: str, keys: set[str]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for key, value in read_all(bootstrap, topic):
        if key is not None and key.decode() in keys:
            found.setdefault(key.decode(), []).append(value)
    return found


def test_every_bad_input_is_rejected_kept_and_answered_while_good_ones_flow(stack):
    bootstrap = stack.env["ONCORELAY_KAFKA_BOOTSTRAP"]
    bad = corpus.load(run=stack.run_id)
    good = [(f"R-GOODBAD-{stack.run_id}-{i}", f"CASE-GOODBAD-{stack.run_id}-{i}") for i in range(len(bad) // 5 + 1)]
    messages: list[tuple[str, bytes]] = []
    for index, case in enumerate(bad):
        messages.append((case.key, case.value))
        if index % 5 == 0:
            result_id, case_id = good[index // 5]
            messages.append((result_id, corpus.good_message(result_id, case_id)))
    _publish(bootstrap, messages)

    keys = {case.key for case in bad} | {result_id for result_id, _ in good}

    def all_answered():
        receipts = _by_key(bootstrap, topics.LAB_RECEIPTS, keys)
        return receipts if len(receipts) == len(keys) else None

    receipts = wait_until(all_answered, 240, "a receipt for every message")
    wrong = {case.id: [(r["status"], [x["code"] for x in r["reasons"]]) for r in receipts[case.key]]
             for case in bad
             if [(r["status"], [x["code"] for x in r["reasons"]]) for r in receipts[case.key]]
             != [("rejected", [case.expect.value])]}
    assert wrong == {}
    assert all(receipts[result_id][0]["status"] == "accepted" for result_id, _ in good)

    dead = _by_key(bootstrap, topics.LAB_RESULTS_DLQ, {case.key for case in bad})
    assert {case.key for case in bad} == set(dead)
    for case in bad:
        [letter] = dead[case.key]
        assert letter["reasons"][0]["code"] == case.expect.value
        assert letter["source_topic"] == topics.LAB_RESULTS and letter["original_base64"] is not None

    assert stack.services.processes["ingest"].poll() is None, "ingest stopped on bad input"
    def states():
        return {d["_id"]: d["state"] for d in stack.db.cases.find({"_id": {"$in": [c for _, c in good]}})}

    try:
        wait_until(lambda: set(states().values()) == {"alerted"} and len(states()) == len(good), 240,
                   "every good result alerted")
    except AssertionError as error:
        raise AssertionError(f"{error}: {states()}") from None
    assert stack.db.results.count_documents({"result_id": {"$in": [c.key for c in bad]}, "status": "accepted"}) == 0
    audited = {e["detail"]["result_id"]: e["detail"]["codes"]
               for e in stack.db.audit.find({"action": "result_rejected", "actor": "ingest"})}
    assert {case.key: [case.expect.value] for case in bad} == {case.key: audited.get(case.key) for case in bad}
