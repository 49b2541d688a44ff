"""Trust boundaries on the outbound and HTTP side (issue 18, findings 7-10), against notify on the real
broker and database: webhook targets checked at subscription and at delivery, no redirects, no URL
credentials, e-mail addresses checked and undeliverable ones failed at once, removed subscriptions
stop, and no input that makes the clinician API answer 500.

The stack allows 127.0.0.1/32 (where the teams' test receivers listen); the rest of loopback, as any
private, link-local or metadata address, is refused. A receiver on 127.0.0.2 shows that a refused
target is never contacted.
"""

import http.client
import json
import time
from urllib.parse import urlsplit

import pytest

from contracts import topics
from tests.integration.conftest import wait_until
from tests.support.kafka import read_all

SECRET = "team-outbound-webhook-secret"
SITE = "HOSP-OUT"


@pytest.fixture(scope="module")
def token(notify):
    return notify.create_team("MTB-OUT", SITE)


def _subscribe(notify, token, channel: dict) -> tuple[int, dict]:
    return notify.request("POST", "/api/v1/subscriptions", token, {"channel": channel})


def _webhook(url: str) -> dict:
    return {"kind": "webhook", "url": url, "secret": SECRET}


def _retarget(notify, subscription_id: str, **channel) -> None:
    """Change a stored subscription behind the API's back, as one stored before these checks (or a name whose
    DNS answer changed since) would be."""
    notify.db.subscriptions.update_one({"_id": subscription_id},
                                       {"$set": {f"channel.{k}": v for k, v in channel.items()}})


def _delivery(notify, alert: dict, subscription_id: str, status: str) -> dict:
    return wait_until(lambda: notify.db.deliveries.find_one({"alert_id": alert["alert_id"], "status": status,
                                                             "subscription_id": subscription_id}),
                      30, f"{status} delivery")


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://10.0.0.1/hook", "http://192.168.1.10/hook", "http://172.16.0.1/hook", "http://100.64.0.1/hook",
    "http://127.0.0.2:8080/hook", "http://[::1]/hook", "http://0.0.0.0/hook", "http://[::ffff:127.0.0.2]/hook",
    "http://2130706434/hook",  # 127.0.0.2 written as one number
    "https://user:password@mtb.example.org/hook",
    "ftp://mtb.example.org/hook", "file:///etc/passwd",
])
def test_a_team_cannot_subscribe_a_webhook_inside_the_network(notify, token, url):
    status, body = _subscribe(notify, token, _webhook(url))
    assert status == 422 and body["error"] == "subscription_refused", body
    assert "webhook URL refused" in body["message"] or "needs an http(s) URL" in body["message"]
    assert notify.db.subscriptions.count_documents({"channel.url": url}) == 0


def test_the_cli_refuses_an_internal_webhook_too(notify):
    run = notify.cli("teams", "create", "MTB-OUT-CLI", "--site", SITE, "--escalate", "webhook:http://169.254.169.254/",
                     "--escalate-secret", SECRET)
    assert run.returncode != 0 and "webhook URL refused" in run.stderr
    run = notify.cli("subscriptions", "add", "--team", "MTB-OUT", "--webhook", "http://10.1.2.3/hook",
                     "--secret", SECRET)
    assert run.returncode != 0 and "webhook URL refused" in run.stderr


def test_a_refused_loopback_target_is_never_contacted_and_fails_at_once(notify, token):
    inside = notify.receiver(SECRET, host="127.0.0.2")
    status, body = _subscribe(notify, token, _webhook(inside.url))
    assert status == 422, body
    allowed = notify.receiver(SECRET)
    status, body = _subscribe(notify, token, _webhook(allowed.url))
    assert status == 201, body
    _retarget(notify, body["subscription_id"], url=inside.url)
    alert = notify.raise_alert("CASE-OUT-1", treating_site=SITE)
    delivery = _delivery(notify, alert, body["subscription_id"], "failed")
    assert delivery["attempt_count"] == 1  # not retried: the destination is refused, not down
    detail = delivery["attempts"][0]["detail"]
    # only what the team itself wrote (the host) is echoed: no port probed, no resolved address, no error text
    assert detail == ("not sent: the host 127.0.0.2 is on an address oncorelay may not connect to "
                      "(loopback, private, link-local or reserved)")
    assert inside.requests == []
    dead = wait_until(lambda: [v for _, v in read_all(notify.env["ONCORELAY_KAFKA_BOOTSTRAP"], topics.ALERTS_DLQ)
                               if v.get("alert_id") == alert["alert_id"]], 30, "dead letter")
    assert len(dead) == 1
    status, shown = notify.request("GET", f"/api/v1/alerts/{alert['alert_id']}", token)
    assert status == 200 and any(d["status"] == "failed" for d in shown["deliveries"])


