"""The lab-facing HTTP door of ingest (aiohttp, on ONCORELAY_INGEST_API_PORT, default 8105), for labs without a
Kafka client. Every request carries `Authorization: Bearer <lab token>` (`oncorelay labs token LAB`).

POST /api/v1/results            a SequencingResult as JSON: published to the lab's results topic, 202
GET  /api/v1/results/{result_id} the result's status and receipts (only the lab's own; others answer 404)
GET  /api/v1/openapi.json        this API as OpenAPI 3.1 (services.ingest.entrypoints.openapi; no token needed)

Errors are JSON {"error": code, "message": ...}: 401 without a valid token, 403 a result of another lab, 413 a
body over the limit, 415 not application/json, 422 not a valid result, 429 over the token's rate (Retry-After).
"""

import json
import logging
import math
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from services.common.settings import Settings
from services.ingest.domain.rate_limit import TokenBuckets
from services.ingest.entrypoints.openapi import document
from services.ingest.handlers import MAX_MESSAGE_BYTES, Answer, LabSubmissions

log = logging.getLogger("oncorelay.ingest.api")
LAB = web.RequestKey("lab", str)
OPENAPI_PATH = "/api/v1/openapi.json"


def answer(status: int, body: dict, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(text=json.dumps(body, default=str), status=status, content_type="application/json",
                        headers=headers)


class LabApi:
    def __init__(self, submissions: LabSubmissions, settings: Settings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.submissions = submissions
        self.buckets = TokenBuckets(settings.lab_api_rate_per_s, settings.lab_api_burst)
        self.clock = clock
        self.document = document()

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self.errors, self.authenticate], client_max_size=MAX_MESSAGE_BYTES)
        app.add_routes([web.post("/api/v1/results", self.submit), web.get("/api/v1/results/{result_id}", self.status),
                        web.get(OPENAPI_PATH, self.openapi)])
        return app

    @web.middleware
    async def errors(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        try:
            return await handler(request)
        except web.HTTPException as error:
            code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(error.status, "bad_request")
            message = (f"the body is over {MAX_MESSAGE_BYTES} bytes: send a large VCF by reference"
                       if error.status == 413 else error.reason)
            return answer(error.status, {"error": code, "message": message})
        except Exception:
            log.exception("lab API request failed", extra={"path": request.path})
            return answer(500, {"error": "internal_error", "message": "the request could not be handled"})

    @web.middleware
    async def authenticate(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        if request.path == OPENAPI_PATH:
            return await handler(request)  # the contract is public
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        lab = None
        if scheme.lower() == "bearer" and token.isascii() and token.isprintable() and 0 < len(token) <= 512:
            lab = await self.submissions.lab_of(token)
        if lab is None:
            return answer(401, {"error": "unauthenticated", "message": "send Authorization: Bearer <your lab's "
                                "token> (oncorelay labs token LAB)"}, {"WWW-Authenticate": 'Bearer realm="oncorelay"'})
        wait = self.buckets.take(lab, self.clock())
        if wait:
            return answer(429, {"error": "rate_limited", "message": f"too many requests for {lab}; retry in "
                                f"{wait:.1f} s"}, {"Retry-After": str(max(1, math.ceil(wait)))})
        request[LAB] = lab
        return await handler(request)

    async def submit(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return answer(415, {"error": "unsupported_media_type",
                                "message": "send the SequencingResult as JSON with Content-Type: application/json"})
        return self._reply(await self.submissions.submit(request[LAB], await request.read()))

    async def status(self, request: web.Request) -> web.Response:
        result_id = request.match_info["result_id"]
        if len(result_id) > 128 or not result_id.isprintable():
            return answer(404, {"error": "not_found", "message": "no such result of your lab"})
        return self._reply(await self.submissions.receipts(request[LAB], result_id))

    async def openapi(self, request: web.Request) -> web.Response:
        return answer(200, self.document)

    @staticmethod
    def _reply(outcome: Answer) -> web.Response:
        return answer(outcome.status, outcome.body)


async def serve(api: LabApi, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(api.application(), access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
