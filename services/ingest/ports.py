"""What ingest's handlers need from the world (typing.Protocol interfaces; adapters in services.ingest.adapters,
in-memory fakes in tests/fakes/ingest.py). Shared ports (publishing, the clock, the case record) are in
services.common.ports.
"""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from contracts.events import SequencingResult
from contracts.registry import Lab

Document = dict[str, Any]


class ResultStore(Protocol):
    """Accepted results, their variants (packed chunks) and raw VCF payloads; every write idempotent."""

    async def latest_result(self, result_id: str) -> Document | None:
        """The accepted version of `result_id` with the highest result_version, if any."""
        ...

    async def record_head(self, result_id: str, version: int) -> None:
        """Remember `version` as the latest accepted one of `result_id` unless a later one is."""
        ...

    async def save_variant_chunks(self, key: str, case_id: str, first_chunk: int, chunks: list[bytes]) -> None:
        """Write packed chunks of one result from chunk number `first_chunk` on; a rewrite replaces them."""
        ...

    async def delete_chunks(self, key: str, count: int) -> None:
        """Remove the first `count` chunks of `key` (written by an attempt whose VCF was then rejected)."""
        ...

    async def save_payload(self, key: str, path: Path) -> None:
        """Keep the raw (compressed) VCF for audit until the retention job deletes it."""
        ...

    async def save_result(self, key: str, document: Document) -> None:
        """Store (or replace) the accepted result `key`."""
        ...

    async def delete_payloads_stored_before(self, cutoff: datetime) -> int:
        """Delete raw payloads stored before `cutoff`; how many were deleted."""
        ...

    async def save_receipt(self, key: str, document: Document) -> None:
        """Store (or replace, when a repeat re-sends it) the receipt of one lab message under `key`."""
        ...

    async def receipts(self, lab_id: str, status: str | None = None, limit: int = 50) -> list[Document]:
        """The lab's receipts, newest first (only `status` when given)."""
        ...

    async def receipts_of(self, result_id: str) -> list[Document]:
        """Every receipt of one result id, oldest first."""
        ...


class LabRegistry(Protocol):
    """Registered labs as ingest sees them."""

    async def get(self, lab_id: str) -> Lab | None:
        """The registration of `lab_id`, None when it is not registered."""
        ...


class VcfFiles(Protocol):
    """Where a result's VCF comes from: inline in the message, or by reference from an allowed source."""

    async def materialise(self, result: SequencingResult, lab: Lab | None) -> Path:
        """A local copy of the result's VCF with its checksum verified (raises VcfRejected with the reason)."""
        ...


class ParsedVcf(Protocol):
    """A VCF being read: its tumour sample and header summary, and its variants packed in chunks."""

    tumour_sample: str | None
    header_summary: Document

    def batches(self) -> AsyncIterator[tuple[int, list[bytes]]]:
        """(variants read, packed chunks) per database round trip, in file order (raises VcfRejected)."""
        ...


class VcfReader(Protocol):
    """Opens a local VCF of a result within the configured limits."""

    def open(self, path: Path, result: SequencingResult) -> AbstractAsyncContextManager[ParsedVcf]:
        """The parsed VCF while the context is open (raises VcfRejected for a file that breaks a limit)."""
        ...


class LabTokens(Protocol):
    """Labs' API tokens for the HTTP door (only the sha256 of a token is kept)."""

    async def issue(self, lab_id: str, label: str = "") -> str:
        """A new token of the lab, returned once."""
        ...

    async def lab_of(self, token: str) -> str | None:
        """The lab a token belongs to; None for an unknown or revoked one."""
        ...
