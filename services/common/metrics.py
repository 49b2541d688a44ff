"""Prometheus metrics shared by the services. Names follow Prometheus conventions: base units, _total counters."""

from prometheus_client import Counter, Histogram

MESSAGES_CONSUMED = Counter(
    "oncorelay_messages_consumed_total", "Messages consumed from Kafka", ["service", "topic"]
)
MESSAGES_PRODUCED = Counter(
    "oncorelay_messages_produced_total", "Messages produced to Kafka", ["service", "topic"]
)
MESSAGES_REJECTED = Counter(
    "oncorelay_messages_rejected_total", "Lab results rejected, by reason code", ["service", "reason"]
)
PROCESSING_SECONDS = Histogram(
    "oncorelay_processing_seconds",
    "Time to process one message, by stage",
    ["service", "stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
END_TO_END_SECONDS = Histogram(
    "oncorelay_end_to_end_seconds",
    "From the lab's publish time to the event named by 'stage' (annotated, alert_delivered)",
    ["stage"],
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30, 60, 300),
)
DELIVERY_ATTEMPTS = Counter(
    "oncorelay_delivery_attempts_total", "Alert delivery attempts, by channel and outcome", ["channel", "outcome"]
)
