"""The clinician API and live stream of notify on the real broker and database: team tokens and
scopes, cross-team refusal, acknowledgement, escalation, MTB decisions, SSE resume, FHIR export."""

import json
import urllib.request

import pytest
from fhir.resources.R4B.bundle import Bundle

from contracts import topics
from tests.integration.conftest import wait_until
from tests.support.kafka import read_all
from tests.support.sse import SseClient

SECRET = "clinician-webhook-secret"
DECISION = {"outcome": "targeted_therapy", "recommendation": "Dabrafenib + trametinib at progression.",
            "rationale": "BRAF p.V600E, AMP Tier I level B in LUAD.", "therapies": ["dabrafenib + trametinib"],
            "members_present": ["MTB chair", "Molecular pathologist"]}


@pytest.fixture(scope="module")
def teams(notify):
    """Two teams of one national MTB: Gent (with an escalation contact) and Leuven."""
    oncall = notify.receiver(SECRET)
    gent = notify.create_team("MTB-GENT", "HOSP-GENT", "HOSP-AALST",
                              extra=("--escalate", f"webhook:{oncall.url}", "--escalate", "email:chair@gent.example",
                                     "--escalate-secret", SECRET))
    leuven = notify.create_team("MTB-LEUVEN", "HOSP-LEUVEN")
    readonly = json.loads(notify.cli("teams", "token", "MTB-GENT", "--scope", "read").stdout)["token"]
    return {"gent": gent, "leuven": leuven, "gent_readonly": readonly, "oncall": oncall,
            "chair": notify.member_token("MTB-GENT", "MTB chair"),
            "pathologist": notify.member_token("MTB-GENT", "Molecular pathologist"),
            "leuven_chair": notify.member_token("MTB-LEUVEN", "Leuven chair")}


def _alert_stored(notify, alert):
    return wait_until(lambda: notify.db.alerts.find_one({"_id": alert["alert_id"], "routed": True}), 30, "alert stored")


def test_requests_without_a_valid_token_are_refused(notify, teams):
    assert notify.request("GET", "/api/v1/alerts", None)[0] == 401
    assert notify.request("GET", "/api/v1/alerts", "orl_not-a-token")[0] == 401


def test_team_lists_its_open_alerts_and_never_another_teams(notify, teams):
    ours = notify.raise_alert("CASE-C-1", treating_site="HOSP-AALST")
    theirs = notify.raise_alert("CASE-C-2", treating_site="HOSP-LEUVEN")
    _alert_stored(notify, ours), _alert_stored(notify, theirs)
    status, body = notify.request("GET", "/api/v1/alerts", teams["gent"])
    assert status == 200
    ids = {a["alert_id"] for a in body["alerts"]}
    assert ours["alert_id"] in ids and theirs["alert_id"] not in ids
    assert all("payload" not in a for a in body["alerts"])


def test_cross_team_reads_and_writes_are_answered_as_unknown(notify, teams):
    theirs = notify.raise_alert("CASE-C-3", treating_site="HOSP-LEUVEN")
    _alert_stored(notify, theirs)
    gent = teams["gent"]
    aid = theirs["alert_id"]
    assert notify.request("GET", f"/api/v1/alerts/{aid}", gent)[0] == 404
    assert notify.request("POST", f"/api/v1/alerts/{aid}/acknowledge", gent, {"by": "intruder"})[0] == 404
    assert notify.request("POST", f"/api/v1/alerts/{aid}/decision", teams["chair"], DECISION)[0] == 404
    assert notify.request("POST", f"/api/v1/alerts/{aid}/decision/sign-off", teams["pathologist"], {})[0] == 404
    assert notify.request("GET", f"/api/v1/cases/{theirs['case_id']}", gent)[0] == 404
    assert notify.request("GET", f"/api/v1/cases/{theirs['case_id']}/fhir", gent)[0] == 404
    assert notify.request("GET", "/api/v1/cases/NO-SUCH-CASE", gent)[0] == 404
    assert notify.db.alerts.find_one({"_id": aid})["status"] == "open"
    assert notify.request("GET", f"/api/v1/alerts/{aid}", teams["leuven"])[0] == 200


def test_a_read_only_token_cannot_acknowledge(notify, teams):
    alert = notify.raise_alert("CASE-C-4", treating_site="HOSP-GENT")
    _alert_stored(notify, alert)
    status, body = notify.request("POST", f"/api/v1/alerts/{alert['alert_id']}/acknowledge", teams["gent_readonly"],
                                  {"by": "dashboard"})
    assert status == 403 and body["error"] == "missing_scope"


