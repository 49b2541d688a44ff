"""What clinicians and receivers get (pure): signatures, backoff, e-mail content, SSE frames, tokens."""

import hashlib
import hmac
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.notify.domain.backoff import retry_delay
from services.notify.domain.messages import alert_mail, email_message, last_event_id, sse_comment, sse_frame
from services.notify.domain.review import can_acknowledge, can_decide, first_escalation_due, next_escalation_due
from services.notify.domain.signing import sign, verify
from services.notify.domain.summary import turnaround
from services.notify.domain.tokens import bearer_token, new_token, token_hash

ALERT = {**json.loads((Path(__file__).resolve().parents[2] / "contracts" / "examples" / "MtbReviewRequired.json")
                      .read_text())}
T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def test_signature_verifies_with_the_documented_snippet():
    body, ts = b'{"alert_id": "a1"}', 1_800_000_000
    header = sign(b"secret", ts, body)
    expected = hmac.new(b"secret", f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(f"v1={expected}", header)
    assert verify(b"secret", str(ts), header, body, now=ts + 10)


@pytest.mark.parametrize("secret, body, now", [(b"other", b"{}", 0), (b"secret", b"{ }", 0), (b"secret", b"{}", 301)])
def test_wrong_secret_altered_body_or_stale_timestamp_fails(secret, body, now):
    ts = 1_800_000_000
    assert not verify(secret, str(ts), sign(b"secret", ts, b"{}"), body, now=ts + now)


def test_backoff_is_bounded_and_grows():
    rng = random.Random(4)
    delays = [retry_delay(n, 0.5, 30.0, rng) for n in range(1, 12) for _ in range(50)]
    assert all(0 <= d <= 30.0 for d in delays)
    assert max(retry_delay(1, 0.5, 30.0, rng) for _ in range(200)) <= 0.5
    with pytest.raises(ValueError):
        retry_delay(0, 0.5, 30.0)


def test_email_names_the_case_only_by_its_id_and_links_to_it():
    content = alert_mail(ALERT, "https://mtb.example.org/cases/")
    assert "MTB-BE-000042" in content.subject and "ROUTINE" in content.subject
    assert "https://mtb.example.org/cases/MTB-BE-000042" in content.text
    assert 'href="https://mtb.example.org/cases/MTB-BE-000042"' in content.html
    assert "BRAF p.V600E (AMP tier IB, ESCAT I-B, EU: EMA-authorised)" in content.text
    message = email_message(content, "oncorelay@example.org", ["mtb@example.org"], "a1.sub-1")
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Message-ID"] == "<a1.sub-1@oncorelay>"


def test_email_html_escapes_lab_text():
    alert = {**ALERT, "reasons": [{"rule_id": "r", "code": "c", "summary": "<script>x</script>"}]}
    assert "<script>" not in alert_mail(alert, "https://x/").html


def test_escalation_email_says_so():
    assert alert_mail(ALERT, "https://x/", escalation_level=2).subject.startswith("[oncorelay] ESCALATION 2")


def test_sse_frames_and_resume_position():
    assert sse_frame(7, "alert", {"a": 1}) == b'id: 7\nevent: alert\ndata: {"a":1}\n\n'
    assert sse_comment("heartbeat") == b": heartbeat\n\n"
    assert last_event_id("12", None) == 12 and last_event_id(None, "3") == 3
    assert last_event_id(None, None) is None and last_event_id(" ", "4") == 4


@pytest.mark.parametrize("value", ["junk", "²", "٣", "-1", "1.5", "9" * 19, "\udcb2"])
def test_a_malformed_last_event_id_is_an_error_not_a_guess(value):
    with pytest.raises(ValueError, match="decimal number"):
        last_event_id(value, None)


def test_tokens_are_stored_as_hashes_and_read_from_bearer_headers():
    token = new_token()
    assert token.startswith("orl_") and len(token_hash(token)) == 64 and token_hash(token) != token
    assert bearer_token(f"Bearer {token}") == token
    assert bearer_token("Basic abc") is None and bearer_token(None) is None and bearer_token("Bearer ") is None


@pytest.mark.parametrize("header", ["Bearer \udcff\udcfe\udcfd", "Bearer ÿþý", "Bearer ²", "Bearer a\x00b",
                                    "Bearer " + "a" * 513])
def test_a_token_that_cannot_be_ours_is_no_token(header):
    assert bearer_token(header) is None


def test_only_urgent_alerts_escalate_and_only_while_contacts_remain():
    assert first_escalation_due("urgent", T0, 900) == T0 + timedelta(seconds=900)
    assert first_escalation_due("routine", T0, 900) is None
    assert next_escalation_due(1, 2, T0, 60) == T0 + timedelta(seconds=60)
    assert next_escalation_due(2, 2, T0, 60) is None


def test_review_transitions():
    assert can_acknowledge("open") and not can_acknowledge("acknowledged")
    assert can_decide("open") and can_decide("acknowledged") and not can_decide("decided")


def test_turnaround_measures_from_the_first_occurrence_of_each_step():
    timeline = [{"stage": s, "at": T0 + timedelta(seconds=n)} for s, n in
                [("received", 0), ("alerted", 2), ("delivered", 3), ("acknowledged", 600), ("decided", 7200),
                 ("received", 8000)]]
    assert turnaround(timeline) == {"received_to_alerted_s": 2.0, "alerted_to_delivered_s": 1.0,
                                    "alerted_to_acknowledged_s": 598.0, "alerted_to_decided_s": 7198.0,
                                    "received_to_decided_s": 7200.0}


def test_the_email_tells_the_board_the_eu_status_of_each_finding():
    findings = [{**ALERT["findings"][0], "eu_status": "EMA-authorised (since 2002-03-04)"}]
    content = alert_mail({**ALERT, "findings": findings}, "https://mtb.example.org/cases/")
    assert "(AMP tier IB, ESCAT I-B, EU: EMA-authorised (since 2002-03-04))" in content.text
