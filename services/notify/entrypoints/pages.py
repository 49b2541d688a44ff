"""The MTB workspace: server-rendered pages beside the clinician API, on the same port.

GET  /sign-in, POST /sign-in {token}        a team token exchanged for a session cookie (HttpOnly, SameSite=Strict,
                                            expiring); POST /sign-out ends the session on the server
GET  /                                      worklist (status, priority filters; live from /stream)
GET  /cases/{case_id}                       the case page
POST /cases/{case_id}/alerts/{alert_id}/acknowledge | decision | sign-off | follow-up
GET  /board                                 the board's numbers: cases, recommendations, turnaround per stage
GET  /stream                                the team's events (SSE), for the live worklist
GET  /static/{name}                         the workspace's CSS and JavaScript (shipped in the package)

Every page but sign-in needs a live session, checked in one place (`sessions`); every POST carries the session's
CSRF token (sign-in: a double-submit cookie) and, when the browser sends an Origin, one of this host. Templates
autoescape everything; nothing is loaded from another origin (Content-Security-Policy).
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from importlib.resources import files
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import ValidationError

from contracts.events import FollowUpResponse, MtbOutcome
from services.common.settings import Settings
from services.notify.domain.case_page import case_page
from services.notify.domain.memory import finding_memory
from services.notify.domain.review import OPEN, REVIEW_STATUSES
from services.notify.domain.sessions import SESSION_COOKIE, SIGN_IN_COOKIE, new_secret, safe_next, same_token
from services.notify.handlers.board import BoardMetrics
from services.notify.handlers.review import AcknowledgeInput, DecisionDraft, FollowUpInput, Outcome, Review
from services.notify.handlers.sessions import SignIn, WorkspaceSession
from services.notify.ports import AlertStore, CaseViews, DeliveryStore

PUBLIC = {"/sign-in"}
SESSION = web.RequestKey("session", WorkspaceSession)
STATIC = {"workspace.css": "text/css", "worklist.js": "text/javascript"}
PRIORITY_RANK = {"urgent": 0, "routine": 1, "info": 2}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
NOTICES = {"acknowledged": "Acknowledged: the alert no longer escalates.",
           "drafted": "Draft saved. A second member of the team signs it off.",
           "decided": "Decision signed off and recorded.",
           "followed_up": "Follow-up recorded."}
OUTCOMES: tuple[str, ...] = MtbOutcome.__args__  # type: ignore[attr-defined]
RESPONSES: tuple[str, ...] = FollowUpResponse.__args__  # type: ignore[attr-defined]
Sse = Callable[[web.Request, str], Awaitable[web.StreamResponse]]


def duration(seconds: float | None) -> str:
    """A turnaround as people read it (45 s, 12 min, 3.2 h, 4.1 days)."""
    if seconds is None:
        return "—"
    for limit, unit, size in ((120, "s", 1), (7200, "min", 60), (172800, "h", 3600)):
        if seconds < limit:
            return f"{seconds / size:.0f} {unit}" if unit != "h" else f"{seconds / size:.1f} h"
    return f"{seconds / 86400:.1f} days"


def age(raised_at: datetime, now: datetime) -> str:
    return duration(max((now - raised_at).total_seconds(), 0.0))


def lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


class Workspace:
    def __init__(self, sign_in: SignIn, review: Review, alerts: AlertStore, deliveries: DeliveryStore,
                 cases: CaseViews, board: BoardMetrics, settings: Settings, sse: Sse,
                 clock: Callable[[], datetime]) -> None:
        self.board_metrics = board
        self.sign_in = sign_in
        self.review = review
        self.alerts = alerts
        self.deliveries = deliveries
        self.cases = cases
        self.settings = settings
        self.sse = sse  # the clinician API's event stream, for a team
        self.clock = clock
        self.templates = Environment(loader=PackageLoader("services.notify.entrypoints", "templates"),
                                     autoescape=select_autoescape(default=True, default_for_string=True))
        self.templates.filters["duration"] = duration

    def add_routes(self, app: web.Application) -> None:
        app.add_routes([
            web.get("/sign-in", self.sign_in_page), web.post("/sign-in", self.sign_in_form),
            web.post("/sign-out", self.sign_out),
            web.get("/", self.worklist),
            web.get("/cases/{case_id}", self.case),
            web.post("/cases/{case_id}/alerts/{alert_id}/acknowledge", self.acknowledge),
            web.post("/cases/{case_id}/alerts/{alert_id}/decision", self.draft),
            web.post("/cases/{case_id}/alerts/{alert_id}/sign-off", self.sign_off),
            web.post("/cases/{case_id}/alerts/{alert_id}/follow-up", self.follow_up),
            web.get("/board", self.board),
            web.get("/stream", self.stream),
            web.get("/static/{name}", self.static),
        ])

    # --- the one place where a page's session is checked ------------------------------------------------------

    @web.middleware
    async def sessions(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        if request.path.startswith("/api/"):
            return await handler(request)
        if request.path in PUBLIC:
            response = await handler(request)
        else:
            session = await self._session(request)
            if session is None:
                if request.method == "GET" and request.path != "/stream":
                    target = request.path_qs if request.path != "/" else "/"
                    raise web.HTTPSeeOther(f"/sign-in?next={quote(target, safe='')}")
                return self.page("error.html", None, http_status=401, heading="Signed out",
                                 message="Your session has ended: sign in again.")
            request[SESSION] = session
            if request.method == "POST" and not await self._same_site_form(request, session.csrf):
                return self.page("error.html", session, http_status=403, heading="Refused",
                                 message="This form did not come from this workspace (its CSRF token is missing or "
                                         "wrong). Reload the page and try again.")
            response = await handler(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    async def _session(self, request: web.Request) -> WorkspaceSession | None:
        session_id = request.cookies.get(SESSION_COOKIE)
        if not session_id or len(session_id) > 256 or not session_id.isascii():
            return None
        return await self.sign_in.session(session_id)

    async def _same_site_form(self, request: web.Request, expected: str) -> bool:
        """A POST from one of this workspace's own forms: the right CSRF token, and this host as its Origin."""
        origin = request.headers.get("Origin")
        if origin and urlsplit(origin).netloc != request.host:
            return False
        if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return False
        form = await request.post()
        return same_token(expected, str(form.get("csrf", "")))

    def page(self, template: str, session: WorkspaceSession | None, http_status: int = 200,
             **context: Any) -> web.Response:
        if session is not None:
            context.update(principal=session.principal, csrf=session.csrf)
        html = self.templates.get_template(template).render(**context)
        return web.Response(text=html, status=http_status, content_type="text/html")

    # --- signing in and out ------------------------------------------------------------------------------------

    async def sign_in_page(self, request: web.Request, problem: str | None = None, status: int = 200) -> web.Response:
        # one token per browser while it signs in: a second sign-in page (another tab, a favicon's redirect) must
        # not invalidate the form already shown
        token = request.cookies.get(SIGN_IN_COOKIE) or ""
        if not (20 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()):
            token = new_secret()
        response = self.page("sign_in.html", None, http_status=status, csrf=token, problem=problem,
                             next=safe_next(request.query.get("next")))
        response.set_cookie(SIGN_IN_COOKIE, token, httponly=True, samesite="Strict", max_age=900,
                            secure=self.settings.session_cookie_secure, path="/sign-in")
        return response

    async def sign_in_form(self, request: web.Request) -> web.Response:
        if request.content_type != "application/x-www-form-urlencoded":
            return await self.sign_in_page(request, "Sign in with the form below.", 400)
        form = await request.post()
        origin = request.headers.get("Origin")
        if (origin and urlsplit(origin).netloc != request.host) or not same_token(
                request.cookies.get(SIGN_IN_COOKIE), str(form.get("csrf", ""))):
            return await self.sign_in_page(request, "The sign-in form expired or came from elsewhere: try again.", 403)
        token = str(form.get("token", "")).strip()
        session_id = await self.sign_in.sign_in(token) if token and len(token) <= 512 and token.isascii() else None
        if session_id is None:
            return await self.sign_in_page(request, "That token is not valid (or was revoked).", 401)
        response = web.HTTPSeeOther(safe_next(str(form.get("next", "/"))))
        response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="Strict",
                            max_age=int(self.settings.session_ttl_s), secure=self.settings.session_cookie_secure,
                            path="/")
        response.del_cookie(SIGN_IN_COOKIE, path="/sign-in")
        raise response

    async def sign_out(self, request: web.Request) -> web.Response:
        await self.sign_in.sign_out(request.cookies[SESSION_COOKIE])
        response = web.HTTPSeeOther("/sign-in")
        response.del_cookie(SESSION_COOKIE, path="/")
        raise response

    # --- pages -------------------------------------------------------------------------------------------------

    async def worklist(self, request: web.Request) -> web.Response:
        session: WorkspaceSession = request[SESSION]
        status = request.query.get("status", OPEN)
        priority = request.query.get("priority", "all")
        if status not in (*REVIEW_STATUSES, "all") or priority not in (*PRIORITY_RANK, "all"):
            status, priority = OPEN, "all"
        statuses = list(REVIEW_STATUSES) if status == "all" else [status]
        found = await self.alerts.alerts_for_sites(sorted(session.principal.team.site_ids), statuses, 500)
        now = self.clock()
        alerts = sorted(
            ({**a, "age": age(a["raised_at"], now), "raised_at_iso": a["raised_at"].isoformat()}
             for a in found if priority == "all" or a["priority"] == priority),
            key=lambda a: (PRIORITY_RANK.get(a["priority"], 9), -a["raised_at"].timestamp()))
        if request.query.get("partial") == "rows":
            return self.page("worklist_rows.html", session, alerts=alerts)
        followups = [{**f, "overdue": age(f["due_at"], now)}
                     for f in await self.alerts.followups_due(sorted(session.principal.team.site_ids), now)]
        return self.page("worklist.html", session, alerts=alerts, status=status, priority=priority,
                         statuses=(*REVIEW_STATUSES, "all"), priorities=(*PRIORITY_RANK, "all"), followups=followups)

    async def _case_docs(self, session: WorkspaceSession, case_id: str) -> dict[str, Any] | None:
        site = await self.cases.case_site(case_id)
        if site is None or not session.principal.team.serves(site):
            return None
        return await self.cases.case_documents(case_id)

    def not_found(self, session: WorkspaceSession) -> web.Response:
        return self.page("error.html", session, http_status=404, heading="Not found",
                         message="There is no such case for your team.")

    async def case(self, request: web.Request, problem: str | None = None, status: int = 200) -> web.Response:
        session: WorkspaceSession = request[SESSION]
        docs = await self._case_docs(session, request.match_info["case_id"])
        if docs is None:
            return self.not_found(session)
        alert_ids = [a["_id"] for a in docs.get("alerts") or []]
        drafts = {alert_id: draft for alert_id in alert_ids if (draft := await self.alerts.get_draft(alert_id))}
        followups = {d["_id"]: f for d in docs.get("decisions") or [] if (f := await self.alerts.get_followup(d["_id"]))}
        view = case_page(docs, await self.deliveries.deliveries_of(alert_ids), drafts)
        if view.get("tumor_type"):
            alerts, decisions = await self.cases.network_memory(view["tumor_type"])
            for finding in view["findings"]:
                finding["memory"] = finding_memory(finding["gene"], finding["alteration"], view["case_id"],
                                                   session.principal.team.team_id, alerts, decisions)
        scopes, member = session.principal.scopes, session.principal.member
        return self.page("case.html", session, http_status=status, case=view, outcomes=OUTCOMES, followups=followups,
                         responses=RESPONSES, now=self.clock(),
                         can_ack="ack" in scopes, can_decide="decide" in scopes and bool(member),
                         notice=NOTICES.get(request.query.get("notice", "")), problem=problem)

    async def _alert_of_case(self, request: web.Request, scope: str,
                             may_not: str) -> tuple[WorkspaceSession, str] | web.Response:
        """The session and alert id of a POST on one of the case's alerts by a token with `scope`, or the page to
        answer with (not found; or `may_not` when the token lacks the scope)."""
        session: WorkspaceSession = request[SESSION]
        case_id, alert_id = request.match_info["case_id"], request.match_info["alert_id"]
        alert = await self.review.visible_alert(session.principal.team, alert_id)
        site = await self.cases.case_site(case_id)
        if alert is None or alert["case_id"] != case_id or site is None or not session.principal.team.serves(site):
            return self.not_found(session)
        if scope not in session.principal.scopes:
            return await self.case(request, f"Your token cannot {may_not} (it lacks the '{scope}' scope).", 403)
        return session, alert_id

    async def _after(self, request: web.Request, outcome: Outcome, notice: str) -> web.Response:
        if outcome.status == "done":
            raise web.HTTPSeeOther(f"/cases/{quote(request.match_info['case_id'], safe='')}?notice={notice}")
        if outcome.status == "not_found":
            return self.not_found(request[SESSION])
        status = {"forbidden": 403, "conflict": 409, "already": 409, "invalid": 422}[outcome.status]
        return await self.case(request, outcome.message, status)

    async def acknowledge(self, request: web.Request) -> web.Response:
        found = await self._alert_of_case(request, "ack", "acknowledge alerts")
        if isinstance(found, web.Response):
            return found
        session, alert_id = found
        form = await request.post()
        by = session.principal.member or f"{session.principal.team.team_id} (team token)"
        try:
            body = AcknowledgeInput(by=by, note=str(form.get("note", "")).strip() or None)
        except ValidationError as error:
            return await self.case(request, f"Not acknowledged: {error.errors()[0]['msg']}", 422)
        return await self._after(request, await self.review.acknowledge(session.principal.team, alert_id, body),
                                 "acknowledged")

    async def draft(self, request: web.Request) -> web.Response:
        found = await self._alert_of_case(request, "decide", "record decisions")
        if isinstance(found, web.Response):
            return found
        session, alert_id = found
        form = await request.post()
        try:
            body = DecisionDraft(outcome=str(form.get("outcome", "")), recommendation=str(form.get("recommendation", "")),
                                 rationale=str(form.get("rationale", "")), therapies=lines(str(form.get("therapies", ""))),
                                 trial_referral=str(form.get("trial_referral", "")).strip() or None,
                                 members_present=lines(str(form.get("members_present", ""))))
        except ValidationError as error:
            fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            return await self.case(request, f"The draft was not saved: {fields}", 422)
        return await self._after(request, await self.review.draft(session.principal, alert_id, body), "drafted")

    async def sign_off(self, request: web.Request) -> web.Response:
        found = await self._alert_of_case(request, "decide", "record decisions")
        if isinstance(found, web.Response):
            return found
        session, alert_id = found
        return await self._after(request, await self.review.sign_off(session.principal, alert_id), "decided")

    async def follow_up(self, request: web.Request) -> web.Response:
        found = await self._alert_of_case(request, "ack", "record follow-ups")
        if isinstance(found, web.Response):
            return found
        session, alert_id = found
        form = await request.post()
        started = str(form.get("therapy_started", ""))
        try:
            body = FollowUpInput(therapy_started=started == "yes",
                                 not_started_reason=str(form.get("not_started_reason", "")).strip() or None,
                                 response=str(form.get("response", "")) or None,
                                 note=str(form.get("note", "")).strip() or None)
        except ValidationError as error:
            return await self.case(request, f"The follow-up was not saved: {error.errors()[0]['msg']}", 422)
        if started not in ("yes", "no"):
            return await self.case(request, "The follow-up was not saved: say whether the therapy was started.", 422)
        return await self._after(request, await self.review.follow_up(session.principal, alert_id, body),
                                 "followed_up")

    async def board(self, request: web.Request) -> web.Response:
        session: WorkspaceSession = request[SESSION]
        sites = sorted(session.principal.team.site_ids)
        return self.page("board.html", session, numbers=await self.board_metrics.of_sites(sites), sites=sites)

    async def stream(self, request: web.Request) -> web.StreamResponse:
        session: WorkspaceSession = request[SESSION]
        return await self.sse(request, session.principal.team.team_id)

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        body = files("services.notify.entrypoints").joinpath("static", name).read_bytes()
        return web.Response(body=body, content_type=STATIC[name], headers={"Cache-Control": "private, max-age=300"})
