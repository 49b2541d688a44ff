"""The MTB workspace in headless Chromium against the real stack (Kafka, FerretDB, the three services): sign in,
an alert arriving on the worklist without a reload, the case page with its Tier I finding and the allele-fraction
plot, acknowledge, draft a decision, fail to sign it off as its author, sign it off as a second member who came
through the e-mail's case link, see the follow-up become due and answer it, read the board's numbers. Screenshots of the worklist and the case page go to docs/screenshots/."""

import json
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from oncorelay.demo import DATA
from tests.integration.conftest import wait_until
from tests.support.browser import chromium

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SITE = "HOSP-WEB"


def _member_token(stack, team: str, member: str) -> str:
    run = stack.cli("teams", "token", team, "--member", member, "--scope", "read", "--scope", "ack",
                    "--scope", "decide")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)["token"]


def _publish(stack, vcf: str, result_id: str, case: str, patient: str, collected: str, *therapies: str) -> None:
    args = ["publish", str(DATA / vcf), "--lab", "LAB01", "--case", case, "--patient", patient,
            "--specimen-id", f"SP-{result_id}", "--specimen-type", "plasma", "--tumor-type", "LUAD",
            "--assay", "CGP-500", "--genome-build", "GRCh38", "--panel-size-mb", "1.9", "--treating-site", SITE,
            "--result-id", result_id, "--collected", collected, "--lod", "0.005", "--wait", "--timeout", "120"]
    for therapy in therapies:
        args += ["--therapy", therapy]
    run = stack.cli(*args)
    assert run.returncode == 0 and json.loads(run.stdout)["status"] == "accepted", run.stdout + run.stderr


def _sign_in(browser, base: str, token: str) -> None:
    field = WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.ID, "token")))
    assert browser.current_url.startswith(f"{base}/sign-in")
    field.send_keys(token)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()


@pytest.fixture(scope="module")
def team(stack):
    team_id = f"MTB-WEB-{stack.run_id}"
    run = stack.cli("teams", "create", team_id, "--site", SITE, "--name", "Thoracic MTB")
    assert run.returncode == 0, run.stderr
    return team_id, _member_token(stack, team_id, "Dr. Ada Lovelace"), _member_token(stack, team_id, "Dr. Ben Okri")


@pytest.fixture
def browsers():
    opened = []

    def open_one():
        opened.append(chromium())
        return opened[-1]

    yield open_one
    for browser in opened:
        browser.quit()


