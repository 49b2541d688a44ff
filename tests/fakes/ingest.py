"""Fakes of ingest's ports (services.ingest.ports)."""

import copy
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from contracts.events import SequencingResult
from contracts.reasons import RejectionCode
from contracts.registry import Lab
from services.common.keys import result_key
from services.ingest.domain.rejection import VcfRejected
from services.ingest.ports import Document
from tests.fakes.common import FixedClock
from tests.fakes.faults import Faults


class FakeResultStore:
    """The ResultStore port in memory."""

    def __init__(self, faults: Faults, clock: FixedClock) -> None:
        self.faults = faults
        self.clock = clock
        self.results: dict[str, Document] = {}
        self.heads: dict[str, int] = {}
        self.chunks: dict[tuple[str, int], tuple[str, bytes]] = {}
        self.payloads: dict[str, tuple[bytes, datetime]] = {}
        self.receipts_by_key: dict[str, Document] = {}

    async def latest_result(self, result_id: str) -> Document | None:
        version = self.heads.get(result_id)
        held = self.results.get(result_key(result_id, version)) if version is not None else None
        return copy.deepcopy(held) if held is not None else None

    async def record_head(self, result_id: str, version: int) -> None:
        self.faults.write("result_heads")
        self.heads[result_id] = max(version, self.heads.get(result_id, version))

    async def save_variant_chunks(self, key: str, case_id: str, first_chunk: int, chunks: list[bytes]) -> None:
        if chunks:
            self.faults.write("variants")
        for i, chunk in enumerate(chunks):
            self.chunks[(key, first_chunk + i)] = (case_id, chunk)

    async def delete_chunks(self, key: str, count: int) -> None:
        for chunk in range(count):
            self.faults.write("variants.delete")
            self.chunks.pop((key, chunk), None)

    async def save_payload(self, key: str, path: Path) -> None:
        self.faults.write("vcf_payloads")
        self.payloads[key] = (path.read_bytes(), self.clock())

    async def save_result(self, key: str, document: Document) -> None:
        self.faults.write("results")
        self.results[key] = {"_id": key, **copy.deepcopy(document)}

    async def save_receipt(self, key: str, document: Document) -> None:
        self.faults.write("receipts")
        self.receipts_by_key[key] = {"_id": key, **copy.deepcopy(document)}

    async def receipts(self, lab_id: str, status: str | None = None, limit: int = 50) -> list[Document]:
        found = [r for r in self.receipts_by_key.values() if r.get("lab_id") == lab_id
                 and (status is None or r["status"] == status)]
        return copy.deepcopy(sorted(found, key=lambda r: r["received_at"], reverse=True)[:limit])

    async def receipts_of(self, result_id: str) -> list[Document]:
        found = [r for r in self.receipts_by_key.values() if r.get("result_id") == result_id]
        return copy.deepcopy(sorted(found, key=lambda r: r["received_at"]))

    async def delete_payloads_stored_before(self, cutoff: datetime) -> int:
        expired = [key for key, (_, stored_at) in self.payloads.items() if stored_at < cutoff]
        if expired:
            self.faults.write("vcf_payloads.delete")
        for key in expired:
            del self.payloads[key]
        return len(expired)


class FakeLabRegistry:
    """The LabRegistry port: the labs a test registers."""

    def __init__(self, *labs: Lab) -> None:
        self.labs = {lab.lab_id: lab for lab in labs}

    async def get(self, lab_id: str) -> Lab | None:
        return self.labs.get(lab_id)


class FakeVcfFiles:
    """The VcfFiles port: writes a few bytes standing for the VCF to a temporary file (or refuses the result)."""

    def __init__(self, directory: Path, refuse: VcfRejected | None = None) -> None:
        self.directory = directory
        self.refuse = refuse

    async def materialise(self, result: SequencingResult, lab: Lab | None) -> Path:
        if self.refuse is not None:
            raise self.refuse
        handle, name = tempfile.mkstemp(prefix="result-", suffix=".vcf.gz", dir=self.directory)
        with open(handle, "wb") as out:
            out.write(f"VCF of {result.result_id}".encode())
        return Path(name)


class FakeParsedVcf:
    def __init__(self, batches: list[tuple[int, list[bytes]]], reject_after: int | None) -> None:
        self.tumour_sample: str | None = "TUMOR"
        self.header_summary: Document = {"samples": ["TUMOR"], "tumour_sample": "TUMOR"}
        self._batches = batches
        self._reject_after = reject_after

    async def batches(self) -> AsyncIterator[tuple[int, list[bytes]]]:
        for n, batch in enumerate(self._batches):
            if n == self._reject_after:
                raise VcfRejected(RejectionCode.VCF_TRUNCATED, "the file ends inside a record (cut off in transfer?)")
            yield batch


class FakeVcfReader:
    """The VcfReader port: hands out the batches a test sets (and rejects the file after `reject_after` of them)."""

    def __init__(self, batches: list[tuple[int, list[bytes]]], reject_after: int | None = None) -> None:
        self.batches = batches
        self.reject_after = reject_after
        self.opened: list[Path] = []

    @asynccontextmanager
    async def open(self, path: Path, result: SequencingResult) -> AsyncIterator[FakeParsedVcf]:
        assert path.is_file(), "the handler opens the file it materialised"
        self.opened.append(path)
        yield FakeParsedVcf(self.batches, self.reject_after)


class FakeLabTokens:
    """The LabTokens port: tokens a test issues, by value."""

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}

    async def issue(self, lab_id: str, label: str = "") -> str:
        token = f"orl_lab_test_{len(self.tokens)}_{lab_id}"
        self.tokens[token] = lab_id
        return token

    async def lab_of(self, token: str) -> str | None:
        return self.tokens.get(token)
