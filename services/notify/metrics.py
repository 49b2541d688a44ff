"""notify's own Prometheus metrics (base units, _total counters, bounded labels)."""

from prometheus_client import Counter, Histogram

ESCALATIONS = Counter(
    "oncorelay_escalations_total", "Urgent alerts escalated to a next contact, by escalation level", ["level"]
)
ACKNOWLEDGEMENTS = Counter("oncorelay_alerts_acknowledged_total", "Alerts acknowledged by an MTB team", ["priority"])
DECISIONS = Counter("oncorelay_mtb_decisions_total", "MTB decisions recorded, by outcome", ["outcome"])
TIME_TO_ACKNOWLEDGE = Histogram(
    "oncorelay_alert_acknowledge_seconds",
    "From the alert being raised to its acknowledgement by the MTB team",
    ["priority"],
    buckets=(10, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600, 72 * 3600),
)
API_REQUESTS = Counter(
    "oncorelay_api_requests_total", "Clinician API requests, by route and HTTP status", ["route", "status"]
)