def test_a_board_reviews_a_case_in_the_browser_from_alert_to_signed_off_decision(stack, team, browsers):
    team_id, ada_token, ben_token = team
    base = f"http://127.0.0.1:{stack.services.api_port}"
    case, patient = f"CASE-WEB-{stack.run_id}", f"PSN-WEB{stack.run_id}"
    ada = browsers()
    ada.get(f"{base}/")
    _sign_in(ada, base, ada_token)
    WebDriverWait(ada, 20).until(ec.presence_of_element_located((By.ID, "worklist-rows")))
    WebDriverWait(ada, 20).until(ec.text_to_be_present_in_element((By.ID, "live"), "on"))
    ada.execute_script("window.notReloaded = true;")

    # the patient's plasma over time: baseline, response on osimertinib, relapse (EGFR L858R, Tier I in LUAD)
    _publish(stack, "plasma-1-baseline.vcf", f"R-WEB-{stack.run_id}-1", case, patient, "2026-06-01")
    row = WebDriverWait(ada, 60).until(ec.presence_of_element_located((By.LINK_TEXT, case)))
    assert ada.execute_script("return window.notReloaded === true;")  # arrived live, no reload
    _publish(stack, "plasma-2-response.vcf", f"R-WEB-{stack.run_id}-2", case, patient, "2026-08-03", "osimertinib")
    _publish(stack, "plasma-3-relapse.vcf", f"R-WEB-{stack.run_id}-3", case, patient, "2026-10-26", "osimertinib")
    wait_until(lambda: stack.db.interpretations.count_documents({"case_id": case}) == 3, 90, "three interpretations")
    wait_until(lambda: stack.db.alerts.count_documents({"case_id": case, "routed": True}) >= 2, 60, "alerts routed")
    WebDriverWait(ada, 30).until(lambda b: len(b.find_elements(By.LINK_TEXT, case)) >= 2)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ada.save_screenshot(str(SCREENSHOTS / "workspace-worklist.png"))

    row = ada.find_element(By.LINK_TEXT, case)
    row.click()
    WebDriverWait(ada, 20).until(ec.presence_of_element_located((By.ID, "findings-h")))
    findings = ada.find_element(By.CSS_SELECTOR, "table.findings").text
    assert "EGFR" in findings and "Tier I" in findings
    plot = ada.find_element(By.ID, "vaf-plot")
    assert len(plot.find_elements(By.CSS_SELECTOR, "g.series path")) >= 1
    assert "detection limit" in plot.text and "therapy: osimertinib" in plot.text
    assert "2026-06-01" in ada.find_element(By.CSS_SELECTOR, "table.plot-table").text
    ada.set_window_size(1366, 2200)  # the whole case page, plot included, in one picture
    ada.save_screenshot(str(SCREENSHOTS / "workspace-case.png"))
    ada.set_window_size(1366, 1000)

    alert = stack.db.alerts.find_one({"case_id": case, "status": "open"}, sort=[("raised_at", 1)])
    aid = alert["_id"]
    ada.find_element(By.ID, f"acknowledge-{aid}").click()
    WebDriverWait(ada, 20).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".notice"), "Acknowledged"))
    assert stack.db.alerts.find_one({"_id": aid})["acknowledged_by"] == "Dr. Ada Lovelace"

    Select(ada.find_element(By.ID, f"outcome-{aid}")).select_by_value("targeted_therapy")
    ada.find_element(By.ID, f"recommendation-{aid}").send_keys("Continue osimertinib; repeat plasma in 8 weeks.")
    ada.find_element(By.ID, f"rationale-{aid}").send_keys("EGFR L858R, AMP/ASCO/CAP Tier I in LUAD.")
    ada.find_element(By.ID, f"therapies-{aid}").send_keys("osimertinib")
    ada.find_element(By.ID, f"members-{aid}").send_keys("Dr. Ada Lovelace\nDr. Ben Okri\nDr. C. Pathologist")
    ada.find_element(By.ID, f"draft-{aid}").click()
    WebDriverWait(ada, 20).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".notice"), "Draft saved"))

    ada.find_element(By.ID, f"sign-off-{aid}").click()  # the author signing off their own draft
    WebDriverWait(ada, 20).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".problem"),
                                                                    "cannot sign it off"))
    assert stack.db.alerts.find_one({"_id": aid})["status"] == "acknowledged"

    ben = browsers()
    ben.get(f"{base}/cases/{case}")  # the e-mail's case link, signed out: via sign-in, back to the case
    _sign_in(ben, base, ben_token)
    WebDriverWait(ben, 20).until(ec.presence_of_element_located((By.ID, f"sign-off-{aid}")))
    assert ben.current_url == f"{base}/cases/{case}"
    ben.find_element(By.ID, f"sign-off-{aid}").click()
    WebDriverWait(ben, 20).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".notice"), "signed off"))
    four_eyes = ben.find_element(By.CSS_SELECTOR, "article.decided .four-eyes").text
    assert "Drafted by Dr. Ada Lovelace" in four_eyes and "signed off by Dr. Ben Okri" in four_eyes
    decision = wait_until(lambda: stack.db.decisions.find_one({"alert_id": aid}), 20, "decision stored")
    assert (decision["drafted_by"], decision["signed_off_by"]) == ("Dr. Ada Lovelace", ["Dr. Ben Okri"])

    # the follow-up (due ONCORELAY_FOLLOWUP_AFTER_S = 4 s after the sign-off in this stack) shows on the worklist
    def follow_up_due(browser):
        browser.get(f"{base}/")
        return browser.find_elements(By.CSS_SELECTOR, f"table.followups a[href$='#followup-{aid}']")

    WebDriverWait(ben, 30, poll_frequency=1).until(follow_up_due)[0].click()
    ben.find_element(By.ID, f"started-yes-{aid}").click()
    Select(ben.find_element(By.ID, f"response-{aid}")).select_by_value("partial_response")
    ben.find_element(By.ID, f"follow-up-{aid}").click()
    WebDriverWait(ben, 20).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".notice"), "Follow-up recorded"))
    answered = stack.db.followups.find_one({"alert_id": aid})
    assert (answered["status"], answered["therapy_started"], answered["response"]) == ("answered", True,
                                                                                      "partial_response")
    ben.get(f"{base}/board")
    counts = ben.find_element(By.CSS_SELECTOR, "table.board-counts tbody").text.split()
    assert [int(n) for n in counts] == [1, 1, 1, 1]  # this team's one case: received, reviewed, recommended, started

    ben.find_element(By.CSS_SELECTOR, ".who button").click()  # sign out: the session ends on the server
    WebDriverWait(ben, 20).until(ec.presence_of_element_located((By.ID, "token")))
    ben.get(f"{base}/cases/{case}")  # the old cookie is gone and would sign nobody in: back at sign-in
    WebDriverWait(ben, 20).until(ec.presence_of_element_located((By.ID, "token")))
    assert ben.current_url.startswith(f"{base}/sign-in")
