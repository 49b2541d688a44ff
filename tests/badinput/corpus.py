"""Builds the bad-input corpus (corpus.yaml) into Kafka messages, and good messages to interleave with them.

VCFs from ../shared/data are read in place at build time (never copied into the repository).
"""

import base64
import copy
import hashlib
import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pysam
import yaml

from contracts.reasons import RejectionCode

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SHARED = REPO.parent / "shared" / "data"
EXAMPLE = json.loads((REPO / "contracts" / "examples" / "SequencingResult.json").read_text())
GOOD_VCF = HERE / "vcf" / "braf-v600e.grch38.vcf"
WRONG_SHA = "ab" * 32


@dataclass(frozen=True)
class BadInput:
    """One corpus entry built into a message: its Kafka key and value and the reason code it must get."""

    id: str
    key: str
    value: bytes
    expect: RejectionCode


def load(run: str = "0", work_dir: Path | None = None) -> list[BadInput]:
    """Every corpus entry as a message; `run` makes keys unique per test session."""
    entries = yaml.safe_load((HERE / "corpus.yaml").read_text())["cases"]
    return [_build(entry, f"BAD-{entry['id']}-{run}") for entry in entries]


def build(case_id: str, key: str) -> BadInput:
    """The corpus entry `case_id` built with message key (and result_id) `key`."""
    entries = yaml.safe_load((HERE / "corpus.yaml").read_text())["cases"]
    return _build(next(entry for entry in entries if entry["id"] == case_id), key)


def _build(entry: dict, key: str) -> BadInput:
    expect = RejectionCode(entry["expect"])
    if "raw" in entry:
        value = entry["raw"].encode()
    elif "raw_hex" in entry:
        value = bytes.fromhex(entry["raw_hex"])
    elif "mutate" in entry:
        value = _mutated(entry["mutate"], key)
    elif "vcf" in entry:
        spec = entry["vcf"]
        value = _encode(_document(key, _vcf_payload(spec), spec.get("build", "GRCh37")))
    elif "reference" in entry:
        value = _encode(_document(key, _reference(entry["reference"]), "GRCh38"))
    elif "oversize" in entry:
        document = _document(key, _inline(gzip_bgzf(GOOD_VCF.read_bytes())), "GRCh38")
        document["current_therapies"] = ["x" * (entry["oversize"] // 2)] * 2
        value = _encode(document)
    else:
        raise ValueError(f"corpus entry {entry['id']} says neither raw, mutate, vcf, reference nor oversize")
    return BadInput(entry["id"], key, value, expect)


def _encode(document: dict) -> bytes:
    return json.dumps(document).encode()


def _document(result_id: str, vcf: dict, build: str, **fields) -> dict:
    document = copy.deepcopy(EXAMPLE)
    document.update(result_id=result_id, vcf=vcf, published_at=datetime.now(UTC).isoformat(), **fields)
    document["assay"]["genome_build"] = build
    return document


def _mutated(spec: dict, key: str) -> bytes:
    document = _document(key, copy.deepcopy(EXAMPLE["vcf"]), EXAMPLE["assay"]["genome_build"])
    for path, value in spec.get("set", {}).items():
        *parents, last = path.split(".")
        target = document
        for part in parents:
            target = target[part]
        target[last] = value
    for path in spec.get("delete", []):
        *parents, last = path.split(".")
        target = document
        for part in parents:
            target = target[part]
        del target[last]
    text = json.dumps(document) + spec.get("append", "")
    return text.encode(spec.get("encoding", "utf-8"))


def gzip_bgzf(data: bytes) -> bytes:
    """`data` compressed with BGZF, as bgzip does (htslib compresses files, so through a temporary one)."""
    with tempfile.TemporaryDirectory() as tmp:
        plain, packed = Path(tmp) / "x.vcf", Path(tmp) / "x.vcf.gz"
        plain.write_bytes(data)
        pysam.tabix_compress(str(plain), str(packed), force=True)
        return packed.read_bytes()


def _vcf_payload(spec: dict) -> dict:
    path = SHARED / spec["shared"] if "shared" in spec else HERE / "vcf" / spec["file"]
    data = path.read_bytes()
    if "info_pad" in spec:
        data = _pad_info(data, spec["info_pad"])
    if not spec.get("as_is"):
        data = gzip_bgzf(data)
    if "truncate" in spec:
        data = data[: int(len(data) * spec["truncate"])]
    return _inline(data)


def _inline(payload: bytes) -> dict:
    return {"kind": "inline", "encoding": "gzip+base64", "data": base64.b64encode(payload).decode(),
            "sha256": hashlib.sha256(payload).hexdigest()}


def _pad_info(data: bytes, size: int) -> bytes:
    lines = data.decode().splitlines(keepends=True)
    padded = []
    for line in lines:
        if line and not line.startswith("#"):
            columns = line.rstrip("\n").split("\t")
            columns[7] += ";NOTE=" + "A" * size
            line = "\t".join(columns) + "\n"
        padded.append(line)
    return "".join(padded).encode()


def _reference(spec: dict) -> dict:
    uri = spec["uri"].replace("{shared}", str(SHARED))
    sha = spec["sha256"]
    if sha == "wrong":
        sha = WRONG_SHA
    elif sha == "actual":
        sha = hashlib.sha256(Path(uri.removeprefix("file://")).read_bytes()).hexdigest()
    return {"kind": "reference", "uri": uri, "sha256": sha, "size_bytes": spec["size_bytes"]}


def good_message(result_id: str, case_id: str, lab_id: str = "LAB01", vcf: bytes | None = None,
                 pseudonym: str | None = None) -> bytes:
    """A valid SequencingResult; `vcf` is BGZF bytes (default: BRAF V600E in LUAD, so the case needs MTB review)."""
    payload = vcf if vcf is not None else gzip_bgzf(GOOD_VCF.read_bytes())
    document = _document(result_id, _inline(payload), "GRCh38", case_id=case_id, lab_id=lab_id,
                         patient_pseudonym=pseudonym or _pseudonym_for(case_id))
    return _encode(document)


def _pseudonym_for(case_id: str) -> str:
    """A pseudonym per case: letters from a hash plus one digit, so never a date or an id number by chance."""
    digest = hashlib.sha256(case_id.encode()).digest()
    return "PSN-" + "".join(chr(65 + byte % 26) for byte in digest[:8]) + "1"