def test_redirects_are_not_followed(notify, token):
    target = notify.receiver(SECRET)
    redirecting = notify.receiver(SECRET, redirect_to=target.url)
    status, body = _subscribe(notify, token, _webhook(redirecting.url))
    assert status == 201, body
    alert = notify.raise_alert("CASE-OUT-2", treating_site=SITE)
    wait_until(lambda: notify.db.deliveries.find_one({"alert_id": alert["alert_id"], "target": redirecting.url,
                                                      "attempt_count": {"$gte": 2}}), 30, "two attempts")
    delivery = notify.db.deliveries.find_one({"alert_id": alert["alert_id"], "target": redirecting.url})
    assert delivery["attempts"][0]["detail"] == "HTTP 302: a redirect, not followed"
    assert len(redirecting.requests) >= 2 and target.requests == []
    notify.request("DELETE", f"/api/v1/subscriptions/{body['subscription_id']}", token)


def test_credentials_in_a_stored_url_are_never_sent(notify, token):
    receiver = notify.receiver(SECRET)
    status, body = _subscribe(notify, token, _webhook(receiver.url))
    assert status == 201, body
    parts = urlsplit(receiver.url)
    _retarget(notify, body["subscription_id"], url=f"http://admin:secret@{parts.netloc}{parts.path}")
    alert = notify.raise_alert("CASE-OUT-3", treating_site=SITE)
    delivery = _delivery(notify, alert, body["subscription_id"], "failed")
    assert delivery["attempt_count"] == 1 and "user or password" in delivery["attempts"][0]["detail"]
    assert receiver.requests == []


@pytest.mark.parametrize("address", ["mtb@hosp.example\r\nBcc: all@evil.example", "mtb@hosp.example\n",
                                     "no-at-sign", "two@@hosp.example", "mtb@hosp..example", "é@hosp.example"])
def test_an_email_subscription_needs_a_plain_address(notify, token, address):
    status, body = _subscribe(notify, token, {"kind": "email", "to": [address]})
    assert status == 422 and body["error"] == "subscription_refused", body


def test_an_email_that_cannot_be_sent_fails_at_once(notify, token):
    status, body = _subscribe(notify, token, {"kind": "email", "to": ['"MTB out"@hosp.example']})
    assert status == 201, body  # a quoted local part is an RFC 5322 addr-spec
    _retarget(notify, body["subscription_id"], to=["mtb@hosp.example\r\nBcc: all@evil.example"])
    alert = notify.raise_alert("CASE-OUT-4", treating_site=SITE)
    delivery = _delivery(notify, alert, body["subscription_id"], "failed")
    assert delivery["attempt_count"] == 1 and "line breaks" in delivery["attempts"][0]["detail"]
    assert notify.smtp.to("all@evil.example") == []


def test_a_removed_subscription_stops_retrying(notify, token):
    down = notify.receiver(SECRET)
    down.fail_next = 10_000
    status, body = _subscribe(notify, token, _webhook(down.url))
    assert status == 201, body
    alert = notify.raise_alert("CASE-OUT-5", treating_site=SITE)
    wait_until(lambda: notify.db.deliveries.find_one({"alert_id": alert["alert_id"], "target": down.url,
                                                      "attempt_count": {"$gte": 1}}), 30, "a failed attempt")
    status, _ = notify.request("DELETE", f"/api/v1/subscriptions/{body['subscription_id']}", token)
    assert status == 200
    delivery = wait_until(lambda: notify.db.deliveries.find_one({"alert_id": alert["alert_id"], "target": down.url,
                                                                 "status": "cancelled"}), 30, "cancelled delivery")
    assert delivery["attempts"][-1]["detail"] == "not sent: the subscription was removed"
    sent = len(down.requests)
    assert notify.db.audit.find_one({"action": "delivery_cancelled", "alert_id": alert["alert_id"]}) is not None
    time.sleep(2)  # several retry delays of this stack (0.2 s growing to 1 s): no attempt follows
    assert len(down.requests) == sent
    assert notify.db.deliveries.find_one({"_id": delivery["_id"]})["attempt_count"] == delivery["attempt_count"]