def test_acknowledge_then_decide_closes_the_review_with_events_audit_and_timeline(notify, teams):
    case_id = notify.seed_case("CASE-C-5", "HOSP-GENT")
    alert = notify.raise_alert("CASE-C-5", treating_site="HOSP-GENT")
    _alert_stored(notify, alert)
    aid, gent = alert["alert_id"], teams["gent"]
    status, body = notify.request("POST", f"/api/v1/alerts/{aid}/acknowledge", gent, {"by": "MTB coordinator"})
    assert status == 200 and body["alert"]["status"] == "acknowledged"
    assert notify.request("POST", f"/api/v1/alerts/{aid}/acknowledge", gent, {"by": "again"})[0] == 409
    chair, pathologist = teams["chair"], teams["pathologist"]
    assert notify.request("POST", f"/api/v1/alerts/{aid}/decision", chair, {"outcome": "maybe"})[0] == 422
    status, body = notify.request("POST", f"/api/v1/alerts/{aid}/decision", gent, DECISION)
    assert status == 403 and body["error"] == "member_required"  # a team-wide token names nobody
    status, body = notify.request("POST", f"/api/v1/alerts/{aid}/decision", chair, DECISION)
    assert status == 201 and body["draft"]["drafted_by"] == "MTB chair"
    status, body = notify.request("POST", f"/api/v1/alerts/{aid}/decision/sign-off", chair, {})
    assert status == 409 and body["error"] == "four_eyes"  # the author cannot sign off their own draft
    assert notify.request("GET", f"/api/v1/alerts/{aid}", gent)[1]["status"] == "acknowledged"
    status, body = notify.request("POST", f"/api/v1/alerts/{aid}/decision/sign-off", pathologist, {})
    assert status == 200 and body["alert"]["status"] == "decided"
    assert notify.request("POST", f"/api/v1/alerts/{aid}/decision/sign-off", pathologist, {})[0] == 409
    assert notify.request("POST", f"/api/v1/alerts/{aid}/decision", chair, DECISION)[0] == 409

    status, case = notify.request("GET", f"/api/v1/cases/{case_id}", gent)
    assert status == 200
    stages = [s["stage"] for s in case["timeline"]]
    assert stages[:4] == ["received", "ingested", "annotated", "alerted"]
    assert stages[-2:] == ["acknowledged", "decided"] and "delivered" in stages
    assert case["state"] == "decided"
    assert case["findings"][0]["gene"] == "BRAF" and case["findings"][0]["amp_tier"] == "I"
    assert case["decisions"][0]["recommendation"] == DECISION["recommendation"]
    assert (case["decisions"][0]["drafted_by"], case["decisions"][0]["signed_off_by"]) == ("MTB chair",
                                                                                          ["Molecular pathologist"])
    assert "alerted_to_acknowledged_s" in case["turnaround"] and "alerted_to_decided_s" in case["turnaround"]
    assert [h["action"] for h in case["history"] if h["action"] != "state_changed"] == ["acknowledged",
                                                                                        "decision_drafted", "decided"]
    assert any(h["action"] == "state_changed" for h in case["history"])  # the services' state changes are audited too
    assert "patient_pseudonym" not in json.dumps(case)

    bootstrap = notify.env["ONCORELAY_KAFKA_BOOTSTRAP"]
    decisions = [v for k, v in read_all(bootstrap, topics.MTB_DECISIONS) if v["alert_id"] == aid]
    acks = [v for k, v in read_all(bootstrap, topics.ALERTS_ACKNOWLEDGED) if v["alert_id"] == aid]
    assert len(decisions) == 1 and decisions[0]["team_id"] == "MTB-GENT" and len(acks) == 1
    assert [a["action"] for a in notify.db.audit.find({"alert_id": aid})] == ["acknowledged", "decision_drafted",
                                                                              "decided"]


def test_unacknowledged_urgent_alert_escalates_to_the_next_contacts_in_turn(notify, teams):
    alert = notify.raise_alert("CASE-C-6", treating_site="HOSP-GENT", priority="urgent")
    aid = alert["alert_id"]
    # escalation_after_s = 3: level 1 (the on-call webhook) after 3 s, level 2 (the chair's e-mail) 3 s later
    wait_until(lambda: teams["oncall"].accepted().get(f"{aid}.escalation-1"), 30, "first escalation")
    mail = wait_until(lambda: [m for m in notify.smtp.to("chair@gent.example")
                               if f"Alert id: {aid}" in m["message"].get_body(("plain",)).get_content()],
                      30, "second escalation")[0]
    assert "ESCALATION 2" in mail["message"]["Subject"]
    escalations = list(notify.db.escalations.find({"alert_id": aid}).sort("level", 1))
    assert [e["level"] for e in escalations] == [1, 2]
    assert notify.db.alerts.find_one({"_id": aid})["escalation_due_at"] is None  # no third contact
    metrics = urllib.request.urlopen(notify.services.url("notify", "/metrics")).read().decode()
    assert 'oncorelay_escalations_total{level="1"}' in metrics
    events = [v for k, v in read_all(notify.env["ONCORELAY_KAFKA_BOOTSTRAP"], topics.ALERTS_ESCALATED)
              if v["alert_id"] == aid]
    assert [e["level"] for e in events] == [1, 2]


