"""A result's VCF as ingest reads it: materialised as a local file (inline or by reference) and parsed within the
limits into packed chunks of variants (the VcfFiles and VcfReader ports).

Size matters here: a file up to SMALL_VCF_BYTES (a panel: about 500 variants are 90 KB gzipped) holding up to
SMALL_VCF_TEXT_BYTES of text is parsed on the event loop, a larger one in a worker thread
(services.common.offload); the next batch is read and packed while the caller writes the previous one.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import Any

from contracts.events import InlineVcf, SequencingResult
from contracts.registry import Lab
from services.common import packed
from services.common.keys import VARIANTS_PER_CHUNK
from services.common.netguard import AddressPolicy
from services.common.offload import Runner, runner
from services.common.settings import Settings
from services.ingest.adapters.reference_sources import parse_sources
from services.ingest.adapters.vcf.limits import LimitCheck, VcfLimits
from services.ingest.adapters.vcf.loader import open_vcf, variant_document
from services.ingest.adapters.vcf_source import fetch_reference, write_inline

# Chunks read, encoded and written per database round trip (bounds ingest's memory on large VCFs).
CHUNKS_PER_BATCH = 5
SMALL_VCF_BYTES = 256 * 1024
SMALL_VCF_TEXT_BYTES = 2 * 1024 * 1024


class LocalVcfFiles:
    """The VcfFiles port: inline VCFs decoded, by-reference ones fetched from the lab's or the operator's sources."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.reference_policy = AddressPolicy.parse(settings.reference_allowed_networks)
        self.work_dir = str(Path(settings.data_dir) / "ingest" / "incoming")

    async def materialise(self, result: SequencingResult, lab: Lab | None) -> Path:
        """A local copy of the result's VCF, its sha256 checked (raises VcfRejected)."""
        if isinstance(result.vcf, InlineVcf):
            small = len(result.vcf.data) * 3 // 4 <= SMALL_VCF_BYTES  # base64: 4 characters per 3 bytes
            return await runner(small)(write_inline, result.vcf, self.work_dir)
        sources = [*(lab.reference_sources if lab else []), *parse_sources(self.settings.reference_sources)]
        return await fetch_reference(result.vcf, self.work_dir, self.settings.max_vcf_bytes,
                                     self.settings.reference_timeout_s, sources, self.reference_policy)


class ParsedFile:
    """A VCF open for reading (the ParsedVcf port)."""

    def __init__(self, reader: Any, run: Runner) -> None:
        self.tumour_sample: str | None = reader.tumour_sample
        self.header_summary: dict[str, Any] = reader.header_summary
        self._variants = reader.variants()
        self._run = run

    async def batches(self) -> AsyncIterator[tuple[int, list[bytes]]]:
        """(variants read, packed chunks) per batch; the next batch is read while the caller handles this one."""
        reading = asyncio.ensure_future(self._run(_take_chunks, self._variants, CHUNKS_PER_BATCH))
        try:
            while True:
                counted, chunks = await reading
                if not chunks:
                    return
                reading = asyncio.ensure_future(self._run(_take_chunks, self._variants, CHUNKS_PER_BATCH))
                yield counted, chunks
        finally:
            if not reading.done():  # the caller failed on a write: let the reading thread finish before closing
                await asyncio.wait([reading])
            if not reading.cancelled():
                reading.exception()  # retrieved, so an error of an abandoned read is not reported as unhandled


class PysamVcfReader:
    """The VcfReader port: htslib through pysam and the Cython fast path, within the configured limits."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @asynccontextmanager
    async def open(self, path: Path, result: SequencingResult) -> AsyncIterator[ParsedFile]:
        """The parsed VCF (raises VcfRejected for a file that breaks a limit or cannot be read)."""
        small_file = path.stat().st_size <= SMALL_VCF_BYTES
        text_bytes = await self._check_limits(path, small_file, isinstance(result.vcf, InlineVcf))
        run = runner(small_file and text_bytes <= SMALL_VCF_TEXT_BYTES)
        reader_cm = open_vcf(str(path), result.assay.genome_build, self.settings.max_info_bytes)
        reader = await run(reader_cm.__enter__)
        try:
            yield ParsedFile(reader, run)
        finally:
            await run(reader_cm.__exit__, None, None, None)

    async def _check_limits(self, path: Path, small_file: bool, inline: bool) -> int:
        """The VCF's decompressed size, once within the limits (services.ingest.adapters.vcf.limits; raises
        VcfRejected). An inline VCF has its own, lower decompressed-size limit: a few hundred kB never hold a genome.

        A small file's first SMALL_VCF_TEXT_BYTES of text are read on the event loop; whatever follows, in a
        worker thread (a 280 kB file can hold 68 MB of text)."""
        on_loop = SMALL_VCF_TEXT_BYTES if small_file else 0
        limits = VcfLimits.from_settings(self.settings)
        if inline:
            limits = replace(limits, decompressed_bytes=min(limits.decompressed_bytes,
                                                            self.settings.max_inline_decompressed_bytes))
        with LimitCheck(str(path), limits) as check:
            if not check.run(until_bytes=on_loop):
                await asyncio.to_thread(check.run)
            return int(check.text_bytes)


def _take_chunks(variants: Iterator[Any], max_chunks: int) -> tuple[int, list[bytes]]:
    """Read up to `max_chunks` chunks of variants and pack them; returns (variants read, chunks)."""
    count, chunks = 0, []
    while len(chunks) < max_chunks:
        documents = [variant_document(variant) for variant in islice(variants, VARIANTS_PER_CHUNK)]
        if not documents:
            break
        count += len(documents)
        chunks.append(packed.pack(documents))
    return count, chunks
