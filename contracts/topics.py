"""Kafka topic names. Public topics are part of the lab-facing contract; internal ones are ours."""

import re

# Public: labs publish here, one message per sequencing result, key = result_id.
LAB_RESULTS = "oncorelay.lab.results.v1"
# Public: one receipt per published result (accepted or rejected), key = result_id.
LAB_RECEIPTS = "oncorelay.lab.receipts.v1"
# Public, per lab (ONCORELAY_LAB_TOPICS): a lab's own results and receipts topics, so Kafka ACLs can bind the
# lab's SASL principal to its lab_id (README, Security: Kafka).
LAB_TOPIC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def lab_results(lab_id: str) -> str:
    """The results topic only `lab_id` may write."""
    return f"oncorelay.lab.{lab_id}.results.v1"


def lab_receipts(lab_id: str) -> str:
    """The receipts topic only `lab_id` may read."""
    return f"oncorelay.lab.{lab_id}.receipts.v1"


# Public: rejected input, original bytes kept, with the reason codes in the envelope.
LAB_RESULTS_DLQ = "oncorelay.lab.results.dlq.v1"
# Public: a case needs Molecular Tumour Board review, key = case_id.
MTB_ALERTS = "oncorelay.mtb.alerts.v1"

# Internal: ingest -> annotate.
VARIANTS_INGESTED = "oncorelay.internal.variants-ingested.v1"
# Internal: annotate -> (case timeline, ops).
CASES_ANNOTATED = "oncorelay.internal.cases-annotated.v1"
# Internal: notify -> (case timeline, ops).
ALERTS_DELIVERED = "oncorelay.internal.alerts-delivered.v1"
# Internal: alerts whose delivery failed after the last attempt.
ALERTS_DLQ = "oncorelay.internal.alerts.dlq.v1"
# Public: an MTB team acknowledged an alert, key = case_id.
ALERTS_ACKNOWLEDGED = "oncorelay.mtb.alerts-acknowledged.v1"
# Public: an unacknowledged urgent alert went to the team's next contact, key = case_id.
ALERTS_ESCALATED = "oncorelay.mtb.alerts-escalated.v1"
# Public: the MTB's recommendation for a case (closes its review), key = case_id.
MTB_DECISIONS = "oncorelay.mtb.decisions.v1"
# Public: a decided case's follow-up (was the recommended therapy started, how did the patient respond), key = case_id.
MTB_FOLLOWUPS = "oncorelay.mtb.followups.v1"
# Internal: events a service could not process because of an unforeseen error (kept for replay).
PROCESSING_DLQ = "oncorelay.internal.processing.dlq.v1"

ALL_TOPICS = (
    LAB_RESULTS,
    LAB_RECEIPTS,
    LAB_RESULTS_DLQ,
    MTB_ALERTS,
    VARIANTS_INGESTED,
    CASES_ANNOTATED,
    ALERTS_DELIVERED,
    ALERTS_DLQ,
    ALERTS_ACKNOWLEDGED,
    ALERTS_ESCALATED,
    MTB_DECISIONS,
    MTB_FOLLOWUPS,
    PROCESSING_DLQ,
)
