"""All oncorelay settings, read from ONCORELAY_* environment variables (pydantic-settings).

Defaults suit a single machine: `make up` starts Kafka on 127.0.0.1:9092 and FerretDB on
127.0.0.1:27017. Secrets (SASL password, MongoDB credentials in the URI, webhook secret) are
read from the environment only and are never logged: they are SecretStr.
"""

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    # Ingest
    known_labs: str = Field("", description="comma-separated lab ids allowed to publish; empty = any lab")
    max_vcf_bytes: int = Field(512 * 1024 * 1024, description="largest VCF (compressed) accepted by reference")
    max_info_bytes: int = Field(64 * 1024, description="largest INFO column of one record")
    reference_timeout_s: float = Field(30.0, description="time allowed to fetch a by-reference VCF")

    # Annotate
    ctdna_rise_factor: float = Field(2.0, gt=1.0, description="VAF rise between plasma specimens that alerts")
    rules_file: str | None = Field(None, description="triage rule set (YAML); default: the built-in set")

    # Notify
    webhook_urls: str = Field("", description="comma-separated URLs that receive every alert as JSON")
    webhook_secret: SecretStr = SecretStr("change-me")
    delivery_max_attempts: int = Field(6, ge=1)
    delivery_base_delay_s: float = Field(0.5, gt=0)
    delivery_max_delay_s: float = Field(30.0, gt=0)
    delivery_timeout_s: float = Field(5.0, gt=0)

    def lab_allowlist(self) -> frozenset[str]:
        """Labs allowed to publish; empty means every lab is accepted."""
        return frozenset(x.strip() for x in self.known_labs.split(",") if x.strip())

    def webhook_targets(self) -> list[str]:
        return [x.strip() for x in self.webhook_urls.split(",") if x.strip()]


def load_settings() -> Settings:
    """Settings from the environment (a new object each call, so tests can change the environment)."""
    return Settings()
