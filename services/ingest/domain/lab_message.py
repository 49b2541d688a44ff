"""First look at a raw lab message: bytes -> a valid SequencingResult or precise rejection reasons (pure)."""

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from contracts.events import RejectionReason, SequencingResult
from contracts.reasons import RejectionCode
from contracts.rejection import reason

SUPPORTED_SCHEMA_VERSIONS = ("1.0", "1.1")  # a tuple: a JSON list or object as the version must not raise
# Field names that would carry a direct identifier; their presence is a data-protection rejection,
# not a mere schema error, so the lab learns why.
_IDENTIFYING_FIELDS = {
    "name", "first_name", "last_name", "surname", "given_name", "family_name", "patient_name", "full_name",
    "birth_date", "birthdate", "date_of_birth", "dob", "ssn", "national_id", "nhs_number", "bsn", "insz",
    "niss", "address", "phone", "email", "mrn",
}


@dataclass(frozen=True)
class Intake:
    """The outcome of reading a raw message: a result, or the reasons it was refused."""

    result: SequencingResult | None
    reasons: list[RejectionReason]
    result_id: str | None = None
    lab_id: str | None = None
    case_id: str | None = None


def _identifying_keys(document: dict[str, Any]) -> list[str]:
    """Top-level keys (and keys of any top-level object such as "patient" or "specimen") that name
    a direct identifier. Legitimate fields such as assay.name are not in these places."""
    found = [key for key in document if key.lower() in _IDENTIFYING_FIELDS]
    for outer, inner in document.items():
        if isinstance(inner, dict) and outer != "assay":
            found += [f"{outer}.{key}" for key in inner if str(key).lower() in _IDENTIFYING_FIELDS]
    return sorted(found)


def read_message(raw: bytes, max_bytes: int) -> Intake:
    """Parse and validate one message from oncorelay.lab.results.v1."""
    if len(raw) > max_bytes:
        return Intake(None, [reason(RejectionCode.MESSAGE_TOO_LARGE, f"The message has {len(raw)} bytes, over {max_bytes}")])
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return Intake(None, [reason(RejectionCode.MALFORMED_JSON, f"JSON error: {error}")])
    if not isinstance(document, dict):
        return Intake(None, [reason(RejectionCode.MALFORMED_JSON, "The message is JSON but not an object")])

    ids = {k: document.get(k) if isinstance(document.get(k), str) else None for k in ("result_id", "lab_id", "case_id")}
    version = document.get("schema_version")
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        detail = f"schema_version {version!r} is not supported" if version is not None else "schema_version is missing"
        return Intake(None, [reason(RejectionCode.UNSUPPORTED_SCHEMA_VERSION, detail, "schema_version")], **ids)

    identifying = _identifying_keys(document)
    if identifying:
        detail = f"Field(s) {', '.join(identifying)} may hold direct patient identifiers and are not accepted"
        return Intake(None, [reason(RejectionCode.PATIENT_IDENTIFIER, detail, identifying[0])], **ids)

    try:
        result = SequencingResult.model_validate_json(raw)
    except ValidationError as error:
        return Intake(None, _validation_reasons(error), **ids)
    return Intake(result, [], **ids)


def _validation_reasons(error: ValidationError) -> list[RejectionReason]:
    reasons = []
    for item in error.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or None
        # Only the pseudonym rule's own failure means an identifier was sent; a missing pseudonym is a schema error.
        identifier = field == "patient_pseudonym" and item["type"] == "value_error"
        code = RejectionCode.PATIENT_IDENTIFIER if identifier else RejectionCode.SCHEMA_VIOLATION
        reasons.append(reason(code, f"{field or 'message'}: {item['msg']}", field))
    return reasons
