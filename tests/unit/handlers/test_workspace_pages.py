"""The MTB workspace pages over aiohttp's test server with fakes of notify's ports: sessions and their cookie,
CSRF, team isolation, escaping, four eyes through the forms, sign-out. The same run in a real browser against the
real stack is tests/e2e/test_workspace_browser.py."""

import re
from datetime import date
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.notify import metrics
from services.notify.domain.sessions import SESSION_COOKIE
from services.notify.entrypoints.api import ClinicianApi
from services.notify.entrypoints.pages import Workspace
from services.notify.handlers.board import BoardMetrics
from services.notify.handlers.sessions import SignIn
from tests.fakes.notify import FakeCaseViews, FakeSessionStore
from tests.unit.handlers.test_notify_handlers import DECISION, DR_A, DR_B, GENT, OTHER, NotifyWorld, alert, routed

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Browser:
    """A test client that keeps cookies, signs in through the form and posts forms with their CSRF token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    async def sign_in(self, token: str, next_path: str = "/"):
        page = await self.client.get(f"/sign-in?next={next_path}")
        csrf = CSRF.search(await page.text()).group(1)
        return await self.client.post("/sign-in", data={"token": token, "csrf": csrf, "next": next_path},
                                      allow_redirects=False)

    async def csrf(self, path: str) -> str:
        return CSRF.search(await (await self.client.get(path)).text()).group(1)

    async def post_form(self, path: str, page: str, **fields):
        return await self.client.post(path, data={"csrf": await self.csrf(page), **fields}, allow_redirects=False)


@pytest.fixture
async def workspace():
    world, event = NotifyWorld(), alert(treating_site="HOSP-GENT", case_id="CASE-W-1")
    await routed(world, event)
    views = FakeCaseViews(world.cases, world.alerts)
    views.interpretations.append({
        "_id": event.result_key, "case_id": event.case_id, "result_key": event.result_key, "tumor_type": "LUAD",
        "annotated_at": world.clock(), "kb_version": "kb-1", "ruleset_version": "rules-1",
        "findings": [{"gene": "BRAF", "alteration": "p.V600E", "amp_tier": "I", "amp_level": "B", "escat_tier": "I-B",
                      "sources": ["FDA label: Tafinlar (dabrafenib)", "PMID:27283860"],
                      "therapies_sensitive": ["dabrafenib + trametinib"], "variant_key": "chr7:140753336:A>T"}],
        "specimen": {"specimen_id": "SP-1", "type": "plasma", "collected_on": date(2026, 11, 1), "lod_vaf": 0.005,
                     "variants": [{"track_key": "BRAF:p.V600E", "gene": "BRAF", "alteration": "p.V600E", "vaf": 0.12}]},
    })
    sessions = FakeSessionStore(world.faults)
    sign_in = SignIn(world.directory, sessions, world.clock, world.settings.session_ttl_s)
    api = ClinicianApi(world.directory, world.alerts, world.deliveries, world.streams, views, world.review,
                       world.settings, world.stream_wake, lambda channel: None)
    api.pages = Workspace(sign_in, world.review, world.alerts, world.deliveries, views, BoardMetrics(views),
                          world.settings, api.team_stream, world.clock)
    client = TestClient(TestServer(api.application()))
    await client.start_server()
    tokens = {name: await world.directory.issue_token(team.team_id, ["read", "ack", "decide"], member=member)
              for name, team, member in (("a", GENT, "Dr. A"), ("b", GENT, "Dr. B"), ("team", GENT, None),
                                         ("leuven", OTHER, "Dr. L"))}
    yield world, event, views, sessions, client, tokens
    await client.close()


async def test_nothing_but_sign_in_is_served_without_a_session(workspace):
    _, event, _, _, client, _ = workspace
    for path in ("/", f"/cases/{event.case_id}", "/static/workspace.css", "/no-such-page"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"].startswith("/sign-in?next="), path
    assert (await client.get("/stream")).status == 401
    forged = await client.post(f"/cases/{event.case_id}/alerts/{event.alert_id}/acknowledge", data={"note": "x"})
    assert forged.status == 401
    assert (await client.get("/sign-in")).status == 200


async def test_sign_in_sets_an_http_only_strict_expiring_cookie_and_lands_on_the_case_link(workspace):
    world, event, _, sessions, client, tokens = workspace
    response = await Browser(client).sign_in(tokens["a"], f"/cases/{event.case_id}")
    assert response.status == 303 and response.headers["Location"] == f"/cases/{event.case_id}"
    cookie = response.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and int(cookie["max-age"]) == world.settings.session_ttl_s
    assert cookie.value not in str(sessions.sessions)  # only its hash is stored
    assert tokens["a"] not in response.headers["Location"]


async def test_a_wrong_token_or_a_sign_in_form_from_elsewhere_is_refused(workspace):
    _, _, _, sessions, client, tokens = workspace
    assert (await Browser(client).sign_in("orl_not-a-token")).status == 401
    await client.get("/sign-in")
    forged = await client.post("/sign-in", data={"token": tokens["a"], "csrf": "guessed"}, allow_redirects=False)
    assert forged.status == 403 and not sessions.sessions
    assert (await Browser(client).sign_in(tokens["a"], "https://evil.example/")).headers["Location"] == "/"


async def test_the_worklist_and_case_page_show_the_teams_alert_and_finding_and_nothing_of_another_team(workspace):
    world, event, _, _, client, tokens = workspace
    theirs = alert(alert_id="leuven-1", case_id="CASE-L-1", treating_site="HOSP-LEUVEN")
    await routed(world, theirs)
    await Browser(client).sign_in(tokens["a"])
    worklist = await (await client.get("/")).text()
    assert event.case_id in worklist and "CASE-L-1" not in worklist
    page = await client.get(f"/cases/{event.case_id}")
    html = await page.text()
    assert page.status == 200 and "BRAF" in html and "Tier I (level B)" in html
    assert "https://pubmed.ncbi.nlm.nih.gov/27283860/" in html and "Content-Security-Policy" in page.headers
    assert (await client.get("/cases/CASE-L-1")).status == 404
    assert (await client.get("/cases/NO-SUCH")).status == 404
    ack = await client.post(f"/cases/CASE-L-1/alerts/{theirs.alert_id}/acknowledge",
                            data={"csrf": await Browser(client).csrf("/")})
    assert ack.status == 404 and world.alerts.alerts[theirs.alert_id]["status"] == "open"


async def test_a_forged_cross_site_post_is_refused(workspace):
    world, event, _, _, client, tokens = workspace
    browser = Browser(client)
    await browser.sign_in(tokens["a"])
    path = f"/cases/{event.case_id}/alerts/{event.alert_id}/acknowledge"
    assert (await client.post(path, data={"note": "no token"})).status == 403
    assert (await client.post(path, data={"csrf": "wrong"})).status == 403
    csrf = await browser.csrf("/")
    other_origin = await client.post(path, data={"csrf": csrf}, headers={"Origin": "https://evil.example"})
    assert other_origin.status == 403 and world.alerts.alerts[event.alert_id]["status"] == "open"
    done = await client.post(path, data={"csrf": csrf}, allow_redirects=False)
    assert done.status == 303 and world.alerts.alerts[event.alert_id]["acknowledged_by"] == "Dr. A"


async def test_html_in_a_case_id_or_a_note_is_shown_as_text(workspace):
    world, _, views, _, client, tokens = workspace
    # contracts.events.Identifier keeps such ids out of results; the pages escape them all the same
    nasty = alert(alert_id="al-x", case_id='<svg onload=alert(1)>', treating_site="HOSP-GENT")
    await routed(world, nasty)
    browser = Browser(client)
    await browser.sign_in(tokens["a"])
    worklist = await (await client.get("/")).text()
    assert "&lt;svg onload=alert(1)&gt;" in worklist and "<svg onload" not in worklist
    case_path = f"/cases/{quote(nasty.case_id, safe='')}"
    acknowledged = await browser.post_form(f"{case_path}/alerts/al-x/acknowledge", "/",
                                           note='<img src=x onerror="alert(1)">')
    assert acknowledged.status == 303
    html = await (await client.get(case_path)).text()
    assert "&lt;img src=x onerror=" in html and "<img src=x" not in html
    assert "&lt;svg onload=alert(1)&gt;" in html and "<svg onload" not in html


async def test_four_eyes_through_the_forms(workspace):
    world, event, _, _, client, tokens = workspace
    case_path, alert_path = f"/cases/{event.case_id}", f"/cases/{event.case_id}/alerts/{event.alert_id}"
    a, b = Browser(client), Browser(TestClient(TestServer(client.server.app)))
    await b.client.start_server()
    try:
        await a.sign_in(tokens["a"])
        drafted = await a.post_form(f"{alert_path}/decision", case_path, outcome="targeted_therapy",
                                    recommendation="dabrafenib + trametinib", rationale="BRAF V600E, Tier I",
                                    therapies="dabrafenib\ntrametinib", members_present="Dr. A\nDr. B")
        assert drafted.status == 303
        own = await a.post_form(f"{alert_path}/sign-off", case_path)
        assert own.status == 409 and "cannot sign it off" in await own.text()
        assert world.alerts.alerts[event.alert_id]["status"] == "open"
        await b.sign_in(tokens["b"])
        signed = await b.post_form(f"{alert_path}/sign-off", case_path)
        assert signed.status == 303 and world.alerts.alerts[event.alert_id]["status"] == "decided"
        html = await (await b.client.get(case_path)).text()
        assert re.search(r"Drafted by <strong>Dr\. A</strong>.*signed off by <strong>Dr\. B</strong>", html, re.S)
    finally:
        await b.client.close()


async def test_a_team_token_session_can_acknowledge_but_not_draft(workspace):
    world, event, _, _, client, tokens = workspace
    browser = Browser(client)
    await browser.sign_in(tokens["team"])
    case_path = f"/cases/{event.case_id}"
    assert "needs a personal token" in await (await client.get(case_path)).text()
    refused = await browser.post_form(f"{case_path}/alerts/{event.alert_id}/decision", case_path,
                                      outcome="no_action", recommendation="r", rationale="r", members_present="x")
    assert refused.status == 403 and event.alert_id not in world.alerts.drafts


async def test_sign_out_ends_the_session_on_the_server_and_an_expired_one_is_refused(workspace):
    world, _, _, sessions, client, tokens = workspace
    browser = Browser(client)
    response = await browser.sign_in(tokens["a"])
    cookie = response.cookies[SESSION_COOKIE].value
    assert (await browser.post_form("/sign-out", "/")).status == 303 and not sessions.sessions
    replayed = await client.get("/", cookies={SESSION_COOKIE: cookie}, allow_redirects=False)
    assert replayed.status == 303  # the old cookie signs nobody in
    await browser.sign_in(tokens["a"])
    world.clock.advance(world.settings.session_ttl_s + 1)
    assert (await client.get("/", allow_redirects=False)).status == 303 and not sessions.sessions


async def test_a_follow_up_becomes_due_on_the_worklist_and_is_answered_on_the_case_page(workspace):
    world, event, _, _, client, tokens = workspace
    case_path, alert_path = f"/cases/{event.case_id}", f"/cases/{event.case_id}/alerts/{event.alert_id}"
    a = Browser(client)
    await a.sign_in(tokens["a"])
    await a.post_form(f"{alert_path}/decision", case_path, outcome="targeted_therapy", recommendation="osimertinib",
                      rationale="EGFR L858R", therapies="osimertinib", members_present="Dr. A\nDr. B")
    await world.review.sign_off(DR_B, event.alert_id)
    assert "No follow-up is due" in await (await client.get("/")).text()
    world.clock.advance(world.settings.followup_after_s + 60)
    await a.sign_in(tokens["a"])  # weeks later: a new session
    worklist = await (await client.get("/")).text()
    assert f'href="/cases/{event.case_id}#followup-{event.alert_id}"' in worklist
    incomplete = await a.post_form(f"{alert_path}/follow-up", case_path, therapy_started="no")
    assert incomplete.status == 422 and "say why" in await incomplete.text()
    answered = await a.post_form(f"{alert_path}/follow-up", case_path, therapy_started="yes",
                                 response="partial_response")
    assert answered.status == 303
    html = await (await client.get(case_path)).text()
    assert "Therapy started; response: partial response" in html
    assert "No follow-up is due" in await (await client.get("/")).text()


async def test_the_board_page_counts_the_teams_cases_and_the_case_page_remembers_earlier_ones(workspace):
    world, event, views, _, client, tokens = workspace
    earlier = alert(alert_id="al-earlier", case_id="CASE-W-0", treating_site="HOSP-GENT")
    await routed(world, earlier)
    await world.review.draft(DR_A, earlier.alert_id, DECISION)
    await world.review.sign_off(DR_B, earlier.alert_id)
    await Browser(client).sign_in(tokens["a"])
    board = await (await client.get("/board")).text()
    assert re.search(r"<td>2</td><td>1</td><td>1</td>\s*<td>0</td>", board)  # received, reviewed, recommended
    html = await (await client.get(f"/cases/{event.case_id}")).text()
    assert "1 other case(s) in LUAD; 1 decided" in html and "CASE-W-0" in html


class Controls(HTMLParser):
    """The form controls of a page, the ids labels point at, and the buttons' texts."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict] = []
        self.labelled: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "label" and attributes.get("for"):
            self.labelled.add(attributes["for"])
        if tag in ("input", "select", "textarea") and attributes.get("type") != "hidden":
            self.controls.append({"tag": tag, **attributes})


