"""The OpenAPI 3.1 document of ingest's lab-facing HTTP door (served at /api/v1/openapi.json), with the
SequencingResult and IngestReceipt contracts as its schemas; tests/unit/test_openapi.py keeps it in step with
the routes and validates it."""

from typing import Any

from pydantic.json_schema import models_json_schema

from contracts.events import IngestReceipt, SequencingResult

REF = "#/components/schemas/{model}"
PROBLEM = {"type": "object", "required": ["error", "message"],
           "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def document() -> dict[str, Any]:
    """The lab-facing HTTP door as OpenAPI 3.1."""
    _, definitions = models_json_schema([(SequencingResult, "validation"), (IngestReceipt, "serialization")],
                                        ref_template=REF)
    queued = {"type": "object", "required": ["status", "result_id", "result_version", "receipt"], "properties": {
        "status": {"const": "queued"}, "result_id": {"type": "string"}, "result_version": {"type": "integer"},
        "receipt": {"type": "string", "description": "where GET answers with the receipt"}}}
    status = {"type": "object", "required": ["result_id", "status", "receipts"], "properties": {
        "result_id": {"type": "string"}, "status": {"enum": ["accepted", "rejected"]},
        "receipts": {"type": "array", "items": {"$ref": REF.format(model="IngestReceipt")}}}}
    unauthenticated = _problem("no valid lab token")
    limited = {**_problem("over the token's rate"),
               "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "oncorelay lab results door", "version": "1",
                 "description": "Labs without a Kafka client publish SequencingResults and read their receipts "
                                "with a lab token (`oncorelay labs token LAB`)."},
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/results": {"post": {
                "summary": "Publish a result as your lab",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": REF.format(model="SequencingResult")}}}},
                "responses": {"202": {"description": "queued for ingest",
                                      "content": {"application/json": {"schema": queued}}},
                              "401": unauthenticated, "403": _problem("a result of another lab, or no such lab"),
                              "413": _problem("body over 1 MiB: send the VCF by reference"),
                              "415": _problem("not application/json"), "422": _problem("not a valid result"),
                              "429": limited}}},
            "/api/v1/results/{result_id}": {"get": {
                "summary": "Your result's status and receipts",
                "parameters": [{"name": "result_id", "in": "path", "required": True,
                                "schema": {"type": "string", "maxLength": 128}}],
                "responses": {"200": {"description": "the receipts, oldest first",
                                      "content": {"application/json": {"schema": status}}},
                              "401": unauthenticated, "404": _problem("no such result of your lab (yet)"),
                              "429": limited}}},
            "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {
                "200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": {"Problem": PROBLEM, **definitions["$defs"]}},
    }
