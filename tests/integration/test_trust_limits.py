"""Bounded resources, against the real stack (issue 18, findings 5-6): a small message that decompresses to
a huge header, header line, record count or text is rejected by ingest with its reason code, in bounded
memory; repeated records are interpreted once by annotate, in bounded memory; and a message that stops a
service every time it is begun goes to the DLQ after the allowed attempts while the service moves on.

Memory is sampled from /proc while the service handles the message (tests.support.memory); the bounds are
generous for the work the service should do, and an order of magnitude below what the unbounded code took.
The test stack's limits are lowered (conftest: 256 MiB decompressed, 1,000,000 records) so each is reached
in seconds; the header limits are the defaults (1 MiB per line, 32 MiB in all).
"""

import base64
import hashlib
import json
import os
import tempfile
from pathlib import Path

from pysam.libcbgzf import BGZFile

from contracts import topics
from services.common import packed
from tests.integration.conftest import wait_until
from tests.integration.test_trust_labs import SOMATIC_KRAS, _codes, _message, _publish, _receipt
from tests.support.kafka import produce, read_all
from tests.support.memory import PeakRss
from tests.support.services import http_status

HEADER, KRAS_RECORD = SOMATIC_KRAS.rsplit(b"\n#CHROM", 1)[0], SOMATIC_KRAS.splitlines(keepends=True)[-1]
CHROM_LINE = b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\n"
SHORT_RECORD = b"chr12\t25245350\t.\tC\tA\t50\tPASS\t.\tGT\t0/1\n"
MIB = 1024**2


