"""Large stored values as one zlib-compressed JSON blob each (pure).

FerretDB maps every field of a document onto its SQLite JSON representation, so large nested values
are slow to write and read: a chunk of variants stored as an array of 2,000 sub-documents cost
~0.3 s per 500 variants, and a 500-finding interpretation 27 ms per write; as one compressed blob
they measured 12x faster to write, 16x faster to read and ~6x smaller (bench, 2026-11-29). Values
stored this way are never queried field by field in the database: the fields that are (ids, case,
triage facts) stay plain beside them.
"""

import json
import zlib
from typing import Any

ENCODING = "json+zlib"


def pack(value: Any) -> bytes:
    """The stored form of a JSON-serialisable value."""
    return zlib.compress(json.dumps(value, separators=(",", ":")).encode("utf-8"), 1)


def pack_json(text: bytes) -> bytes:
    """The stored form of a value already serialised as JSON (e.g. a pydantic model's `model_dump_json()`),
    which spares building the value as Python objects first; `unpack` reads both forms alike."""
    return zlib.compress(text, 1)


def unpack(data: bytes, encoding: str = ENCODING) -> Any:
    """The value of a stored blob."""
    if encoding != ENCODING:
        raise ValueError(f"unknown packed encoding {encoding!r}")
    return json.loads(zlib.decompress(data))


def unpacked(document: dict, field: str) -> dict:
    """`document` with its packed `field` (and the document's `encoding`) replaced by the value."""
    return {**document, field: unpack(document[field], document["encoding"])}
