"""On the real database (FerretDB started by `make test`): a result's variants written in chunks by ingest
come back to annotate complete and in file order (annotate reads the next chunk ahead)."""

import pytest

from services.annotate.adapters.interpretation_store import MongoInterpretationStore
from services.common import packed
from services.common.keys import VARIANTS_PER_CHUNK
from services.ingest.adapters.result_store import MongoResultStore

KEY = "R-CHUNKS@1"


def documents(count: int) -> list[dict]:
    return [{"chrom": "chr1", "pos": 1000 + i, "ref": "A", "alt": "G", "kind": "snv", "filter": "PASS"}
            for i in range(count)]


async def test_every_chunk_comes_back_in_file_order(db):
    variants = documents(2 * VARIANTS_PER_CHUNK + 7)
    chunks = [packed.pack(variants[i:i + VARIANTS_PER_CHUNK]) for i in range(0, len(variants), VARIANTS_PER_CHUNK)]
    await MongoResultStore(db).save_variant_chunks(KEY, "C-CHUNKS", 0, chunks)

    read = [variant async for chunk in MongoInterpretationStore(db).variant_chunks(KEY, len(variants)) for variant in chunk]
    assert [v.pos for v in read] == [d["pos"] for d in variants]
    assert {(v.chrom, v.ref, v.alt, v.kind) for v in read} == {("chr1", "A", "G", "snv")}


async def test_a_missing_chunk_is_an_error_not_a_shorter_result(db):
    variants = documents(2 * VARIANTS_PER_CHUNK)
    await MongoResultStore(db).save_variant_chunks(KEY, "C-CHUNKS", 0, [packed.pack(variants[:VARIANTS_PER_CHUNK])])  # chunk 1 lost

    seen = []
    with pytest.raises(LookupError, match="chunk 1 of R-CHUNKS@1 is missing"):
        async for chunk in MongoInterpretationStore(db).variant_chunks(KEY, len(variants)):
            seen.extend(chunk)
    assert len(seen) == VARIANTS_PER_CHUNK
