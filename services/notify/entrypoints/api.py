"""The clinician HTTP API and live stream of the notify service (aiohttp, its own port).

Every request carries `Authorization: Bearer <team token>`. A token belongs to one MTB team and
has scopes (read, ack, decide, subscriptions); a team sees only cases treated at the sites it
serves: anything else is answered 404, exactly as if it did not exist.

GET  /api/v1/alerts?status=open|acknowledged|decided|all     read
GET  /api/v1/alerts/{alert_id}                               read   (with its deliveries and attempts)
POST /api/v1/alerts/{alert_id}/acknowledge {by, note}        ack
POST /api/v1/alerts/{alert_id}/decision {outcome, ...}       decide (a draft, by a member's personal token)
POST /api/v1/alerts/{alert_id}/decision/sign-off            decide (by a second member: closes the review)
POST /api/v1/alerts/{alert_id}/follow-up {therapy_started, ...}  ack (once the decision's follow-up exists)
GET  /api/v1/cases/{case_id}                                 read   (findings, tiers, evidence, history)
GET  /api/v1/cases/{case_id}/fhir                            read   (FHIR R4 Bundle, Genomics Reporting IG)
GET  /api/v1/stream   (Server-Sent Events; Last-Event-ID)    read
GET|POST /api/v1/subscriptions, DELETE /api/v1/subscriptions/{id}   subscriptions
GET  /api/v1/openapi.json    (no token)  this API as OpenAPI 3.1 (services.notify.entrypoints.openapi)

Every error is JSON {"error": code, "message": ...} with a 4xx status: an unknown path or method, a
body that is not application/json or too large, a malformed token, id or Last-Event-ID.
"""

import json
import logging
import time
from datetime import date, datetime

from aiohttp import web
from pydantic import BaseModel, ValidationError

from services.common.settings import Settings
from services.notify import metrics
from services.notify.domain.fhir import case_bundle
from services.notify.domain.messages import last_event_id, sse_comment, sse_frame
from services.notify.domain.review import REVIEW_STATUSES
from services.notify.domain.routing import public_subscription
from services.notify.domain.summary import case_summary
from services.notify.domain.tokens import bearer_token
from services.notify.entrypoints.openapi import document
from services.notify.entrypoints.pages import Workspace as Pages
from services.notify.handlers import subscriptions
from services.notify.handlers.review import AcknowledgeInput, DecisionDraft, FollowUpInput, Review
from services.notify.ports import (
    AlertStore,
    CaseViews,
    DeliveryStore,
    DestinationCheck,
    Signal,
    StreamStore,
    TeamDirectory,
)

log = logging.getLogger("oncorelay.notify.api")
HIDDEN_ALERT_FIELDS = ("payload", "routed")
MAX_ID_LENGTH = 256
JSON_TYPES = ("application/json",)
OPENAPI_PATH = "/api/v1/openapi.json"


def _default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def reply(data, status: int = 200, content_type: str = "application/json") -> web.Response:
    return web.Response(text=json.dumps(data, default=_default), status=status, content_type=content_type)


def problem(status: int, code: str, message: str) -> web.Response:
    """An error a client can act on: a reason code plus a sentence."""
    return reply({"error": code, "message": message}, status)


def acceptable_id(value: str) -> bool:
    """An id from a path that can name something stored: printable, not too long, valid Unicode."""
    return len(value) <= MAX_ID_LENGTH and value.isprintable() and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)


def public_alert(alert: dict) -> dict:
    return {("alert_id" if k == "_id" else k): v for k, v in alert.items() if k not in HIDDEN_ALERT_FIELDS}


def public_draft(draft: dict) -> dict:
    return {k: v for k, v in draft.items() if k != "_id"}


def public_delivery(delivery: dict) -> dict:
    return {k: v for k, v in delivery.items() if k not in ("contact", "lease_until")}


