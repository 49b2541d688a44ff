"""notify alone on the real broker and database: routing, webhook signatures and counters, retries
with idempotency, e-mail over STARTTLS, dead letters."""



from contracts import topics
from tests.integration.conftest import wait_until
from tests.support.kafka import read_all

TEAM_SECRET = "team-gent-webhook-secret"


def test_operator_webhook_receives_every_alert_signed_with_an_event_counter(notify):
    first = notify.raise_alert("CASE-N-1")
    second = notify.raise_alert("CASE-N-2", treating_site="HOSP-OTHER")
    wait_until(lambda: notify.operator.alerts_for_case(notify.case("CASE-N-2")), 30, "operator delivery")
    wait_until(lambda: notify.operator.alerts_for_case(notify.case("CASE-N-1")), 30, "operator delivery")
    numbers = notify.operator.event_numbers
    pair = sorted([numbers[first["alert_id"]], numbers[second["alert_id"]]])
    assert pair[1] == pair[0] + 1  # consecutive: nothing else was delivered to this subscription in between
    assert notify.operator.bad_signatures == 0
    assert notify.operator.alerts_for_case(notify.case("CASE-N-1"))[0] == first


def test_alert_goes_to_the_treating_hospitals_team_only(notify):
    gent = notify.receiver(TEAM_SECRET)
    leuven = notify.receiver(TEAM_SECRET)
    notify.create_team("MTB-GENT", "HOSP-GENT")
    notify.create_team("MTB-LEUVEN", "HOSP-LEUVEN")
    for team, receiver in (("MTB-GENT", gent), ("MTB-LEUVEN", leuven)):
        run = notify.cli("subscriptions", "add", "--team", team, "--webhook", receiver.url, "--secret", TEAM_SECRET)
        assert run.returncode == 0, run.stderr
    alert = notify.raise_alert("CASE-N-3", treating_site="HOSP-GENT")
    wait_until(lambda: gent.alerts_for_case(notify.case("CASE-N-3")), 30, "delivery to the Gent team")
    wait_until(lambda: notify.operator.alerts_for_case(notify.case("CASE-N-3")), 30, "operator delivery")
    assert leuven.alerts_for_case(notify.case("CASE-N-3")) == []
    assert gent.event_numbers[alert["alert_id"]] == 1
    stored = notify.db.alerts.find_one({"_id": alert["alert_id"]})
    assert stored["team_ids"] == ["MTB-GENT"]


def test_subscription_to_an_ancestor_tumour_type_receives_its_descendants(notify):
    thoracic = notify.receiver(TEAM_SECRET)
    notify.create_team("MTB-THORAX", "HOSP-BRUSSELS")
    run = notify.cli("subscriptions", "add", "--team", "MTB-THORAX", "--tumor-type", "NSCLC", "--webhook",
                     thoracic.url, "--secret", TEAM_SECRET)
    assert run.returncode == 0, run.stderr
    notify.raise_alert("CASE-N-4", treating_site="HOSP-BRUSSELS", tumor_type="LUAD")
    notify.raise_alert("CASE-N-5", treating_site="HOSP-BRUSSELS", tumor_type="COAD")
    wait_until(lambda: thoracic.alerts_for_case(notify.case("CASE-N-4")), 30, "LUAD alert to the NSCLC subscription")
    wait_until(lambda: notify.operator.alerts_for_case(notify.case("CASE-N-5")), 30, "COAD alert to the operator")
    assert thoracic.alerts_for_case(notify.case("CASE-N-5")) == []


def test_receiver_failing_then_timing_out_still_sees_each_alert_once(notify):
    flaky = notify.receiver(TEAM_SECRET)
    notify.create_team("MTB-ANTWERP", "HOSP-ANTWERP")
    run = notify.cli("subscriptions", "add", "--team", "MTB-ANTWERP", "--webhook", flaky.url, "--secret", TEAM_SECRET)
    assert run.returncode == 0, run.stderr
    flaky.fail_next = 2  # two 503s, then an answer that comes after notify stopped waiting (1 s)
    flaky.slow_next = 1
    flaky.slow_s = 2.5
    alerts = [notify.raise_alert(f"CASE-N-6{i}", treating_site="HOSP-ANTWERP") for i in range(3)]
    for alert in alerts:
        wait_until(lambda a=alert: notify.db.deliveries.find_one(
            {"alert_id": a["alert_id"], "target": flaky.url, "status": "delivered"}), 60, "delivered after retries")
    accepted = flaky.accepted()
    assert sorted(accepted) == sorted(a["alert_id"] for a in alerts)
    assert sorted(flaky.event_numbers.values()) == [1, 2, 3]
    attempts = sum(flaky.deliveries_of(a["alert_id"]) for a in alerts)
    assert attempts >= 3 + 3  # the failures and the late answer were retried with the same Idempotency-Key
    history = [d["attempts"] for d in notify.db.deliveries.find({"target": flaky.url})]
    assert any(not a["ok"] for attempts_ in history for a in attempts_)


