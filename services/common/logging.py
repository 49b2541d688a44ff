"""Structured logs: one JSON object per line (or readable text), with correlation ids and no patient data.

A record's `extra` may carry correlation ids (result_id, result_key, case_id, alert_id) and a few
operational fields; only names on the allow-lists below are ever written, so a
`patient_pseudonym` passed by mistake never reaches a log. Exception *messages* are left out of
JSON logs too (a validation error quotes the input it refused); the type and the stack are kept.

faust configures logging itself when its worker starts, so the services hand this module's
dictConfig to the app (`logging_config` setting) instead of configuring the root logger directly.
"""

import json
import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from services.common import metrics

# Ids that tie a log line to a result, case or alert; none of them identifies a patient.
CORRELATION_FIELDS = ("result_id", "result_key", "case_id", "alert_id")
# Other `extra` fields worth keeping: codes and positions, never free text from a lab.
OPERATIONAL_FIELDS = (
    "reasons", "stage", "topic", "partition", "offset", "attempts", "channel", "status", "delivery_id",
    "kb_version", "ruleset_version", "count",
)
# Never written, even if a caller passes them (documentation of intent; the allow-lists enforce it).
FORBIDDEN_FIELDS = ("patient_pseudonym", "patient", "specimen")

# Correlation ids of the message the current task is handling (see `correlate`).
_context: ContextVar[dict[str, str] | None] = ContextVar("oncorelay_log_context", default=None)

_LEVELS = {"crit": "CRITICAL", "error": "ERROR", "warn": "WARNING", "info": "INFO", "debug": "DEBUG"}


@contextmanager
def correlate(**ids: str | None) -> Iterator[None]:
    """Within the block, every log line of this task carries these ids (only CORRELATION_FIELDS).

    Each service's handler wraps one message in it once it knows the message's ids.
    """
    kept = {k: v for k, v in ids.items() if k in CORRELATION_FIELDS and v is not None}
    token = _context.set({**(_context.get() or {}), **kept})
    try:
        yield
    finally:
        _context.reset(token)


def _allowed_extra(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = dict(_context.get() or {})
    for name in CORRELATION_FIELDS + OPERATIONAL_FIELDS:
        value = record.__dict__.get(name)
        if value is not None:
            fields[name] = value if isinstance(value, (str, int, float, bool, list)) else str(value)
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, service, logger, message, correlation ids, exception."""

    def __init__(self, service: str | None = None) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single line of JSON."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service or metrics.service_name(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_allowed_extra(record))
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__
            line["stack"] = "".join(traceback.format_tb(record.exc_info[2]))
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Readable lines for a terminal: time, level, logger, message, then the correlation ids."""

    def __init__(self, service: str | None = None) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        """The record as text with `key=value` correlation ids appended."""
        text = super().format(record)
        extra = " ".join(f"{k}={v}" for k, v in _allowed_extra(record).items())
        return f"{text} [{extra}]" if extra else text


def level_name(level: str) -> str:
    """The logging module's name for a Settings log_level ('warn' -> 'WARNING')."""
    return _LEVELS.get(level, level.upper())


def logging_config(service: str, level: str, fmt: str) -> dict:
    """A logging.config.dictConfig for one service: `fmt` is 'json' or 'text', `level` a Settings log_level."""
    formatter = JsonFormatter if fmt == "json" else TextFormatter
    level = level_name(level)
    return {
        "version": 1,
        "disable_existing_loggers": False,  # module loggers are created at import time, before this runs
        "formatters": {"oncorelay": {"()": f"{formatter.__module__}.{formatter.__qualname__}", "service": service}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "oncorelay",
                "stream": "ext://sys.stdout",
                "level": level,
            }
        },
        "root": {"level": level, "handlers": ["default"]},
    }
