"""Fakes of annotate's ports (services.annotate.ports)."""

import copy
import json
from collections.abc import AsyncIterator

from contracts.variant import Variant
from services.annotate.domain.knowledge import KnowledgeBase
from services.annotate.ports import Document
from services.common import packed
from services.common.offload import Runner
from tests.fakes.faults import Faults


class FakeAnnotationStore:
    """The VariantSource, PatientHistoryStore and InterpretationStore ports in memory."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.variants: dict[str, list[list[Variant]]] = {}  # result key -> chunks, as ingest stored them
        self.specimens: dict[str, Document] = {}
        self.patient_index: dict[str, list[str]] = {}
        self.interpretations: dict[str, Document] = {}  # the stored document, `interpretation` as plain JSON

    async def variant_chunks(self, result_key: str, variant_count: int, run: Runner) -> AsyncIterator[list[Variant]]:
        chunks = self.variants.get(result_key, [])
        if sum(map(len, chunks)) != variant_count:
            raise LookupError(f"variant chunks of {result_key} are missing")
        for chunk in chunks:
            yield list(chunk)

    async def specimen_history(self, patient: str, exclude_result_key: str) -> list[Document]:
        latest: dict[str, Document] = {}
        for key in self.patient_index.get(patient, []):
            document = self.specimens.get(key)
            if key == exclude_result_key or document is None:
                continue
            held = latest.get(document["result_id"])
            if held is None or document["result_version"] > held["result_version"]:
                latest[document["result_id"]] = copy.deepcopy(document)
        return sorted(latest.values(), key=lambda d: (d["collected_on"], d["result_id"]))

    async def save_specimen(self, result_key: str, document: Document) -> None:
        self.faults.write("patient_specimens")
        self.specimens[result_key] = copy.deepcopy(document)
        self.faults.write("patient_index")
        listed = self.patient_index.setdefault(document["patient_pseudonym"], [])
        if result_key not in listed:
            listed.append(result_key)

    async def save_interpretation_once(self, result_key: str, document: Document,
                                       interpretation_json: bytes) -> Document | None:
        if result_key in self.interpretations:
            return await self.interpretation(result_key)
        self.faults.write("interpretations")
        self.interpretations[result_key] = {"_id": result_key, **copy.deepcopy(document),
                                            "interpretation": json.loads(interpretation_json)}
        return None

    async def interpretation(self, key: str) -> Document | None:
        stored = self.interpretations.get(key)
        return copy.deepcopy(stored["interpretation"]) if stored else None

    async def previous_interpretation(self, result_id: str, before_version: int) -> Document | None:
        for version in range(before_version - 1, 0, -1):
            if stored := await self.interpretation(f"{result_id}@{version}"):
                return stored
        return None

    async def interpretations_to_retier(self, kb_version: str) -> AsyncIterator[Document]:
        for document in list(self.interpretations.values()):
            if "event" not in document or document["kb_version"] == kb_version \
                    or document.get("retier_failed") == kb_version:
                continue
            newer = [d for d in self.interpretations.values()
                     if d["result_id"] == document["result_id"] and d["result_version"] > document["result_version"]]
            if not newer:
                # as the adapter hands it out: the Interpretation packed, read back with packed.unpack
                yield {**copy.deepcopy(document), "encoding": packed.ENCODING,
                       "interpretation": packed.pack_json(json.dumps(document["interpretation"]).encode())}

    async def replace_interpretation(self, result_key: str, document: Document, interpretation_json: bytes) -> None:
        self.faults.write("interpretations.replace")
        self.interpretations[result_key].update(copy.deepcopy(document), interpretation=json.loads(interpretation_json))

    async def mark_retier_failed(self, result_key: str, kb_version: str) -> None:
        self.faults.write("interpretations.retier_failed")
        self.interpretations[result_key]["retier_failed"] = kb_version


class FakeKnowledgeStore:
    """The KnowledgeStore port: the knowledge base a test has "imported" (None: nothing stored)."""

    def __init__(self, stored: KnowledgeBase | None = None) -> None:
        self.stored = stored

    async def stored_version(self) -> str | None:
        return self.stored.version if self.stored else None

    async def load(self) -> KnowledgeBase:
        return self.stored or KnowledgeBase.build()
