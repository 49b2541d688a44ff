"""Kafka TLS/SASL settings become the right client options (aiokafka and faust), and secrets never show in
repr(settings) or in logs. No broker is needed: only the options handed to the clients are checked."""

import io
import json
import logging
import ssl

import pytest
import trustme
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from services.common.kafka import aiokafka_options
from services.common.logging import JsonFormatter, TextFormatter
from services.common.service import faust_credentials
from services.common.settings import Settings

PASSWORD = "s3cret-Kafka-pw-91"
MONGO_PASSWORD = "s3cret-Mongo-pw-17"
WEBHOOK_SECRET = "s3cret-webhook-55"


@pytest.fixture
def ca_file(tmp_path):
    path = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


def settings_from_env(monkeypatch, **values: str) -> Settings:
    """Settings as a service reads them: from ONCORELAY_* environment variables only."""
    for name, value in values.items():
        monkeypatch.setenv(f"ONCORELAY_{name.upper()}", value)
    return Settings()


def test_plaintext_has_no_tls_and_no_sasl(monkeypatch):
    settings = settings_from_env(monkeypatch, kafka_bootstrap="k1:9092,k2:9092")
    assert aiokafka_options(settings) == {"bootstrap_servers": "k1:9092,k2:9092", "security_protocol": "PLAINTEXT"}
    assert faust_credentials(settings) is None


def test_tls_verifies_the_broker_with_the_configured_ca(monkeypatch, ca_file):
    settings = settings_from_env(monkeypatch, kafka_security_protocol="SSL", kafka_ssl_cafile=ca_file)
    options = aiokafka_options(settings)
    assert options["security_protocol"] == "SSL"
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert len(context.get_ca_certs()) == 1  # the configured CA, not only the system store
    faust_options = credentials_to_aiokafka_auth(faust_credentials(settings))
    assert faust_options["security_protocol"] == "SSL"
    assert faust_options["ssl_context"].verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_over_tls_passes_mechanism_user_and_password(monkeypatch, ca_file, mechanism):
    settings = settings_from_env(
        monkeypatch, kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism=mechanism,
        kafka_sasl_username="oncorelay-ingest", kafka_sasl_password=PASSWORD, kafka_ssl_cafile=ca_file,
    )
    options = aiokafka_options(settings)
    assert (options["security_protocol"], options["sasl_mechanism"]) == ("SASL_SSL", mechanism)
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("oncorelay-ingest", PASSWORD)
    assert options["ssl_context"].verify_mode == ssl.CERT_REQUIRED

    faust_options = credentials_to_aiokafka_auth(faust_credentials(settings))
    assert faust_options["security_protocol"] == "SASL_SSL"
    assert faust_options["sasl_mechanism"] == mechanism
    assert (faust_options["sasl_plain_username"], faust_options["sasl_plain_password"]) == ("oncorelay-ingest", PASSWORD)
    assert faust_options["ssl_context"] is not None


def test_sasl_without_tls_defaults_to_plain_mechanism(monkeypatch):
    settings = settings_from_env(monkeypatch, kafka_security_protocol="SASL_PLAINTEXT",
                                 kafka_sasl_username="u", kafka_sasl_password=PASSWORD)
    options = aiokafka_options(settings)
    assert options["security_protocol"] == "SASL_PLAINTEXT" and options["sasl_mechanism"] == "PLAIN"
    assert "ssl_context" not in options
    faust_options = credentials_to_aiokafka_auth(faust_credentials(settings))
    assert (faust_options["security_protocol"], faust_options["ssl_context"]) == ("SASL_PLAINTEXT", None)


def test_mongodb_uri_with_credentials_reaches_the_client(monkeypatch):
    uri = f"mongodb://oncorelay:{MONGO_PASSWORD}@db.example:27017/oncorelay?authSource=admin&tls=true"
    settings = settings_from_env(monkeypatch, mongo_uri=uri)
    assert settings.mongo_uri.get_secret_value() == uri


def _secret_settings(monkeypatch, ca_file) -> Settings:
    return settings_from_env(
        monkeypatch, kafka_security_protocol="SASL_SSL", kafka_sasl_username="u", kafka_sasl_password=PASSWORD,
        kafka_ssl_cafile=ca_file, mongo_uri=f"mongodb://oncorelay:{MONGO_PASSWORD}@db:27017/",
        webhook_secret=WEBHOOK_SECRET, smtp_password=PASSWORD,
    )


def test_secrets_never_appear_in_repr_str_or_dumps(monkeypatch, ca_file):
    settings = _secret_settings(monkeypatch, ca_file)
    shown = [repr(settings), str(settings), settings.model_dump_json(), json.dumps(settings.model_dump(), default=str),
             repr(faust_credentials(settings))]
    for text in shown:
        for secret in (PASSWORD, MONGO_PASSWORD, WEBHOOK_SECRET):
            assert secret not in text


@pytest.mark.parametrize("formatter", [JsonFormatter("ingest"), TextFormatter("ingest")])
def test_secrets_never_appear_in_logs(monkeypatch, ca_file, formatter):
    settings = _secret_settings(monkeypatch, ca_file)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("oncorelay.test-secrets")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("starting with %s", settings)
        logger.warning("credentials %r", faust_credentials(settings))
        logger.warning("settings", extra={"status": settings.mongo_uri, "channel": settings.kafka_sasl_password})
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert text.count("\n") == 3
    for secret in (PASSWORD, MONGO_PASSWORD, WEBHOOK_SECRET):
        assert secret not in text
