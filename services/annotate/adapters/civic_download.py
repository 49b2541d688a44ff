"""Download a CIViC release's TSV exports over HTTP(S) into a directory the importer reads (adapter).

CIViC publishes each release under <downloads>/<release>/<release>-<Kind>.tsv (release "nightly" or a monthly
"01-Nov-2026"). The evidence file is required; the assertion and variant files are taken when the release
has them. Each file is checked before it is kept: HTTP 200, no redirect to another host, at most `max_bytes`,
UTF-8 text whose header has the columns of a CIViC export (an HTML error page is refused).
"""

import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

REQUIRED = "ClinicalEvidenceSummaries"
OPTIONAL = ("AssertionSummaries", "VariantSummaries")
_HEADER_COLUMNS = {"ClinicalEvidenceSummaries": {"evidence_id", "evidence_level"},
                   "AssertionSummaries": {"assertion_id"}, "VariantSummaries": {"variant_id"}}
_CHUNK = 256 * 1024


class DownloadFailed(Exception):
    """The release could not be downloaded or is not a CIViC export; str() says what to do."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102 - urllib API
        if urlsplit(newurl).netloc != urlsplit(req.full_url).netloc:
            raise DownloadFailed(f"{req.full_url} redirects to another host ({urlsplit(newurl).netloc}); "
                                 "set ONCORELAY_CIVIC_DOWNLOADS_URL to the host that serves the files")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def release_url(downloads_url: str, release: str, kind: str) -> str:
    """Where CIViC serves one export file of a release."""
    return f"{downloads_url.rstrip('/')}/{release}/{release}-{kind}.tsv"


def download_release(downloads_url: str, release: str, directory: Path, max_bytes: int, timeout_s: float,
                     saved_as: str | None = None,
                     progress: Callable[[str, int, int | None], None] = lambda name, done, total: None) -> list[Path]:
    """Fetch a release's export files into `directory` as <saved_as or release>-<Kind>.tsv (the importer names
    the release after that prefix); returns the files kept. Raises DownloadFailed."""
    if urlsplit(downloads_url).scheme not in {"https", "http"}:
        raise DownloadFailed(f"ONCORELAY_CIVIC_DOWNLOADS_URL must be an https:// URL, not {downloads_url!r}")
    opener = urllib.request.build_opener(_NoRedirect)
    kept = []
    for kind in (REQUIRED, *OPTIONAL):
        url = release_url(downloads_url, release, kind)
        target = directory / f"{saved_as or release}-{kind}.tsv"
        try:
            _fetch(opener, url, target, max_bytes, timeout_s, lambda done, total, k=kind: progress(k, done, total))
        except urllib.error.HTTPError as error:
            if kind != REQUIRED and error.code == 404:
                continue  # the release has no such file (the molecular-profile releases differ by file)
            raise DownloadFailed(f"GET {url} answered HTTP {error.code}; check the release name "
                                 f"({release!r}) and ONCORELAY_CIVIC_DOWNLOADS_URL") from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise DownloadFailed(f"cannot download {url}: {reason}; is the network or a proxy in the way? "
                                 "Offline sites import a copied release with `oncorelay kb import-civic DIR`") from error
        _check_export(target, kind, url)
        kept.append(target)
    return kept


def _fetch(opener, url: str, target: Path, max_bytes: int, timeout_s: float,
           progress: Callable[[int, int | None], None]) -> None:
    with opener.open(url, timeout=timeout_s) as response:
        total = int(response.headers["Content-Length"]) if response.headers.get("Content-Length", "").isdigit() else None
        if total is not None and total > max_bytes:
            raise DownloadFailed(f"{url} is {total} bytes, more than the {max_bytes} allowed")
        done = 0
        with target.open("wb") as out:
            while block := response.read(_CHUNK):
                done += len(block)
                if done > max_bytes:
                    raise DownloadFailed(f"{url} is larger than the {max_bytes} bytes allowed")
                out.write(block)
                progress(done, total)


def _check_export(path: Path, kind: str, url: str) -> None:
    with path.open("rb") as handle:
        first = handle.readline(64 * 1024)
    try:
        header = {column.strip() for column in first.decode("utf-8").rstrip("\r\n").split("\t")}
    except UnicodeDecodeError as error:
        raise DownloadFailed(f"{url} is not UTF-8 text: not a CIViC export") from error
    missing = _HEADER_COLUMNS[kind] - header
    if missing:
        raise DownloadFailed(f"{url} is not a CIViC {kind} export (its first line lacks {', '.join(sorted(missing))}; "
                             f"it starts {first[:60]!r})")
