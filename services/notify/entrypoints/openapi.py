"""The OpenAPI 3.1 document of the clinician API (served at /api/v1/openapi.json): built from the same pydantic
models the handlers validate bodies with, so it cannot drift from them; tests/unit/test_openapi.py checks that
it lists exactly the routes the application serves and that openapi-spec-validator accepts it."""

from typing import Any

from pydantic.json_schema import models_json_schema

from services.notify.handlers.review import AcknowledgeInput, DecisionDraft, FollowUpInput
from services.notify.handlers.subscriptions import SubscriptionInput

REF = "#/components/schemas/{model}"
PROBLEM = {"type": "object", "required": ["error", "message"],
           "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}
ANY_OBJECT = {"type": "object", "additionalProperties": True}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problems(*statuses: int) -> dict[str, Any]:
    texts = {400: "bad request", 401: "no valid token", 403: "a scope or member is missing", 404: "not found "
             "(also another team's case or alert)", 409: "already done, or four eyes", 413: "body too large",
             415: "not application/json", 422: "invalid body"}
    return {str(s): _json({"$ref": "#/components/schemas/Problem"}, texts[s]) for s in statuses}


def _body(model: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": REF.format(model=model)}}}}


def _id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "maxLength": 256}}


def document() -> dict[str, Any]:
    """The clinician API as OpenAPI 3.1."""
    _, definitions = models_json_schema(
        [(m, "validation") for m in (AcknowledgeInput, DecisionDraft, FollowUpInput, SubscriptionInput)],
        ref_template=REF)
    reads = _problems(401, 403, 404)
    writes = _problems(401, 403, 404, 409, 413, 415, 422)
    alert_path = [_id("alert_id")]
    return {
        "openapi": "3.1.0",
        "info": {"title": "oncorelay clinician API", "version": "1",
                 "description": "MTB teams' alerts, reviews, decisions (four eyes), follow-ups, cases, FHIR export "
                                "and live stream. Every request needs a team or member token."},
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/alerts": {"get": {"summary": "The team's alerts", "parameters": [
                {"name": "status", "in": "query", "schema": {"enum": ["open", "acknowledged", "decided", "all"]}}],
                "responses": {"200": _json(ANY_OBJECT, "{alerts: [...]}"), **_problems(400, 401, 403)}}},
            "/api/v1/alerts/{alert_id}": {"get": {"summary": "An alert with its deliveries and draft",
                                                  "parameters": alert_path,
                                                  "responses": {"200": _json(ANY_OBJECT, "the alert"), **reads}}},
            "/api/v1/alerts/{alert_id}/acknowledge": {"post": {
                "summary": "Acknowledge (stops escalation)", "parameters": alert_path,
                "requestBody": _body("AcknowledgeInput"),
                "responses": {"200": _json(ANY_OBJECT, "acknowledged"), **writes}}},
            "/api/v1/alerts/{alert_id}/decision": {"post": {
                "summary": "Draft the board's decision (a member's personal token)", "parameters": alert_path,
                "requestBody": _body("DecisionDraft"),
                "responses": {"201": _json(ANY_OBJECT, "drafted"), **writes}}},
            "/api/v1/alerts/{alert_id}/decision/sign-off": {"post": {
                "summary": "Sign the draft off (a different member): records the decision", "parameters": alert_path,
                "responses": {"200": _json(ANY_OBJECT, "decided"), **writes}}},
            "/api/v1/alerts/{alert_id}/follow-up": {"post": {
                "summary": "Record what became of the recommendation", "parameters": alert_path,
                "requestBody": _body("FollowUpInput"),
                "responses": {"200": _json(ANY_OBJECT, "recorded"), **writes}}},
            "/api/v1/cases/{case_id}": {"get": {"summary": "The case summary", "parameters": [_id("case_id")],
                                                "responses": {"200": _json(ANY_OBJECT, "the case"), **reads}}},
            "/api/v1/cases/{case_id}/fhir": {"get": {
                "summary": "The case as a FHIR R4 Bundle (Genomics Reporting IG)", "parameters": [_id("case_id")],
                "responses": {"200": {"description": "a Bundle",
                                      "content": {"application/fhir+json": {"schema": ANY_OBJECT}}}, **reads}}},
            "/api/v1/stream": {"get": {"summary": "The team's events (Server-Sent Events; Last-Event-ID resumes)",
                                       "responses": {"200": {"description": "an event stream", "content": {
                                           "text/event-stream": {"schema": {"type": "string"}}}},
                                           **_problems(400, 401, 403)}}},
            "/api/v1/subscriptions": {
                "get": {"summary": "The team's subscriptions",
                        "responses": {"200": _json(ANY_OBJECT, "{subscriptions: [...]}"), **_problems(401, 403)}},
                "post": {"summary": "Subscribe a channel", "requestBody": _body("SubscriptionInput"),
                         "responses": {"201": _json(ANY_OBJECT, "the subscription"), **writes}}},
            "/api/v1/subscriptions/{subscription_id}": {"delete": {
                "summary": "Remove a subscription", "parameters": [_id("subscription_id")],
                "responses": {"200": _json(ANY_OBJECT, "removed"), **reads}}},
            "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [],
                                             "responses": {"200": _json(ANY_OBJECT, "OpenAPI 3.1")}}},
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": {"Problem": PROBLEM, **definitions["$defs"]}},
    }