def test_acknowledged_urgent_alert_does_not_escalate(notify, teams):
    alert = notify.raise_alert("CASE-C-7", treating_site="HOSP-GENT", priority="urgent")
    _alert_stored(notify, alert)
    assert notify.request("POST", f"/api/v1/alerts/{alert['alert_id']}/acknowledge", teams["gent"],
                          {"by": "on call"})[0] == 200
    with pytest.raises(AssertionError):
        wait_until(lambda: notify.db.escalations.find_one({"alert_id": alert["alert_id"]}), 5, "no escalation")


def test_stream_resumes_after_a_disconnect_with_last_event_id(notify, teams):
    gent = teams["gent"]
    run = notify.cli("subscriptions", "add", "--team", "MTB-GENT", "--stream")
    assert run.returncode == 0, run.stderr
    client = SseClient(notify.api_url + "/api/v1/stream", gent)
    assert client.status == 200
    first = notify.raise_alert("CASE-C-8", treating_site="HOSP-GENT")
    event = client.next_event(30)
    while event.event != "alert" or event.data["alert_id"] != first["alert_id"]:
        event = client.next_event(30)
    client.wait_for_comment(5)  # heartbeats keep an idle stream open
    resume_from = client.last_id
    client.close()

    missed = [notify.raise_alert(f"CASE-C-9{i}", treating_site="HOSP-GENT") for i in range(2)]
    for alert in missed:
        wait_until(lambda a=alert: notify.db.stream_events.find_one({"dedupe": f"alert:{a['alert_id']}"}), 30,
                   "stream event stored")
    resumed = SseClient(notify.api_url + "/api/v1/stream", gent, last_event_id=resume_from)
    seen = []
    while len([e for e in seen if e.event == "alert"]) < 2:
        seen.append(resumed.next_event(30))
    resumed.close()
    ids = [e.id for e in seen]
    assert ids == sorted(ids) and ids[0] == resume_from + 1
    assert {e.data["alert_id"] for e in seen if e.event == "alert"} == {a["alert_id"] for a in missed}
    assert all(e.data.get("treating_site", "HOSP-GENT") in ("HOSP-GENT", "HOSP-AALST") for e in seen)


def test_other_teams_stream_carries_none_of_our_events(notify, teams):
    client = SseClient(notify.api_url + "/api/v1/stream", teams["leuven"], last_event_id=0)
    client.wait_for_comment(5)
    with pytest.raises(TimeoutError):
        client.next_event(2)
    client.close()


def test_case_is_exported_as_a_valid_fhir_bundle(notify, teams):
    case_id = notify.seed_case("CASE-C-10", "HOSP-GENT")
    alert = notify.raise_alert("CASE-C-10", treating_site="HOSP-GENT")
    _alert_stored(notify, alert)
    status, bundle = notify.request("GET", f"/api/v1/cases/{case_id}/fhir", teams["gent"])
    assert status == 200
    Bundle.model_validate(bundle)
    resources = [e["resource"] for e in bundle["entry"]]
    assert resources[0]["resourceType"] == "DiagnosticReport"
    variant = next(r for r in resources if r.get("meta", {}).get("profile") == [
        "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/variant"])
    codes = {c["code"]["coding"][0]["code"] for c in variant["component"]}
    assert {"48018-6", "48004-6", "48005-3", "81290-9", "62374-4", "81258-6"} <= codes
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    assert patient["identifier"][0]["value"] == "PSN-7F3A9C21" and "name" not in patient


def test_team_manages_its_own_subscriptions_over_the_api(notify, teams):
    gent, leuven = teams["gent"], teams["leuven"]
    status, created = notify.request("POST", "/api/v1/subscriptions", gent, {
        "priorities": ["urgent"], "channel": {"kind": "email", "to": ["urgent@gent.example"]}})
    assert status == 201 and created["site_ids"] == ["HOSP-AALST", "HOSP-GENT"]
    refused = notify.request("POST", "/api/v1/subscriptions", gent, {
        "site_ids": ["HOSP-LEUVEN"], "channel": {"kind": "email", "to": ["x@gent.example"]}})
    assert refused[0] == 422
    sid = created["subscription_id"]
    assert notify.request("DELETE", f"/api/v1/subscriptions/{sid}", leuven)[0] == 404
    listed = notify.request("GET", "/api/v1/subscriptions", gent)[1]["subscriptions"]
    assert sid in [s["subscription_id"] for s in listed]
    assert all("secret" not in s["channel"] for s in listed)
    assert notify.request("DELETE", f"/api/v1/subscriptions/{sid}", gent)[0] == 200
