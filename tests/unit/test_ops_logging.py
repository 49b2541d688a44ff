"""Structured logs: one JSON object per line, correlation ids kept, patient data never written."""

import io
import json
import logging
import logging.config

from services.common.logging import JsonFormatter, TextFormatter, correlate, logging_config


def emit(formatter: logging.Formatter, message: str, *args, exc: BaseException | None = None, **extra) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("oncorelay.test-ops-logging")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    if exc is not None:
        try:
            raise exc
        except type(exc):
            logger.exception(message, *args, extra=extra)
    else:
        logger.warning(message, *args, extra=extra)
    return stream.getvalue()


def test_json_line_has_time_level_service_logger_message_and_correlation_ids():
    out = emit(JsonFormatter("ingest"), "result %s rejected", "R-1",
               result_id="R-1", result_key="R-1@2", case_id="CASE-9", alert_id="A-3", reasons=["vcf_truncated"])
    assert out.count("\n") == 1
    line = json.loads(out)
    assert line["level"] == "warning" and line["service"] == "ingest"
    assert line["logger"] == "oncorelay.test-ops-logging" and line["message"] == "result R-1 rejected"
    assert line["time"].endswith("+00:00")
    assert (line["result_id"], line["result_key"], line["case_id"], line["alert_id"]) == ("R-1", "R-1@2", "CASE-9", "A-3")
    assert line["reasons"] == ["vcf_truncated"]


def test_patient_pseudonym_in_extra_never_reaches_the_log():
    for formatter in (JsonFormatter("ingest"), TextFormatter("ingest")):
        out = emit(formatter, "stored", result_id="R-1", patient_pseudonym="PSN-7781", specimen={"id": "SP-1"})
        assert "PSN-7781" not in out and "patient" not in out and "SP-1" not in out
        assert "R-1" in out


def test_exception_keeps_type_and_stack_but_not_the_message_that_may_quote_input():
    out = emit(JsonFormatter("notify"), "delivery failed", exc=ValueError("patient PSN-7781 is invalid"), alert_id="A-1")
    line = json.loads(out)
    assert line["error"] == "ValueError" and "test_ops_logging.py" in line["stack"]
    assert "PSN-7781" not in out


def test_text_format_is_readable_with_ids_appended():
    out = emit(TextFormatter("annotate"), "annotated", case_id="CASE-1")
    assert "WARNING" in out and "annotated" in out and out.rstrip().endswith("[case_id=CASE-1]")


def test_dict_config_installs_the_formatter_without_disabling_module_loggers(capsys):
    early = logging.getLogger("oncorelay.created-before-config")
    logging.config.dictConfig(logging_config("annotate", "info", "json"))
    try:
        early.info("kb loaded", extra={"case_id": "CASE-2"})
        line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert line == {**line, "service": "annotate", "message": "kb loaded", "case_id": "CASE-2", "level": "info"}
        early.debug("not at info level")
        assert capsys.readouterr().out == ""
    finally:
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
        logging.root.handlers.clear()


def test_lines_logged_while_handling_a_message_carry_its_ids():
    with correlate(result_id="R-5", case_id="CASE-5", patient_pseudonym="PSN-9"):
        inside = json.loads(emit(JsonFormatter("annotate"), "annotating"))
        nested = json.loads(emit(JsonFormatter("annotate"), "alert raised", alert_id="A-5"))
    after = json.loads(emit(JsonFormatter("annotate"), "idle"))
    assert (inside["result_id"], inside["case_id"]) == ("R-5", "CASE-5") and "patient_pseudonym" not in inside
    assert (nested["case_id"], nested["alert_id"]) == ("CASE-5", "A-5")
    assert "result_id" not in after and "case_id" not in after