async def test_every_form_control_has_a_label_and_tiers_and_priorities_are_text(workspace):
    _, event, _, _, client, tokens = workspace
    await Browser(client).sign_in(tokens["a"])
    pages = ["/", f"/cases/{event.case_id}", "/board"]
    for path in pages:
        html = await (await client.get(path)).text()
        parser = Controls()
        parser.feed(html)
        unlabelled = [c for c in parser.controls if c.get("id") not in parser.labelled and "aria-label" not in c]
        assert not unlabelled, f"{path}: {unlabelled}"
    case_html = await (await client.get(f"/cases/{event.case_id}")).text()
    assert "Tier I (level B)" in case_html  # the tier as text, its colour only a second cue
    assert '<span class="badge badge-routine">routine</span>' in await (await client.get("/")).text()
    sign_in = Controls()
    await client.post("/sign-out", data={"csrf": await Browser(client).csrf("/")})
    sign_in.feed(await (await client.get("/sign-in")).text())
    assert [c["id"] for c in sign_in.controls] == ["token"] and "token" in sign_in.labelled


async def test_the_board_gauges_are_set_per_site_without_patient_data(workspace):
    world, event, views, _, _, _ = workspace
    await world.review.draft(DR_A, event.alert_id, DECISION)
    await world.review.sign_off(DR_B, event.alert_id)
    assert await BoardMetrics(views).export() == 1
    assert metrics.BOARD_CASES.labels("HOSP-GENT", "received")._value.get() == 1
    assert metrics.BOARD_CASES.labels("HOSP-GENT", "recommended")._value.get() == 1
    assert metrics.BOARD_CASES._labelnames == ("site", "measure")  # no case, patient or team in any label
