"""All oncorelay settings, read from ONCORELAY_* environment variables (pydantic-settings).

Defaults suit a single machine: `make up` starts Kafka on 127.0.0.1:9092 and FerretDB on
127.0.0.1:27017. Secrets (SASL password, MongoDB credentials in the URI, webhook secret) are
read from the environment only and are never logged: they are SecretStr.
"""

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import topics


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONCORELAY_", extra="ignore")

    # Kafka
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="comma-separated bootstrap servers")
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = None
    kafka_topic_partitions: int = Field(4, ge=1, description="partitions of the topics oncorelay creates")

    # MongoDB (or any MongoDB-protocol server, e.g. FerretDB). Credentials go in the URI.
    mongo_uri: SecretStr = SecretStr("mongodb://127.0.0.1:27017/?retryWrites=false")
    mongo_database: str = "oncorelay"

    # Service HTTP ports: /metrics, /healthz, /readyz (and notify's clinician API).
    ingest_port: int = 8101
    annotate_port: int = 8102
    notify_port: int = 8103
    bind_host: str = "127.0.0.1"
    data_dir: str = Field(".infra/services", description="faust's local state (one subdirectory per service)")
    log_level: Literal["crit", "error", "warn", "info", "debug"] = "warn"
    consumer_offset_reset: Literal["earliest", "latest"] = Field(
        "earliest", description="where a new consumer group starts; keep earliest in production so nothing is missed"
    )
    log_format: Literal["json", "text"] = Field("json", description="json: one object per line (for log shippers)")
    lag_interval_s: float = Field(5.0, gt=0, description="how often consumer lag is measured for /metrics")

    # Ingest
    open_enrolment: bool = Field(False, description="accept results from labs that are not registered (demos only)")
    lab_topics: str = Field("", description="comma-separated lab ids that publish on their own topic "
                            "(oncorelay.lab.<LAB>.results.v1, receipts on oncorelay.lab.<LAB>.receipts.v1); "
                            "ingest refuses their results on the shared topic")
    publish_own_topic: bool = Field(False, description="oncorelay publish/watch: send on the lab's own topic and "
                                    "read receipts there (a deployment with ONCORELAY_LAB_TOPICS)")
    max_vcf_bytes: int = Field(512 * 1024 * 1024, description="largest VCF (compressed) accepted by reference")
    max_info_bytes: int = Field(64 * 1024, description="largest INFO column of one record")
    # Bounds on what one result may make a service hold (issue 18; checked by services/ingest/adapters/vcf/limits.py).
    max_decompressed_bytes: int = Field(4 * 1024**3, gt=0, description="largest VCF once decompressed (a genome: 1-3 GiB)")
    max_inline_decompressed_bytes: int = Field(64 * 1024**2, gt=0, description="decompressed size of an inline "
                                               "VCF (at most ~0.5 MB compressed; real VCFs compress 5-15 times)")
    max_records: int = Field(10_000_000, gt=0, description="most VCF records (data lines) in one result")
    max_header_line_bytes: int = Field(1024**2, gt=0, description="longest VCF header line")
    max_header_bytes: int = Field(32 * 1024**2, gt=0, description="longest VCF header in all (GRCh38 with every contig: about 0.2 MiB)")
    max_field_bytes: int = Field(64 * 1024, gt=0, description="longest column of a record other than INFO (FORMAT, a sample's values, ALT...)")
    max_message_attempts: int = Field(3, ge=1, description="times a message may stop a service (crash, OOM kill) before it goes to the DLQ")
    reference_timeout_s: float = Field(30.0, description="time allowed to fetch a by-reference VCF")
    reference_sources: str = Field("", description="comma-separated URL prefixes (file:///DIR/, https://HOST/PATH/) "
                                   "any lab's by-reference VCFs may be read from, besides each lab's registered ones")
    reference_allowed_networks: str = Field("", description="comma-separated CIDRs a by-reference https source may "
                                            "resolve to although loopback, private or link-local")

    # Annotate
    civic_downloads_url: str = Field("https://civicdb.org/downloads/", description="where `oncorelay kb update` "
                                     "downloads CIViC releases (<url>/<release>/<release>-<Kind>.tsv)")
    civic_download_max_bytes: int = Field(512 * 1024**2, gt=0, description="largest CIViC export file downloaded")
    ctdna_rise_factor: float = Field(2.0, gt=1.0, description="VAF rise between plasma specimens that alerts")
    kb_refresh_s: float = Field(30.0, gt=0, description="how often annotate looks for a newly imported knowledge "
                                "base (then re-tiers the stored results)")
    # QC of a result (schema 1.1 `qc`): below a threshold the result is non-informative, never report-ready
    # (services/annotate/domain/qc.py says where each default comes from); empty = not judged
    qc_min_tumour_cell_content: float | None = Field(0.2, ge=0, le=1, description="tissue: lowest tumour cell content")
    qc_min_ctdna_tumour_fraction: float | None = Field(0.01, ge=0, le=1, description="plasma: lowest ctDNA tumour fraction")
    qc_min_median_target_depth: float | None = Field(None, ge=0, description="lowest median target depth (x)")
    rules_file: str | None = Field(None, description="triage rule set (YAML); default: the built-in set")

    # Notify
    webhook_urls: str = Field("", description="comma-separated URLs that receive every alert as JSON")
    webhook_secret: SecretStr = SecretStr("change-me")
    webhook_allowed_networks: str = Field("", description="comma-separated CIDRs a team's webhook may resolve to "
                                          "although loopback, private or link-local (ONCORELAY_WEBHOOK_URLS are "
                                          "the operator's own and not limited)")
    delivery_max_attempts: int = Field(6, ge=1)
    delivery_base_delay_s: float = Field(0.5, gt=0)
    delivery_max_delay_s: float = Field(30.0, gt=0)
    delivery_timeout_s: float = Field(5.0, gt=0)
    # Notify: clinician API, background delivery, escalation, e-mail (issue #4)
    notify_api_port: int = Field(8104, description="clinician API and SSE stream of the notify service")
    ingest_api_port: int = Field(8105, description="the lab-facing HTTP door of ingest (POST/GET /api/v1/results)")
    lab_api_rate_per_s: float = Field(2.0, gt=0, description="requests per second one lab token may make on average")
    lab_api_burst: float = Field(20.0, ge=1, description="requests one lab token may make at once")
    delivery_poll_s: float = Field(1.0, gt=0, description="how often due deliveries are looked for (new ones wake it at once)")
    delivery_lease_s: float = Field(60.0, gt=0, description="a claimed delivery not finished by then is retried by anyone")
    delivery_concurrency: int = Field(32, ge=1, description="deliveries in flight at once per notify process")
    escalation_after_s: float = Field(900.0, gt=0, description="urgent alerts unacknowledged this long go to the next contact")
    escalation_check_s: float = Field(5.0, gt=0, description="how often overdue urgent alerts are looked for")
    stream_heartbeat_s: float = Field(15.0, gt=0, description="SSE comment sent when no event was sent for this long")
    case_link_base: str = Field("http://127.0.0.1:8104/cases/", description="link in messages: <base><case_id>")
    followup_after_s: float = Field(42 * 86400.0, gt=0, description="a decision recommending a therapy asks this "
                                    "long after it was signed off whether the therapy was started (default 6 weeks)")
    board_metrics_s: float = Field(60.0, gt=0, description="how often notify recomputes the per-site board metrics")
    session_ttl_s: float = Field(8 * 3600.0, gt=0, le=30 * 86400,
                                 description="a workspace sign-in lasts this long (the cookie expires with it)")
    session_cookie_secure: bool = Field(False, description="mark the session cookie Secure (set when the workspace "
                                        "is served over HTTPS, e.g. behind a TLS proxy)")
    oncotree_file: str | None = Field(None, description="a newer OncoTree release JSON for subscription matching (default: the shipped 2025-10-03 table)")
    smtp_host: str | None = Field(None, description="SMTP server for e-mail alerts; unset = e-mail channel fails")
    smtp_port: int = 25
    smtp_from: str = "oncorelay@localhost"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: Literal["auto", "always", "never"] = Field("auto", description="auto: STARTTLS when offered")
    smtp_ca_file: str | None = Field(None, description="CA bundle to verify the SMTP server (default: system CAs)")
    notify_group_id: str | None = Field(None, description="notify's Kafka consumer group (default oncorelay-notify)")

    # Data protection (issue #6): raw VCF payloads are deleted after this time; results,
    # interpretations and the audit trail are kept.
    payload_retention_days: float = Field(90.0, gt=0, description="days a raw VCF payload is kept in vcf_payloads")
    payload_retention_check_s: float = Field(3600.0, gt=0, description="how often ingest deletes expired payloads")

    @field_validator("lab_topics")
    @classmethod
    def _topic_safe_lab_ids(cls, value: str) -> str:
        for lab_id in filter(None, (x.strip() for x in value.split(","))):
            if not topics.LAB_TOPIC_ID.fullmatch(lab_id):
                raise ValueError(f"{lab_id!r} cannot name a Kafka topic: use letters, digits, '.', '_' and '-'")
        return value

    def own_topic_labs(self) -> frozenset[str]:
        """The labs that publish on their own topics (ONCORELAY_LAB_TOPICS)."""
        return frozenset(x.strip() for x in self.lab_topics.split(",") if x.strip())

    def webhook_targets(self) -> list[str]:
        return [x.strip() for x in self.webhook_urls.split(",") if x.strip()]


def load_settings() -> Settings:
    """Settings from the environment (a new object each call, so tests can change the environment)."""
    return Settings()
