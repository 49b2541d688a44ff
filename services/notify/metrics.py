"""notify's own Prometheus metrics (base units, _total counters, bounded labels)."""

from prometheus_client import Counter, Gauge, Histogram

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
FOLLOWUPS = Counter("oncorelay_mtb_followups_total", "Follow-ups of decided recommendations, by whether the therapy "
                    "was started", ["therapy"])
BOARD_CASES = Gauge("oncorelay_board_cases", "Cases of a treating site: received, reviewed (acknowledged or decided), "
                    "with a therapy recommendation, with the recommended therapy started", ["site", "measure"])
BOARD_TURNAROUND = Gauge("oncorelay_board_turnaround_seconds", "Turnaround of a stage over a site's cases "
                         "(received_to_alerted, alerted_to_acknowledged, acknowledged_to_decided, received_to_decided), "
                         "by quantile", ["site", "stage", "quantile"])
