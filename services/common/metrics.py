"""Prometheus metrics shared by the services.

Names follow Prometheus conventions: an `oncorelay_` prefix, base units in the name (`_seconds`,
`_bytes`, `_messages`), `_total` on counters. Labels are bounded sets (service, topic, partition,
stage, reason code, channel, command): never a case id, result id, patient pseudonym or URL, so
no patient data can reach Prometheus and series counts stay small.

Every service exports all of these (a labelled metric with no samples yet still has its
HELP/TYPE lines), so dashboards and alert rules can name them without knowing which service
increments what. The default registry also carries `process_*` (memory, CPU, open files) and
`python_*` metrics.
"""

from prometheus_client import Counter, Gauge, Histogram, Info, disable_created_metrics

# No `_created` series next to every counter and histogram: half the series, nothing lost.
disable_created_metrics()

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
DELIVERY_FAILURES = Counter(
    "oncorelay_delivery_failures_total",
    "Alerts whose delivery on a channel failed for good (after the last attempt)",
    ["channel"],
)
ALERTS_RAISED = Counter(
    "oncorelay_alerts_raised_total", "MTB review alerts published, by priority", ["priority"]
)
ALERTS_DELIVERED = Counter(
    "oncorelay_alerts_delivered_total",
    "Final delivery outcome of an alert on one channel (delivered or failed)",
    ["channel", "status"],
)
AGENT_RESTARTS = Counter(
    "oncorelay_agent_restarts_total",
    "Stream agents restarted after an unhandled error (the message it was on stays uncommitted)",
    ["service"],
)
CONSUMER_LAG = Gauge(
    "oncorelay_consumer_lag_messages",
    "Messages in a partition not yet committed by this service's consumer group (log end offset minus committed)",
    ["service", "topic", "partition"],
)
MONGODB_OPERATION_SECONDS = Histogram(
    "oncorelay_mongodb_operation_seconds",
    "MongoDB command round trip as the driver saw it, by command name and outcome",
    ["service", "command", "outcome"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
KNOWLEDGE_BASE = Info("oncorelay_knowledge_base", "Version of the knowledge base annotate interprets with")
RULESET = Info("oncorelay_ruleset", "Version of the triage rule set annotate applies")
SERVICE_INFO = Info("oncorelay_service", "Which oncorelay service this process is")

_identity = {"service": "unknown"}


def identify(service: str) -> None:
    """Record which service this process runs (labels of process-wide metrics, the `service` log field)."""
    _identity["service"] = service
    SERVICE_INFO.info({"name": service})


def service_name() -> str:
    """The service this process runs, as given to identify() ('unknown' before that)."""
    return _identity["service"]


def set_versions(kb_version: str, ruleset_version: str) -> None:
    """Export the knowledge-base and rule-set versions in use (annotate calls this after loading them)."""
    KNOWLEDGE_BASE.info({"version": kb_version})
    RULESET.info({"version": ruleset_version})


def record_produced(service: str, topic: str) -> None:
    """Count a message the broker acknowledged (called by the shared publisher, for every service alike).

    What a message means (an alert's priority, a delivery's outcome) is counted by the handler that sent it."""
    MESSAGES_PRODUCED.labels(service, topic).inc()


def set_consumer_lag(lags: dict[tuple[str, int], int]) -> None:
    """Replace the lag series with `lags` ((topic, partition) -> messages); revoked partitions disappear."""
    service = service_name()
    CONSUMER_LAG.clear()
    for (topic, partition), lag in lags.items():
        CONSUMER_LAG.labels(service, topic, str(partition)).set(max(lag, 0))


# --- per lab and assay, for drift (labels: lab and assay only; both bounded, see lab_labels) ---
LAB_RESULTS = Counter("oncorelay_lab_results_total", "Lab results ingest answered, by lab, assay and receipt status",
                      ["lab", "assay", "status"])
LAB_REJECTIONS = Counter("oncorelay_lab_rejections_total", "Rejection reasons of lab results, by lab and reason code",
                         ["lab", "reason"])
LAB_RESULT_VARIANTS = Histogram("oncorelay_lab_result_variants", "Variants (ALT alleles) per accepted result",
                                ["lab", "assay"], buckets=(10, 50, 100, 500, 1000, 5000, 20000, 100000, 1000000))
LAB_TMB = Histogram("oncorelay_lab_tmb_mutations_per_mb", "TMB oncorelay computed per result",
                    ["lab", "assay"], buckets=(1, 2, 5, 10, 15, 20, 30, 50, 100))
LAB_MEDIAN_VAF = Histogram("oncorelay_lab_median_vaf_ratio", "Median allele fraction of a result's tracked variants",
                           ["lab", "assay"], buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75))
LAB_TUMOUR_CONTENT = Histogram("oncorelay_lab_tumour_content_ratio", "Tumour cell content the lab reported",
                               ["lab", "assay"], buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9))
LAB_INTERPRETED = Counter("oncorelay_lab_interpreted_total", "Results interpreted, by lab, assay and informativeness",
                          ["lab", "assay", "informative"])
MAX_LAB_LABELS, MAX_ASSAY_LABELS = 500, 20
_seen_labs: set[str] = set()
_seen_assays: dict[str, set[str]] = {}


def lab_labels(lab: str | None, assay: str | None) -> tuple[str, str]:
    """The lab and assay as metric labels: at most MAX_LAB_LABELS labs and MAX_ASSAY_LABELS assays per lab per
    process (beyond that "other"), so a lab sending ever new names cannot blow up the series."""
    lab = (lab or "unknown")[:64]
    if lab not in _seen_labs:
        if len(_seen_labs) >= MAX_LAB_LABELS:
            return "other", "other"
        _seen_labs.add(lab)
    assays = _seen_assays.setdefault(lab, set())
    name = (assay or "unknown")[:64]
    if name not in assays:
        if len(assays) >= MAX_ASSAY_LABELS:
            return lab, "other"
        assays.add(name)
    return lab, name