def test_fhir_subscription_receives_a_notification_bundle(notify):
    fhir_receiver = notify.receiver(TEAM_SECRET)
    notify.create_team("MTB-LIEGE", "HOSP-LIEGE")
    run = notify.cli("subscriptions", "add", "--team", "MTB-LIEGE", "--webhook", fhir_receiver.url, "--secret",
                     TEAM_SECRET, "--fhir")
    assert run.returncode == 0, run.stderr
    alert = notify.raise_alert("CASE-N-7", treating_site="HOSP-LIEGE")
    bundle = wait_until(lambda: fhir_receiver.accepted().get(alert["alert_id"]), 30, "FHIR notification")
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "history"
    status = bundle["entry"][0]["resource"]
    assert status["type"] == "event-notification" and status["eventsSinceSubscriptionStart"] == "1"
    assert fhir_receiver.requests[0]["content_type"] == "application/fhir+json"


def test_email_subscription_sends_text_and_html_over_starttls_without_identifiers(notify):
    notify.create_team("MTB-BRUGGE", "HOSP-BRUGGE")
    run = notify.cli("subscriptions", "add", "--team", "MTB-BRUGGE", "--email", "mtb-brugge@hospital.example")
    assert run.returncode == 0, run.stderr
    alert = notify.raise_alert("CASE-N-8", treating_site="HOSP-BRUGGE", priority="urgent")
    mail = wait_until(lambda: notify.smtp.to("mtb-brugge@hospital.example"), 30, "e-mail")[0]
    case_id = alert["case_id"]
    assert mail["tls"] is True
    message = mail["message"]
    assert case_id in message["Subject"] and "URGENT" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"https://mtb.example.org/cases/{case_id}" in text and f'href="https://mtb.example.org/cases/{case_id}"' in html
    assert "PSN-" not in text + html and "patient" not in text.lower()
    assert "BRAF" in text
    stored = notify.db.alerts.find_one({"_id": alert["alert_id"]})
    assert stored["delivery_status"] == "delivered"


def test_delivery_that_never_succeeds_is_dead_lettered_and_shown_failed(notify):
    dead = notify.receiver(TEAM_SECRET)
    dead.fail_next = 1000
    notify.create_team("MTB-NAMUR", "HOSP-NAMUR")
    run = notify.cli("subscriptions", "add", "--team", "MTB-NAMUR", "--webhook", dead.url, "--secret", TEAM_SECRET)
    assert run.returncode == 0, run.stderr
    alert = notify.raise_alert("CASE-N-9", treating_site="HOSP-NAMUR")
    delivery = wait_until(lambda: notify.db.deliveries.find_one({"alert_id": alert["alert_id"], "target": dead.url,
                                                                 "status": "failed"}), 60, "failed delivery")
    assert delivery["attempt_count"] == 8 and len(delivery["attempts"]) == 8
    # The delivery's last attempt is recorded first; the alert's status, the dead letter and the outcome event
    # follow it (notify.delivery.Dispatcher._failed), so they are waited for, not read at once.
    wait_until(lambda: notify.db.alerts.find_one({"_id": alert["alert_id"], "delivery_status": "failed"}), 30,
               "alert shown as failed")
    bootstrap = notify.env["ONCORELAY_KAFKA_BOOTSTRAP"]
    outcomes = wait_until(lambda: [v for k, v in read_all(bootstrap, topics.ALERTS_DELIVERED)
                                   if v["alert_id"] == alert["alert_id"] and v["status"] == "failed"], 30,
                          "failed outcome event")
    assert outcomes[0]["attempts"] == 8
    dlq = [v for k, v in read_all(bootstrap, topics.ALERTS_DLQ) if v.get("alert_id") == alert["alert_id"]]
    assert len(dlq) == 1


def test_pending_deliveries_survive_a_notify_crash_and_are_sent_once_after_restart(notify):
    down = notify.receiver(TEAM_SECRET)
    down.fail_next = 1000
    notify.create_team("MTB-MONS", "HOSP-MONS")
    run = notify.cli("subscriptions", "add", "--team", "MTB-MONS", "--webhook", down.url, "--secret", TEAM_SECRET)
    assert run.returncode == 0, run.stderr
    alert = notify.raise_alert("CASE-N-10", treating_site="HOSP-MONS")
    wait_until(lambda: notify.db.deliveries.find_one({"alert_id": alert["alert_id"], "target": down.url,
                                                      "attempt_count": {"$gte": 2}}), 30, "failed attempts")
    notify.services.kill("notify")  # SIGKILL: no chance to clean up
    down.fail_next = 0
    notify.services.start("notify")
    notify.services.wait_ready("notify")
    wait_until(lambda: down.accepted().get(alert["alert_id"]), 60, "delivery after the restart")
    delivery = wait_until(lambda: notify.db.deliveries.find_one({"alert_id": alert["alert_id"], "target": down.url,
                                                                 "status": "delivered"}), 30, "delivered")
    assert [a["ok"] for a in delivery["attempts"]][-1] is True and delivery["attempt_count"] >= 3
    assert len(down.accepted()) == 1