class ClinicianApi:
    def __init__(self, directory: TeamDirectory, alerts: AlertStore, deliveries: DeliveryStore, streams: StreamStore,
                 cases: CaseViews, review: Review, settings: Settings, stream_signal: Signal,
                 destination_problem: DestinationCheck) -> None:
        self.directory = directory
        self.alerts = alerts
        self.deliveries = deliveries
        self.streams = streams
        self.cases = cases
        self.review = review
        self.settings = settings
        self.stream_signal = stream_signal
        self.destination_problem = destination_problem  # a team's webhook URL checked before it is stored
        self.pages: Pages | None = None  # the MTB workspace, served beside the API (set by the wiring)
        self.document = document()

    def application(self) -> web.Application:
        middlewares = [self.json_errors, self.authenticate] + ([self.pages.sessions] if self.pages else [])
        app = web.Application(middlewares=middlewares)
        app.add_routes([
            web.get("/api/v1/alerts", self.list_alerts),
            web.get("/api/v1/alerts/{alert_id}", self.get_alert),
            web.post("/api/v1/alerts/{alert_id}/acknowledge", self.acknowledge),
            web.post("/api/v1/alerts/{alert_id}/decision", self.draft_decision),
            web.post("/api/v1/alerts/{alert_id}/decision/sign-off", self.sign_off),
            web.post("/api/v1/alerts/{alert_id}/follow-up", self.follow_up),
            web.get("/api/v1/cases/{case_id}", self.get_case),
            web.get("/api/v1/cases/{case_id}/fhir", self.get_case_fhir),
            web.get("/api/v1/stream", self.stream),
            web.get("/api/v1/subscriptions", self.list_subscriptions),
            web.post("/api/v1/subscriptions", self.add_subscription),
            web.delete("/api/v1/subscriptions/{subscription_id}", self.remove_subscription),
            web.get(OPENAPI_PATH, self.openapi),
        ])
        if self.pages:
            self.pages.add_routes(app)
        return app

    @web.middleware
    async def json_errors(self, request: web.Request, handler):
        """aiohttp's own error answers (no route, wrong method, body too large) as JSON problems; a bug as a 500
        without its details."""
        try:
            return await handler(request)
        except web.HTTPException as error:
            if error.status < 400:
                raise
            code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(error.status, "bad_request")
            response = problem(error.status, code, error.reason)
            if error.status == 405 and "Allow" in error.headers:
                response.headers["Allow"] = error.headers["Allow"]
            return response
        except Exception:
            log.exception("clinician API request failed", extra={"path": request.path})
            return problem(500, "internal_error", "the request could not be handled; the operator's log has why")

    @web.middleware
    async def authenticate(self, request: web.Request, handler):
        if self.pages and not request.path.startswith("/api/"):
            return await handler(request)  # a workspace page: its session is checked by Pages.sessions
        if request.path == OPENAPI_PATH:
            return await handler(request)  # the contract is public
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unknown"
        token = bearer_token(request.headers.get("Authorization"))
        found = await self.directory.authenticate(token) if token else None
        if found is None:
            response = problem(401, "unauthenticated", "send Authorization: Bearer <your team's token>")
            response.headers["WWW-Authenticate"] = 'Bearer realm="oncorelay"'
        elif not all(acceptable_id(value) for value in request.match_info.values()):
            response = problem(404, "not_found", "no such resource for your team")
        else:
            request["principal"] = found
            request["team"], request["scopes"] = found.team, found.scopes
            response = await handler(request)
        metrics.API_REQUESTS.labels(route, str(response.status)).inc()
        return response

    @staticmethod
    def lacks(request: web.Request, scope: str) -> web.Response | None:
        if scope in request["scopes"]:
            return None
        return problem(403, "missing_scope", f"this token lacks the '{scope}' scope")

    async def list_alerts(self, request: web.Request) -> web.Response:
        if denied := self.lacks(request, "read"):
            return denied
        status = request.query.get("status", "open")
        statuses = list(REVIEW_STATUSES) if status == "all" else [status]
        if not set(statuses) <= set(REVIEW_STATUSES):
            return problem(400, "bad_status", f"status is one of {', '.join(REVIEW_STATUSES)} or all")
        alerts = await self.alerts.alerts_for_sites(sorted(request["team"].site_ids), statuses)
        return reply({"alerts": [public_alert(a) for a in alerts]})

    async def get_alert(self, request: web.Request) -> web.Response:
        if denied := self.lacks(request, "read"):
            return denied
        alert = await self.review.visible_alert(request["team"], request.match_info["alert_id"])
        if alert is None:
            return problem(404, "not_found", "no such alert for your team")
        deliveries = await self.deliveries.deliveries_of([alert["_id"]])
        draft = await self.alerts.get_draft(alert["_id"])
        return reply({**public_alert(alert), "deliveries": [public_delivery(d) for d in deliveries],
                      "draft": public_draft(draft) if draft else None})

    async def _body(self, request: web.Request, model: type[BaseModel]):
        if request.content_type not in JSON_TYPES:
            return problem(415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json")
        try:
            return model.model_validate_json(await request.read())
        except ValidationError as error:
            return problem(422, "invalid_body", "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                                         for e in error.errors()))

    async def acknowledge(self, request: web.Request) -> web.Response:
        if denied := self.lacks(request, "ack"):
            return denied
        body = await self._body(request, AcknowledgeInput)
        if isinstance(body, web.Response):
            return body
        outcome = await self.review.acknowledge(request["team"], request.match_info["alert_id"], body)
        return self._outcome(outcome)

    async def draft_decision(self, request: web.Request) -> web.Response:
        if denied := self.lacks(request, "decide"):
            return denied
        body = await self._body(request, DecisionDraft)
        if isinstance(body, web.Response):
            return body
        outcome = await self.review.draft(request["principal"], request.match_info["alert_id"], body)
        if outcome.status == "done":
            return reply({"status": "drafted", "draft": public_draft(outcome.document)}, 201)
        return self._outcome(outcome)

    async def follow_up(self, request: web.Request) -> web.Response:
        if denied := self.lacks(request, "ack"):
            return denied
        body = await self._body(request, FollowUpInput)
        if isinstance(body, web.Response):
            return body
        outcome = await self.review.follow_up(request["principal"], request.match_info["alert_id"], body)
        if outcome.status == "done":
            return reply({"status": "recorded", "followup": public_draft(outcome.document)})
        if outcome.status == "not_found":
            return problem(404, "not_found", outcome.message or "no such alert for your team")
        if outcome.status == "invalid":
            return problem(422, "invalid_body", outcome.message)
        return reply({"status": "unchanged", "message": outcome.message}, 409)

    async def sign_off(self, request: web.Request) -> web.Response:
        if denied := self.lacks(request, "decide"):
            return denied
        outcome = await self.review.sign_off(request["principal"], request.match_info["alert_id"])
        return self._outcome(outcome)

    @staticmethod
    def _outcome(outcome) -> web.Response:
        if outcome.status == "not_found":
            return problem(404, "not_found", "no such alert for your team")
        if outcome.status == "forbidden":
            return problem(403, "member_required", outcome.message)
        if outcome.status == "conflict":
            return problem(409, "four_eyes", outcome.message)
        if outcome.status == "already":
            return reply({"status": "unchanged", "message": outcome.message, "alert": public_alert(outcome.document)},
                         409)
        return reply({"status": "done", "alert": public_alert(outcome.document)})

    async def _visible_case(self, request: web.Request) -> dict | None:
        case_id = request.match_info["case_id"]
        site = await self.cases.case_site(case_id)
        if site is None or not request["team"].serves(site):
            return None
        return await self.cases.case_documents(case_id)

    async def get_case(self, request: web.Request) -> web.Response:
        if denied := self.lacks(request, "read"):
            return denied
        docs = await self._visible_case(request)
        if docs is None:
            return problem(404, "not_found", "no such case for your team")
        return reply(case_summary(docs))

    async def get_case_fhir(self, request: web.Request) -> web.Response:
        if denied := self.lacks(request, "read"):
            return denied
        docs = await self._visible_case(request)
        if docs is None:
            return problem(404, "not_found", "no such case for your team")
        return reply(case_bundle(docs), content_type="application/fhir+json")

    async def openapi(self, request: web.Request) -> web.Response:
        return reply(self.document)

    async def list_subscriptions(self, request: web.Request) -> web.Response:
        if denied := self.lacks(request, "subscriptions"):
            return denied
        docs = await self.directory.list_subscriptions(request["team"].team_id)
        return reply({"subscriptions": [public_subscription(d) for d in docs]})

    async def add_subscription(self, request: web.Request) -> web.Response:
        if denied := self.lacks(request, "subscriptions"):
            return denied
        body = await self._body(request, subscriptions.SubscriptionInput)
        if isinstance(body, web.Response):
            return body
        doc, why = await subscriptions.create(self.directory, request["team"], body, self.destination_problem)
        if why:
            return problem(422, "subscription_refused", why)
        return reply(public_subscription(doc), 201)

    async def remove_subscription(self, request: web.Request) -> web.Response:
        if denied := self.lacks(request, "subscriptions"):
            return denied
        removed = await self.directory.remove_subscription(request.match_info["subscription_id"],
                                                           request["team"].team_id)
        if not removed:
            return problem(404, "not_found", "no such active subscription for your team")
        return reply({"status": "removed"})

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """The team's events as Server-Sent Events; reconnect with Last-Event-ID to get what was missed."""
        if denied := self.lacks(request, "read"):
            return denied
        return await self.team_stream(request, request["team"].team_id)

    async def team_stream(self, request: web.Request, team_id: str) -> web.StreamResponse:
        """A team's events as Server-Sent Events from where Last-Event-ID says (the API's and the workspace's)."""
        try:
            resume = last_event_id(request.headers.get("Last-Event-ID"), request.query.get("last_event_id"))
        except ValueError as error:
            return problem(400, "bad_last_event_id", str(error))
        seq = resume if resume is not None else await self.streams.latest_stream_seq(team_id)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                               "X-Accel-Buffering": "no"})
        await response.prepare(request)
        heartbeat = self.settings.stream_heartbeat_s
        try:
            await response.write(b"retry: 2000\n\n")
            last_write = time.monotonic()
            while True:
                events = await self.streams.stream_events_after(team_id, seq)
                for event in events:
                    await response.write(sse_frame(event["seq"], event["event"], event["data"]))
                    seq = event["seq"]
                if events:
                    last_write = time.monotonic()
                    continue
                if time.monotonic() - last_write >= heartbeat:
                    await response.write(sse_comment("heartbeat"))
                    last_write = time.monotonic()
                wait = min(self.settings.delivery_poll_s, max(heartbeat - (time.monotonic() - last_write), 0.05))
                await self.stream_signal.wait(wait)
        except ConnectionResetError:  # the client went away; it resumes with Last-Event-ID
            pass
        return response


async def serve(api: ClinicianApi, host: str, port: int) -> web.AppRunner:
    """Start the API on host:port; the caller keeps the runner and cleans it up at shutdown."""
    runner = web.AppRunner(api.application(), access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
