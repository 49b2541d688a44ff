"""The MTB workspace's trust boundaries on the real notify service (FerretDB, Kafka), probed over HTTP as an
attacker would: no page or asset without a session, another team's case unknown, forged cross-site posts
refused, HTML in ids and notes shown as text, the session cookie's flags, sign-out ending it on the server."""

import re

import httpx
import pytest

from services.notify.domain.sessions import SESSION_COOKIE
from services.notify.domain.tokens import token_hash
from tests.integration.conftest import wait_until

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(scope="module")
def gent(notify):
    notify.create_team("MTB-SEC-GENT", "HOSP-SEC-GENT")
    notify.create_team("MTB-SEC-LEUVEN", "HOSP-SEC-LEUVEN")
    return notify.member_token("MTB-SEC-GENT", "Dr. Secure")


def _signed_in(notify, token: str) -> tuple[httpx.Client, httpx.Response]:
    browser = httpx.Client(base_url=notify.api_url, follow_redirects=False, timeout=20)
    page = browser.get("/sign-in")
    response = browser.post("/sign-in", data={"token": token, "csrf": CSRF.search(page.text).group(1), "next": "/"})
    assert response.status_code == 303, response.text
    return browser, response


def _stored(notify, alert):
    return wait_until(lambda: notify.db.alerts.find_one({"_id": alert["alert_id"], "routed": True}), 30, "alert stored")


def test_nothing_but_the_sign_in_page_is_served_without_a_session(notify, gent):
    anonymous = httpx.Client(base_url=notify.api_url, follow_redirects=False, timeout=20)
    for path in ("/", "/board", "/cases/ANY", "/static/workspace.css", "/static/worklist.js", "/nothing-here"):
        response = anonymous.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/sign-in"), path
    assert anonymous.get("/stream").status_code == 401
    assert anonymous.post("/sign-out").status_code == 401
    assert anonymous.get("/sign-in").status_code == 200


def test_the_session_cookie_is_http_only_strict_and_expires_and_only_its_hash_is_stored(notify, gent):
    _, response = _signed_in(notify, gent)
    header = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(SESSION_COOKIE))
    assert "HttpOnly" in header and "SameSite=Strict" in header and re.search(r"Max-Age=\d+", header)
    session_id = response.cookies[SESSION_COOKIE]
    assert notify.db.sessions.find_one({"_id": token_hash(session_id)}) is not None
    assert notify.db.sessions.find_one({"_id": session_id}) is None


def test_another_teams_case_is_unknown_and_a_forged_post_is_refused(notify, gent):
    theirs = notify.raise_alert("CASE-SEC-L", treating_site="HOSP-SEC-LEUVEN")
    ours = notify.raise_alert("CASE-SEC-G", treating_site="HOSP-SEC-GENT")
    for alert in (theirs, ours):
        _stored(notify, alert)
    browser, _ = _signed_in(notify, gent)
    assert browser.get(f"/cases/{theirs['case_id']}").status_code == 404
    csrf = CSRF.search(browser.get("/").text).group(1)
    path = f"/cases/{ours['case_id']}/alerts/{ours['alert_id']}/acknowledge"
    assert browser.post(path, data={"note": "no token"}).status_code == 403
    assert browser.post(path, data={"csrf": csrf}, headers={"Origin": "https://evil.example"}).status_code == 403
    assert browser.post(f"/cases/{theirs['case_id']}/alerts/{theirs['alert_id']}/acknowledge",
                        data={"csrf": csrf}).status_code == 404
    assert notify.db.alerts.find_one({"_id": ours["alert_id"]})["status"] == "open"
    assert notify.db.alerts.find_one({"_id": theirs["alert_id"]})["status"] == "open"
    note = '<script>document.title="owned"</script>'
    assert browser.post(path, data={"csrf": csrf, "note": note}).status_code == 303
    page = browser.get(f"/cases/{ours['case_id']}").text
    assert "&lt;script&gt;document.title=" in page and "<script>document.title" not in page


def test_sign_out_ends_the_session_on_the_server(notify, gent):
    browser, response = _signed_in(notify, gent)
    session_id = response.cookies[SESSION_COOKIE]
    csrf = CSRF.search(browser.get("/").text).group(1)
    assert browser.post("/sign-out", data={"csrf": csrf}).status_code == 303
    assert notify.db.sessions.find_one({"_id": token_hash(session_id)}) is None
    replay = httpx.Client(base_url=notify.api_url, follow_redirects=False, cookies={SESSION_COOKIE: session_id})
    assert replay.get("/").status_code == 303  # the copied cookie signs nobody in
