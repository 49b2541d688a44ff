"""Materialise a result's VCF as a local file with its checksum verified (inline or by reference)."""

import base64
import binascii
import hashlib
import os
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

import aiohttp

from contracts.events import InlineVcf, VcfReference
from contracts.reasons import RejectionCode
from services.ingest.vcf.errors import VcfRejected

_CHUNK = 1024 * 1024


def _temp_path(directory: str) -> Path:
    Path(directory).mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="result-", suffix=".vcf.gz", dir=directory)
    os.close(handle)
    return Path(name)


def _check_sha(actual: str, expected: str) -> None:
    if actual != expected:
        raise VcfRejected(
            RejectionCode.CHECKSUM_MISMATCH, f"sha256 of the received bytes is {actual}, the message says {expected}"
        )


def write_inline(vcf: InlineVcf, directory: str) -> Path:
    """Decode an inline VCF to a temporary file, verifying its sha256."""
    try:
        payload = base64.b64decode(vcf.data, validate=True)
    except (binascii.Error, ValueError) as error:
        raise VcfRejected(RejectionCode.VCF_ENCODING, f"vcf.data is not valid base64 ({error})") from error
    if payload[:2] != b"\x1f\x8b":
        raise VcfRejected(RejectionCode.VCF_ENCODING, "vcf.data does not decode to gzip data (no gzip magic bytes)")
    _check_sha(hashlib.sha256(payload).hexdigest(), vcf.sha256)
    path = _temp_path(directory)
    path.write_bytes(payload)
    return path


async def fetch_reference(vcf: VcfReference, directory: str, max_bytes: int, timeout_s: float) -> Path:
    """Copy a by-reference VCF (file:// or http(s)://) to a temporary file, verifying size and sha256."""
    if vcf.size_bytes > max_bytes:
        raise VcfRejected(RejectionCode.VCF_TOO_LARGE, f"vcf.size_bytes {vcf.size_bytes} exceeds {max_bytes}")
    path = _temp_path(directory)
    digest = hashlib.sha256()
    written = 0
    try:
        with path.open("wb") as out:
            async for block in _read_uri(vcf.uri, timeout_s):
                written += len(block)
                if written > max_bytes:
                    raise VcfRejected(RejectionCode.VCF_TOO_LARGE, f"the file at vcf.uri exceeds {max_bytes} bytes")
                digest.update(block)
                out.write(block)
        _check_sha(digest.hexdigest(), vcf.sha256)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


async def _read_uri(uri: str, timeout_s: float):
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        local = Path(unquote(parsed.path))
        try:
            handle = local.open("rb")
        except OSError as error:
            raise VcfRejected(RejectionCode.REFERENCE_UNREACHABLE, f"cannot open {uri}: {error.strerror}") from error
        with handle:
            while block := handle.read(_CHUNK):
                yield block
        return
    try:
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(uri) as response:
            if response.status != 200:
                raise VcfRejected(RejectionCode.REFERENCE_UNREACHABLE, f"GET {uri} answered HTTP {response.status}")
            async for block in response.content.iter_chunked(_CHUNK):
                yield block
    except (aiohttp.ClientError, TimeoutError) as error:
        raise VcfRejected(RejectionCode.REFERENCE_UNREACHABLE, f"cannot fetch {uri}: {error!r}") from error
