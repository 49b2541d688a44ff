"""ingest's lab-facing HTTP door with fakes of its ports: a lab publishes as itself only, reads only its own
receipts, and gets a JSON error for every refusal (token, lab, size, type, schema, rate)."""

import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from contracts import topics
from contracts.registry import Lab
from services.common.settings import Settings
from services.ingest.entrypoints.lab_api import LabApi
from services.ingest.handlers import MAX_MESSAGE_BYTES, LabSubmissions
from tests.fakes.common import FakePublisher, FixedClock
from tests.fakes.faults import Faults
from tests.fakes.ingest import FakeLabRegistry, FakeLabTokens, FakeResultStore
from tests.unit.handlers.test_ingest_handlers import result


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def door():
    faults = Faults()
    tokens, publish, results, clock = FakeLabTokens(), FakePublisher(faults), FakeResultStore(faults, FixedClock()), Clock()
    lab = result().lab_id
    labs = FakeLabRegistry(Lab(lab_id=lab, any_site=True), Lab(lab_id="LAB-OTHER", any_site=True))
    settings = Settings(_env_file=None, lab_api_rate_per_s=1.0, lab_api_burst=3.0)
    client = TestClient(TestServer(LabApi(LabSubmissions(tokens, labs, results, publish, settings), settings,
                                          clock).application()))
    await client.start_server()
    yield client, publish, results, clock, await tokens.issue(lab), await tokens.issue("LAB-OTHER")
    await client.close()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_a_lab_publishes_its_result_and_gets_where_the_receipt_will_be(door):
    client, publish, _, _, own, _ = door
    value = result(result_id="R-HTTP-1")
    response = await client.post("/api/v1/results", data=value.model_dump_json(),
                                 headers={**bearer(own), "Content-Type": "application/json"})
    body = await response.json()
    assert response.status == 202 and body["result_id"] == "R-HTTP-1" and body["receipt"] == "/api/v1/results/R-HTTP-1"
    [(topic, key, sent)] = publish.sent
    assert (topic, key, sent.result_id) == (topics.LAB_RESULTS, "R-HTTP-1", "R-HTTP-1")


async def test_a_token_of_one_lab_can_neither_publish_as_another_nor_read_its_receipts(door):
    client, publish, results, _, own, other = door
    value = result(result_id="R-HTTP-2")
    refused = await client.post("/api/v1/results", data=value.model_dump_json(),
                                headers={**bearer(other), "Content-Type": "application/json"})
    assert refused.status == 403 and (await refused.json())["error"] == "lab_mismatch" and not publish.sent
    await results.save_receipt("R-HTTP-2@1", {"result_id": "R-HTTP-2", "lab_id": value.lab_id, "status": "accepted",
                                              "received_at": FixedClock()()})
    assert (await client.get("/api/v1/results/R-HTTP-2", headers=bearer(other))).status == 404
    mine = await client.get("/api/v1/results/R-HTTP-2", headers=bearer(own))
    assert mine.status == 200 and (await mine.json())["status"] == "accepted"


@pytest.mark.parametrize(("token", "headers", "body", "status", "code"), [
    (None, {}, b"{}", 401, "unauthenticated"),
    ("orl_lab_forged", {}, b"{}", 401, "unauthenticated"),
    ("own", {"Content-Type": "text/plain"}, b"{}", 415, "unsupported_media_type"),
    ("own", {"Content-Type": "application/json"}, b"{not json", 422, "invalid_result"),
    ("own", {"Content-Type": "application/json"}, json.dumps({"result_id": "x"}).encode(), 422, "invalid_result"),
    ("own", {"Content-Type": "application/json"}, b"x" * (MAX_MESSAGE_BYTES + 10), 413, "body_too_large"),
])
async def test_every_refusal_is_a_json_error_a_lab_engineer_can_act_on(door, token, headers, body, status, code):
    client, publish, _, _, own, _ = door
    sent = {**(bearer(own if token == "own" else token) if token else {}), **headers}
    response = await client.post("/api/v1/results", data=body, headers=sent)
    assert response.status == status and (await response.json())["error"] == code and not publish.sent


async def test_a_token_over_its_rate_is_told_when_to_come_back(door):
    client, _, _, clock, own, other = door
    statuses = [(await client.get("/api/v1/results/R-none", headers=bearer(own))).status for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    limited = await client.get("/api/v1/results/R-none", headers=bearer(own))
    assert limited.status == 429 and int(limited.headers["Retry-After"]) >= 1
    assert (await client.get("/api/v1/results/R-none", headers=bearer(other))).status == 404  # per token
    clock.now += 2.0
    assert (await client.get("/api/v1/results/R-none", headers=bearer(own))).status == 404
