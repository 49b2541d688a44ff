"""Materialise a result's VCF as a local file with its checksum verified (inline, or by reference from an
allowed source)."""

import base64
import binascii
import hashlib
import os
import tempfile
from pathlib import Path
from urllib.parse import SplitResult

import aiohttp

from contracts.events import InlineVcf, VcfReference
from contracts.reasons import RejectionCode
from services.common.netguard import AddressPolicy, OutboundRefused, PinnedResolver, resolve_permitted
from services.ingest.adapters.reference_sources import allowed_source, real_file
from services.ingest.domain.rejection import VcfRejected

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


async def fetch_reference(vcf: VcfReference, directory: str, max_bytes: int, timeout_s: float,
                          sources: list[str], policy: AddressPolicy) -> Path:
    """Copy a by-reference VCF to a temporary file, verifying where it comes from, its size and sha256.

    `sources` are the URL prefixes it may be read from (services.ingest.adapters.reference_sources); `policy` the
    addresses an https source may resolve to. Redirects are not followed; the size limit holds while reading."""
    if vcf.size_bytes > max_bytes:
        raise VcfRejected(RejectionCode.VCF_TOO_LARGE, f"vcf.size_bytes {vcf.size_bytes} exceeds {max_bytes}")
    parts = allowed_source(vcf.uri, sources)
    blocks = _read_file(real_file(parts, sources)) if parts.scheme == "file" else _read_url(parts, policy, timeout_s)
    path = _temp_path(directory)
    digest = hashlib.sha256()
    written = 0
    try:
        with path.open("wb") as out:
            async for block in blocks:
                written += len(block)
                if written > max_bytes:
                    raise VcfRejected(RejectionCode.VCF_TOO_LARGE, f"the file at vcf.uri exceeds {max_bytes} bytes")
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != vcf.sha256:  # the bytes were not sent by the lab: their checksum is not quoted
            raise VcfRejected(RejectionCode.CHECKSUM_MISMATCH, "the sha256 of the file at vcf.uri differs from vcf.sha256")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


async def _read_file(real: str):
    try:
        handle = open(real, "rb")  # noqa: SIM115 - closed below, after the blocks are read
    except OSError as error:  # not found, a directory, not readable: one answer, no detail of the server's files
        raise VcfRejected(RejectionCode.REFERENCE_UNREACHABLE, "the file at vcf.uri cannot be read") from error
    with handle:
        try:
            while block := handle.read(_CHUNK):
                yield block
        except OSError as error:
            raise VcfRejected(RejectionCode.REFERENCE_UNREACHABLE, "the file at vcf.uri cannot be read") from error


async def _read_url(parts: SplitResult, policy: AddressPolicy, timeout_s: float):
    host = parts.hostname or ""
    try:
        await resolve_permitted(host, parts.port or (443 if parts.scheme == "https" else 80), policy)
    except OutboundRefused as error:
        raise VcfRejected(RejectionCode.REFERENCE_NOT_ALLOWED, str(error)) from error
    try:
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        connector = aiohttp.TCPConnector(resolver=PinnedResolver(policy))
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session, \
                session.get(parts.geturl(), allow_redirects=False) as response:
            if 300 <= response.status < 400:
                raise VcfRejected(RejectionCode.REFERENCE_UNREACHABLE,
                                  f"GET vcf.uri answered HTTP {response.status} (a redirect); redirects are not "
                                  "followed, so give the file's own URL")
            if response.status != 200:
                raise VcfRejected(RejectionCode.REFERENCE_UNREACHABLE, f"GET vcf.uri answered HTTP {response.status}")
            async for block in response.content.iter_chunked(_CHUNK):
                yield block
    except TimeoutError as error:
        raise VcfRejected(RejectionCode.REFERENCE_UNREACHABLE, f"reading vcf.uri took over {timeout_s:g} s") from error
    except (aiohttp.ClientError, OutboundRefused) as error:
        raise VcfRejected(RejectionCode.REFERENCE_UNREACHABLE, f"cannot read vcf.uri from {host}") from error
