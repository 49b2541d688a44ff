"""What annotate's handler needs from the world (typing.Protocol interfaces; MongoDB adapters in
services.annotate.adapters, in-memory fakes in tests/fakes/annotate.py). Shared ports (publishing, the clock, the
case record) are in services.common.ports.
"""

from collections.abc import AsyncIterator
from typing import Any, Protocol

from contracts.variant import Variant
from services.annotate.domain.knowledge import KnowledgeBase
from services.common.offload import Runner

Document = dict[str, Any]


class VariantSource(Protocol):
    """The variants ingest stored for a result."""

    def variant_chunks(self, result_key: str, variant_count: int, run: Runner) -> AsyncIterator[list[Variant]]:
        """The result's variants, one stored chunk at a time, in file order (each decoded by `run`)."""
        ...


class PatientHistoryStore(Protocol):
    """Each patient's specimens over time: what longitudinal ctDNA calls compare with."""

    async def specimen_history(self, patient: str, exclude_result_key: str) -> list[Document]:
        """Earlier specimens of a patient (latest version of each result), oldest first."""
        ...

    async def save_specimen(self, result_key: str, document: Document) -> None:
        """Store (or replace) a specimen's observation and list it under its patient."""
        ...


class InterpretationStore(Protocol):
    """Interpretations by result key: the first one stored stands, a re-tier replaces it."""

    async def save_interpretation_once(self, result_key: str, document: Document,
                                       interpretation_json: bytes) -> Document | None:
        """Store the first interpretation of a result; None when this one was stored, else the earlier one."""
        ...

    async def interpretation(self, key: str) -> Document | None:
        """The stored interpretation (the Interpretation model's JSON) of result `key`, if any."""
        ...

    async def previous_interpretation(self, result_id: str, before_version: int) -> Document | None:
        """The stored interpretation of the highest version of `result_id` below `before_version`."""
        ...

    def interpretations_to_retier(self, kb_version: str) -> AsyncIterator[Document]:
        """Stored interpretations made with another knowledge base (latest version of each result)."""
        ...

    async def replace_interpretation(self, result_key: str, document: Document, interpretation_json: bytes) -> None:
        """Store a re-tiered interpretation in place of the earlier one."""
        ...

    async def mark_retier_failed(self, result_key: str, kb_version: str) -> None:
        """Remember that re-tiering this result with `kb_version` failed."""
        ...


class AnnotationStore(VariantSource, PatientHistoryStore, InterpretationStore, Protocol):
    """The three stores annotate reads and writes per result (one adapter implements them together)."""


class KnowledgeStore(Protocol):
    """The knowledge base as stored (`oncorelay kb import-civic` writes it)."""

    async def stored_version(self) -> str | None:
        """The version of the stored knowledge base (None: nothing stored, the built-in set applies)."""
        ...

    async def load(self) -> KnowledgeBase:
        """The stored knowledge base (CIViC records included), or the built-in set."""
        ...
