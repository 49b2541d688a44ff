"""The HTTP APIs as contracts: each OpenAPI 3.1 document validates (openapi-spec-validator), lists exactly the
/api/ routes its application serves (method and path), and is served without a token."""

import pytest
from aiohttp.test_utils import TestClient, TestServer
from openapi_spec_validator import validate

from services.common.settings import Settings
from services.ingest.entrypoints import openapi as lab_openapi
from services.ingest.entrypoints.lab_api import LabApi
from services.ingest.handlers import LabSubmissions
from services.notify.entrypoints import openapi as clinician_openapi
from services.notify.entrypoints.api import ClinicianApi
from tests.fakes.common import FakePublisher, FixedClock
from tests.fakes.faults import Faults
from tests.fakes.ingest import FakeLabRegistry, FakeLabTokens, FakeResultStore
from tests.unit.handlers.test_notify_handlers import NotifyWorld


def clinician_app():
    world = NotifyWorld()
    return ClinicianApi(world.directory, world.alerts, world.deliveries, world.streams, None, world.review,
                        world.settings, world.stream_wake, lambda channel: None).application()


def lab_app():
    faults = Faults()
    settings = Settings(_env_file=None)
    return LabApi(LabSubmissions(FakeLabTokens(), FakeLabRegistry(), FakeResultStore(faults, FixedClock()),
                                 FakePublisher(faults), settings), settings).application()


def served(app) -> set[tuple[str, str]]:
    routes = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if route.method != "HEAD" and path and path.startswith("/api/"):
            routes.add((route.method.lower(), path))
    return routes


def documented(document: dict) -> set[tuple[str, str]]:
    return {(method, path) for path, item in document["paths"].items() for method in item}


@pytest.mark.parametrize(("build", "module"), [(clinician_app, clinician_openapi), (lab_app, lab_openapi)],
                         ids=["clinician", "lab"])
async def test_the_document_is_valid_matches_the_routes_and_is_public(build, module):
    document = module.document()
    validate(document)
    app = build()
    assert served(app) == documented(document)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        response = await client.get("/api/v1/openapi.json")
        assert response.status == 200 and (await response.json())["openapi"] == "3.1.0"
    finally:
        await client.close()


def test_request_bodies_are_the_models_the_handlers_validate_with():
    schemas = clinician_openapi.document()["components"]["schemas"]
    assert {"AcknowledgeInput", "DecisionDraft", "FollowUpInput", "SubscriptionInput"} <= set(schemas)
    assert "members_present" in schemas["DecisionDraft"]["required"]
    lab = lab_openapi.document()["components"]["schemas"]
    assert set(lab["SequencingResult"]["required"]) >= {"result_id", "lab_id", "vcf"}