def _raw(notify, method: str, path: str, headers: dict[str, bytes | str], body: bytes | None = None):
    """One request with headers sent byte for byte (http.client passes bytes values on unchanged)."""
    parts = urlsplit(notify.api_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        content_type = response.getheader("Content-Type") or ""
        if content_type.startswith("text/event-stream"):  # a stream opened: its body never ends, so none is read
            return response.status, content_type, b""
        return response.status, content_type, response.read()
    finally:
        connection.close()


ODD_REQUESTS = [  # (why, method, path, headers besides a valid token, body)
    ("non-UTF-8 bearer token", "GET", "/api/v1/alerts", {"Authorization": b"Bearer \xff\xfe\xfd"}, None),
    ("UTF-8 non-ASCII bearer token", "GET", "/api/v1/alerts", {"Authorization": "Bearer ²".encode()}, None),
    ("token of 600 characters", "GET", "/api/v1/alerts", {"Authorization": "Bearer " + "a" * 600}, None),
    ("a Unicode digit as Last-Event-ID", "GET", "/api/v1/stream", {"Last-Event-ID": "²".encode()}, None),
    ("an Arabic-Indic digit as Last-Event-ID", "GET", "/api/v1/stream", {"Last-Event-ID": "٣".encode()}, None),
    ("a Latin-1 byte as Last-Event-ID", "GET", "/api/v1/stream", {"Last-Event-ID": b"\xb2"}, None),
    ("a negative Last-Event-ID", "GET", "/api/v1/stream?last_event_id=-1", {}, None),
    ("a huge Last-Event-ID", "GET", "/api/v1/stream", {"Last-Event-ID": "9" * 40}, None),
    ("text/plain body", "POST", "/api/v1/alerts/al-1/acknowledge", {"Content-Type": "text/plain"},
     b'{"by": "dr x"}'),
    ("no Content-Type", "POST", "/api/v1/subscriptions", {}, b'{"channel": {"kind": "stream"}}'),
    ("form body", "POST", "/api/v1/subscriptions", {"Content-Type": "application/x-www-form-urlencoded"},
     b"channel=stream"),
    ("not JSON", "POST", "/api/v1/alerts/al-1/decision", {"Content-Type": "application/json"}, b"{not json"),
    ("non-UTF-8 JSON", "POST", "/api/v1/subscriptions", {"Content-Type": "application/json"}, b'{"\xff": 1}'),
    ("JSON array", "POST", "/api/v1/subscriptions", {"Content-Type": "application/json"}, b"[]"),
    ("deeply nested JSON", "POST", "/api/v1/subscriptions", {"Content-Type": "application/json"},
     b"[" * 100_000 + b"]" * 100_000),
    ("body over the size limit", "POST", "/api/v1/subscriptions", {"Content-Type": "application/json"},
     b'{"x": "' + b"a" * (1024**2 + 1024) + b'"}'),
    ("NUL in an id", "GET", "/api/v1/alerts/al%00x", {}, None),
    ("invalid UTF-8 in an id", "GET", "/api/v1/cases/%ff%fe", {}, None),
    ("lone surrogate in an id", "GET", "/api/v1/cases/%ed%a0%80", {}, None),
    ("an id of 5,000 characters", "GET", "/api/v1/alerts/" + "x" * 5000, {}, None),
    ("operator-shaped id", "DELETE", "/api/v1/subscriptions/%7B%22%24ne%22%3A1%7D", {}, None),
    ("unknown status", "GET", "/api/v1/alerts?status=%C2%B2", {}, None),
    ("unknown path", "GET", "/api/v1/nothing-here", {}, None),
    ("wrong method", "PUT", "/api/v1/alerts", {}, b""),
]


@pytest.mark.parametrize("why, method, path, headers, body", ODD_REQUESTS, ids=[r[0] for r in ODD_REQUESTS])
def test_no_input_makes_the_api_answer_500(notify, token, why, method, path, headers, body):
    sent = {"Authorization": f"Bearer {token}", **headers}
    status, content_type, raw = _raw(notify, method, path, sent, body)
    assert 400 <= status < 500, (why, status, raw[:300])
    assert content_type.startswith("application/json"), (why, content_type)
    assert "error" in json.loads(raw)
