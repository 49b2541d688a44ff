"""Where a by-reference VCF may be read from: the URL prefixes an operator allowed (pure).

A source is `file:///DIRECTORY/` (a directory the lab drops files in) or `https://HOST[:PORT]/PATH/` (the
lab's file server; `http://` only when an operator registers it so). A URI is allowed when it lies under a
source: same scheme, host and port, and a path under the source's, with no `..` segment, no encoded slash
or dot, no user or password. A file's real path (symlinks resolved) must stay under the directory's.
"""

import os
from urllib.parse import SplitResult, unquote, urlsplit

from contracts.reasons import RejectionCode
from services.ingest.domain.rejection import VcfRejected


def parse_sources(text: str) -> list[str]:
    """Sources from a comma-separated setting."""
    return [item.strip() for item in text.split(",") if item.strip()]


def _refuse(detail: str) -> VcfRejected:
    return VcfRejected(RejectionCode.REFERENCE_NOT_ALLOWED, detail)


def _safe_path(parts: SplitResult) -> str:
    raw = parts.path
    lowered = raw.lower()
    if "%2f" in lowered or "%2e" in lowered or "%00" in lowered or "\\" in raw:
        raise _refuse("vcf.uri has an encoded slash, dot or NUL in its path")
    path = unquote(raw)
    if any(segment in ("..", ".") for segment in path.split("/")):
        raise _refuse("vcf.uri has a '.' or '..' segment in its path")
    return path


def allowed_source(uri: str, sources: list[str]) -> SplitResult:
    """The parsed `uri` when it lies under one of `sources`; VcfRejected(reference_not_allowed) otherwise."""
    parts = urlsplit(uri)
    if parts.username is not None or parts.password is not None:
        raise _refuse("vcf.uri carries a user or password; credentials are never read from a URI")
    if parts.scheme not in ("file", "https", "http"):
        raise _refuse(f"vcf.uri scheme {parts.scheme!r} is not supported")
    path = _safe_path(parts)
    try:
        _port(parts)
    except ValueError as error:
        raise _refuse("vcf.uri has an invalid port") from error
    for source in sources:
        allowed = urlsplit(source)
        if allowed.scheme != parts.scheme:
            continue
        if parts.scheme == "file":
            if not parts.netloc and _under(path, unquote(allowed.path)):
                return parts
        elif (parts.hostname or "").lower() == (allowed.hostname or "").lower() and _port(parts) == _port(allowed) \
                and path.startswith(allowed.path if allowed.path.endswith("/") else allowed.path + "/"):
            return parts
    raise _refuse("vcf.uri is not under a location registered for your lab")


def real_file(parts: SplitResult, sources: list[str]) -> str:
    """The real path of an allowed file:// URI, checked again after symlinks are resolved."""
    real = os.path.realpath(unquote(parts.path))
    if not any(_under(real, os.path.realpath(unquote(urlsplit(s).path))) for s in sources
               if urlsplit(s).scheme == "file"):
        raise _refuse("vcf.uri leads (through a link) outside the locations registered for your lab")
    return real


def _under(path: str, directory: str) -> bool:
    directory = directory.rstrip("/") + "/"
    return path.startswith(directory) and len(path) > len(directory)


def _port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)
