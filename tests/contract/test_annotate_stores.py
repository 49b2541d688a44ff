"""annotate's store contracts (variants, patient history, interpretations, knowledge), on the fakes and FerretDB."""

import json

import pytest

from contracts.variant import Variant
from services.annotate.adapters.interpretation_store import MongoInterpretationStore
from services.annotate.adapters.knowledge_store import MongoKnowledgeStore
from services.annotate.domain.knowledge import KnowledgeBase
from services.common import packed
from services.common.keys import VARIANTS_PER_CHUNK
from services.common.offload import on_loop
from services.ingest.adapters.result_store import MongoResultStore
from tests.fakes.annotate import FakeAnnotationStore, FakeKnowledgeStore

VARIANTS = [Variant(chrom="chr7", pos=140753336 + i, ref="A", alt="T", kind="snv", gene="BRAF")
            for i in range(VARIANTS_PER_CHUNK + 3)]
CHUNKS = [VARIANTS[:VARIANTS_PER_CHUNK], VARIANTS[VARIANTS_PER_CHUNK:]]  # as ingest chunks them


@pytest.fixture
def store(backend, db, faults):
    return FakeAnnotationStore(faults) if backend == "fake" else MongoInterpretationStore(db)


async def given_chunks(store, db, key: str, chunks: list[list[Variant]]) -> None:
    """What ingest stored for a result."""
    if db is None:
        store.variants[key] = chunks
        return
    documents = [packed.pack([v.model_dump(mode="json", exclude_defaults=True) for v in chunk]) for chunk in chunks]
    await MongoResultStore(db).save_variant_chunks(key, "C-1", 0, documents)


def interpretation(key: str, tier: str) -> bytes:
    return json.dumps({"result_key": key, "findings": [{"gene": "BRAF", "amp_tier": tier}]}).encode()


def document(result_id: str, version: int, kb_version: str = "kb-1", **extra) -> dict:
    return {"result_id": result_id, "result_version": version, "case_id": "C-1", "patient_pseudonym": "PSN-1",
            "kb_version": kb_version, **extra}


async def test_variants_come_back_chunk_by_chunk_in_file_order(store, db):
    await given_chunks(store, db, "R-V@1", CHUNKS)
    read = [chunk async for chunk in store.variant_chunks("R-V@1", len(VARIANTS), on_loop)]
    assert [[v.pos for v in chunk] for chunk in read] == [[v.pos for v in chunk] for chunk in CHUNKS]
    with pytest.raises(LookupError):  # a chunk the count promises is missing
        [chunk async for chunk in store.variant_chunks("R-V@1", len(VARIANTS) + VARIANTS_PER_CHUNK, on_loop)]


async def test_the_history_holds_the_latest_version_of_each_earlier_result_oldest_first(store):
    for key, result_id, version, collected in [("R-A@1", "R-A", 1, "2026-10-01"), ("R-A@2", "R-A", 2, "2026-10-01"),
                                               ("R-B@1", "R-B", 1, "2026-09-01"), ("R-C@1", "R-C", 1, "2026-12-01")]:
        await store.save_specimen(key, {"patient_pseudonym": "PSN-1", "result_id": result_id,
                                        "result_version": version, "collected_on": collected,
                                        "observation": {"specimen_id": key, "vaf": 0.1}})
    await store.save_specimen("R-A@2", {"patient_pseudonym": "PSN-1", "result_id": "R-A", "result_version": 2,
                                        "collected_on": "2026-10-01", "observation": {"specimen_id": "R-A@2"}})
    history = await store.specimen_history("PSN-1", "R-C@1")
    assert [(d["result_id"], d["result_version"]) for d in history] == [("R-B", 1), ("R-A", 2)]
    assert history[1]["observation"] == {"specimen_id": "R-A@2"}
    assert await store.specimen_history("PSN-OTHER", "R-C@1") == []


async def test_the_first_interpretation_stands_and_an_earlier_version_is_found(store):
    assert await store.save_interpretation_once("R-I@1", document("R-I", 1), interpretation("R-I@1", "I")) is None
    earlier = await store.save_interpretation_once("R-I@1", document("R-I", 1), interpretation("R-I@1", "III"))
    assert earlier["findings"][0]["amp_tier"] == "I"
    assert (await store.interpretation("R-I@1"))["findings"][0]["amp_tier"] == "I"
    assert await store.interpretation("R-NONE@1") is None
    await store.save_interpretation_once("R-I@3", document("R-I", 3), interpretation("R-I@3", "II"))
    assert (await store.previous_interpretation("R-I", 4))["result_key"] == "R-I@3"
    assert (await store.previous_interpretation("R-I", 3))["result_key"] == "R-I@1"
    assert await store.previous_interpretation("R-I", 1) is None


async def test_re_tiering_takes_latest_versions_of_another_knowledge_base_once(store):
    event = {"result_key": "x"}
    await store.save_interpretation_once("R-R@1", document("R-R", 1, event=event), interpretation("R-R@1", "I"))
    await store.save_interpretation_once("R-R@2", document("R-R", 2, event=event), interpretation("R-R@2", "I"))
    await store.save_interpretation_once("R-S@1", document("R-S", 1, event=event), interpretation("R-S@1", "I"))
    await store.save_interpretation_once("R-T@1", document("R-T", 1, "kb-2", event=event), interpretation("R-T@1", "I"))
    await store.save_interpretation_once("R-U@1", document("R-U", 1), interpretation("R-U@1", "I"))  # no event kept
    due = [d async for d in store.interpretations_to_retier("kb-2")]
    assert sorted(d["_id"] for d in due) == ["R-R@2", "R-S@1"]
    unpacked = packed.unpack(due[0]["interpretation"], due[0]["encoding"])
    assert unpacked["findings"][0]["amp_tier"] == "I"
    await store.replace_interpretation("R-R@2", document("R-R", 2, "kb-2", event=event), interpretation("R-R@2", "II"))
    await store.mark_retier_failed("R-S@1", "kb-2")
    assert [d async for d in store.interpretations_to_retier("kb-2")] == []
    assert (await store.interpretation("R-R@2"))["findings"][0]["amp_tier"] == "II"
    assert [d["_id"] async for d in store.interpretations_to_retier("kb-3")] != []


@pytest.fixture
def knowledge(backend, db):
    return FakeKnowledgeStore() if backend == "fake" else MongoKnowledgeStore(db)


async def test_nothing_stored_means_the_built_in_knowledge_base(knowledge):
    assert await knowledge.stored_version() is None
    assert (await knowledge.load()).version == KnowledgeBase.build().version
