"""Every bad input of the corpus gets its precise reason code from ingest's pure path (no broker, no database):
intake.read_message, admission (labs registered for any site), then the VCF materialised (inline or by reference, sha256 checked) and read to the end."""

import asyncio
import base64
import json
from pathlib import Path

import pytest

from contracts import topics
from contracts.events import InlineVcf
from contracts.reasons import RejectionCode
from contracts.registry import Lab
from services.common.netguard import AddressPolicy
from services.common.settings import Settings
from services.ingest.adapters.vcf.loader import open_vcf
from services.ingest.adapters.vcf_source import fetch_reference, write_inline
from services.ingest.domain.admission import admit
from services.ingest.domain.lab_message import read_message
from services.ingest.domain.rejection import VcfRejected
from services.ingest.handlers import MAX_MESSAGE_BYTES, Message
from tests.badinput import corpus
from tests.unit.handlers.test_ingest_handlers import IngestWorld

LABS = {lab_id: Lab(lab_id=lab_id, any_site=True) for lab_id in ("LAB01", "LAB-DEMO")}
CASES = corpus.load()
REFERENCE_SOURCES = [corpus.SHARED.as_uri() + "/"]  # as the integration stack allows
SETTINGS = Settings(_env_file=None)


def ingest_codes(value: bytes, work_dir: Path) -> list[RejectionCode]:
    """The reason codes ingest gives `value` ([] = accepted), as Ingest.handle computes them minus the database."""
    intake = read_message(value, MAX_MESSAGE_BYTES)
    if intake.result is None:
        return [r.code for r in intake.reasons]
    result = intake.result
    refused = admit(result, LABS.get(result.lab_id), False, None, None)
    if refused is not None:
        return [refused.code]
    try:
        if isinstance(result.vcf, InlineVcf):
            path = write_inline(result.vcf, str(work_dir))
        else:
            path = asyncio.run(fetch_reference(result.vcf, str(work_dir), SETTINGS.max_vcf_bytes, 5.0,
                                               REFERENCE_SOURCES, AddressPolicy.parse("")))
        with open_vcf(str(path), result.assay.genome_build, SETTINGS.max_info_bytes) as reader:
            for _ in reader.variants():
                pass
    except VcfRejected as rejection:
        return [rejection.code]
    return []


def test_the_corpus_has_at_least_50_distinct_bad_inputs():
    assert len(CASES) >= 50
    assert len({case.id for case in CASES}) == len(CASES)
    assert len({case.value for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_rejected_with_its_precise_reason(case, tmp_path):
    assert ingest_codes(case.value, tmp_path) == [case.expect]


def test_the_good_message_used_between_bad_ones_is_accepted(tmp_path):
    assert ingest_codes(corpus.good_message("GOOD-1", "CASE-GOOD-1"), tmp_path) == []


async def test_an_oversized_message_fits_the_dlq_record_it_is_kept_in(tmp_path):
    """Regression: the whole 1.6 MB message, base64-encoded in the DLQ record, exceeded the producer's 2 MiB
    limit; the send failed, the agent crashed and the message got neither a DLQ record nor a receipt."""
    world = IngestWorld(tmp_path)
    [case] = [c for c in CASES if c.id == "oversized-message"]
    receipt = await world.ingest.handle(Message(case.value, case.key, 0, 7))
    assert [r.code for r in receipt.reasons] == [RejectionCode.MESSAGE_TOO_LARGE]
    [dead] = [event.model_dump_json().encode() for event in world.publish.on(topics.LAB_RESULTS_DLQ)]
    assert len(dead) < 2 * 1024 * 1024 - 1024  # create_app's producer_max_request_size, with room for the key
    assert case.value.startswith(base64.b64decode(json.loads(dead)["original_base64"]))