def _bgzf(head: bytes, body: bytes, repeat: int, tail: bytes = b"") -> bytes:
    """BGZF of head + body * repeat + tail, written as it is produced (the text is never held whole)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "payload.vcf.gz")
        with BGZFile(path, "wb9") as out:
            out.write(head)
            for _ in range(repeat):
                out.write(body)
            out.write(tail)
        return Path(path).read_bytes()


def _inline_message(result_id: str, case_id: str, payload: bytes) -> bytes:
    document = json.loads(_message(result_id, case_id, "LAB01", "HOSP-A"))
    document["vcf"] = {"kind": "inline", "encoding": "gzip+base64", "data": base64.b64encode(payload).decode(),
                       "sha256": hashlib.sha256(payload).hexdigest()}
    return json.dumps(document).encode()


def _ids(stack, name: str) -> tuple[str, str]:
    return f"R-LIM-{name}-{stack.run_id}", f"CASE-LIM-{name}-{stack.run_id}"


def _rejected_in_bounded_memory(stack, name: str, payload: bytes, code: str, bound_mib: float = 150) -> dict:
    result_id, case_id = _ids(stack, name)
    message = _inline_message(result_id, case_id, payload)
    assert len(message) < 1024**2  # a small message, within the broker's and ingest's message limit
    with PeakRss(stack.services.processes["ingest"].pid) as rss:
        _publish(stack, result_id, message)
        receipt = _receipt(stack, result_id)
    assert receipt["status"] == "rejected" and _codes(receipt) == [code], receipt
    assert rss.growth_mib < bound_mib, f"ingest grew {rss.growth_mib:.0f} MiB handling {name}"
    assert stack.db.results.find_one({"_id": f"{result_id}@1"}) is None
    return receipt


def test_one_huge_header_line_is_rejected_without_being_read_into_memory(stack):
    payload = _bgzf(HEADER + b"\n##comment=", b"A" * MIB, 128, b"\n" + CHROM_LINE + KRAS_RECORD)  # a 128 MiB line
    receipt = _rejected_in_bounded_memory(stack, "line", payload, "header_line_too_long")
    assert "header line 7 " in receipt["reasons"][0]["message"]


def test_a_header_of_many_lines_too_large_in_all_is_rejected(stack):
    lines = (b"##comment=" + b"B" * 65_000 + b"\n") * 16  # 1 MiB of header lines, 128 times over
    _rejected_in_bounded_memory(stack, "header", _bgzf(HEADER + b"\n", lines, 128, CHROM_LINE + KRAS_RECORD),
                                "header_too_large")


def test_more_records_than_allowed_are_rejected_before_parsing(stack):
    payload = _bgzf(HEADER + b"\n" + CHROM_LINE, SHORT_RECORD * 10_000, 120)  # 1,200,000 records
    _rejected_in_bounded_memory(stack, "records", payload, "too_many_records")


def test_repeated_identical_records_are_interpreted_once_in_bounded_memory(stack):
    """Finding 5: one message of identical records grew annotate by 1 GB every 16 s; now it is one finding."""
    count = 400_000
    result_id, case_id = _ids(stack, "dup")
    message = _inline_message(result_id, case_id, _bgzf(HEADER + b"\n" + CHROM_LINE, KRAS_RECORD * 1000, count // 1000))
    assert len(message) < 1024**2
    with PeakRss(stack.services.processes["annotate"].pid) as rss:
        _publish(stack, result_id, message)
        assert _receipt(stack, result_id)["status"] == "accepted"
        stored = wait_until(lambda: stack.db.interpretations.find_one({"_id": f"{result_id}@1"}), 300,
                            "the result of repeated records interpreted")
    interp = packed.unpack(stored["interpretation"], stored["encoding"])
    assert [f["gene"] for f in interp["findings"]] == ["KRAS"]
    assert interp["duplicate_count"] == count - 1
    assert rss.growth_mib < 300, f"annotate grew {rss.growth_mib:.0f} MiB interpreting {count} identical records"
    assert http_status(stack.services.url("annotate", "/healthz"), timeout=5) == 200


def test_an_inline_vcf_that_decompresses_past_its_limit_is_rejected(stack):
    """Finding 6: a 511 kB inline message of 300 MiB was accepted with ingest at 1.9 GB. An inline VCF may hold
    ONCORELAY_MAX_INLINE_DECOMPRESSED_BYTES (default 64 MiB); this one holds about 160 MiB in 2,800 records."""
    record = b"chr12\t25245350\t.\tC\tA\t50\tPASS\tNOTE=" + b"A" * 60_000 + b"\tGT\t0/1\n"
    payload = _bgzf(HEADER + b"\n" + CHROM_LINE, record, 2_800)
    receipt = _rejected_in_bounded_memory(stack, "inflate", payload, "vcf_decompressed_too_large")
    assert f"more than {64 * MIB} bytes once decompressed" in receipt["reasons"][0]["message"]


def test_a_message_that_stops_ingest_every_time_goes_to_the_dlq_after_the_allowed_attempts(stack):
    """A message that hangs ingest until it is killed (a by-reference VCF that is a FIFO no one writes: the
    open never returns) is begun three times (ONCORELAY_MAX_MESSAGE_ATTEMPTS) and killed each time, then set
    aside with attempts_exhausted on the fourth start, and the next result is accepted."""
    result_id, case_id = _ids(stack, "stops")
    spool = Path(stack.env["HOME"]) / ".cache" / "oncorelay" / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    fifo = spool / f"hangs-{stack.run_id}.vcf.gz"
    os.mkfifo(fifo)
    document = json.loads(_message(result_id, case_id, "LAB01", "HOSP-A"))
    document["vcf"] = {"kind": "reference", "uri": fifo.as_uri(), "sha256": "0" * 64, "size_bytes": 1000}
    partition, offset = produce(stack.env["ONCORELAY_KAFKA_BOOTSTRAP"], topics.LAB_RESULTS, result_id.encode(),
                                json.dumps(document).encode())
    ledger_id = f"ingest|{topics.LAB_RESULTS}|{partition}"
    try:
        for attempt in (1, 2, 3):
            begun = {"_id": ledger_id, "offset": offset, "attempts": attempt}
            wait_until(lambda: stack.db.message_attempts.find_one(begun), 120,  # noqa: B023 - used at once
                       f"ingest beginning the message for the {attempt}. time")
            stack.services.kill("ingest")
            stack.services.start("ingest")
        receipt = _receipt(stack, result_id)
        stack.services.wait_ready("ingest")
    finally:
        fifo.unlink()
    assert receipt["status"] == "rejected" and _codes(receipt) == ["attempts_exhausted"], receipt
    assert "stopped ingest 3 times" in receipt["reasons"][0]["message"]
    parked = wait_until(lambda: [v for k, v in read_all(stack.env["ONCORELAY_KAFKA_BOOTSTRAP"], topics.LAB_RESULTS_DLQ,
                                                          idle_s=0.5) if k == result_id.encode()], 60, "the message in the DLQ")
    assert [(p["offset"], p["reasons"][0]["code"]) for p in parked] == [(offset, "attempts_exhausted")]
    assert json.loads(base64.b64decode(parked[0]["original_base64"]))["result_id"] == result_id
    next_id, next_case = _ids(stack, "after-stops")
    _publish(stack, next_id, _message(next_id, next_case, "LAB01", "HOSP-A"))
    assert _receipt(stack, next_id)["status"] == "accepted"
