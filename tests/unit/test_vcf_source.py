"""By-reference VCFs over HTTP from a real local server: read only from an allowed source on a permitted
address, no redirects followed, and receipts that quote neither foreign checksums nor server paths."""

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from contracts.events import VcfReference
from contracts.reasons import RejectionCode
from services.common.netguard import AddressPolicy
from services.ingest.adapters.vcf_source import fetch_reference
from services.ingest.domain.rejection import VcfRejected

BODY = b"\x1f\x8b not really a VCF, only bytes to fetch"
LOOPBACK = AddressPolicy.parse("127.0.0.0/8")


@pytest.fixture
def server():
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server API
            requests.append(self.path)
            if self.path.endswith("/moved.vcf.gz"):
                self.send_response(302)
                self.send_header("Location", "/files/r1.vcf.gz")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/files/", requests
    httpd.shutdown()


def _reference(uri: str, sha: str = hashlib.sha256(BODY).hexdigest()) -> VcfReference:
    return VcfReference(uri=uri, sha256=sha, size_bytes=len(BODY))


async def test_a_file_under_an_allowed_source_on_an_allowed_network_is_read(server, tmp_path):
    base, _ = server
    path = await fetch_reference(_reference(base + "r1.vcf.gz"), str(tmp_path), 1 << 20, 5, [base], LOOPBACK)
    assert path.read_bytes() == BODY


async def test_a_loopback_source_is_refused_unless_its_network_is_allowed(server, tmp_path):
    base, requests = server
    with pytest.raises(VcfRejected) as refused:
        await fetch_reference(_reference(base + "r1.vcf.gz"), str(tmp_path), 1 << 20, 5, [base], AddressPolicy())
    assert refused.value.code == RejectionCode.REFERENCE_NOT_ALLOWED
    assert requests == []  # refused before any connection


async def test_a_redirect_is_not_followed(server, tmp_path):
    base, requests = server
    with pytest.raises(VcfRejected) as refused:
        await fetch_reference(_reference(base + "moved.vcf.gz"), str(tmp_path), 1 << 20, 5, [base], LOOPBACK)
    assert refused.value.code == RejectionCode.REFERENCE_UNREACHABLE and "redirect" in refused.value.message
    assert requests == ["/files/moved.vcf.gz"]
    assert list(tmp_path.iterdir()) == []  # nothing left behind


async def test_a_checksum_mismatch_does_not_quote_the_fetched_bytes_checksum(server, tmp_path):
    base, _ = server
    with pytest.raises(VcfRejected) as refused:
        await fetch_reference(_reference(base + "r1.vcf.gz", "0" * 64), str(tmp_path), 1 << 20, 5, [base], LOOPBACK)
    assert refused.value.code == RejectionCode.CHECKSUM_MISMATCH
    assert hashlib.sha256(BODY).hexdigest() not in refused.value.message


async def test_missing_files_and_directories_get_the_same_answer(tmp_path):
    (tmp_path / "lab").mkdir()
    (tmp_path / "lab" / "folder").mkdir()
    sources = [(tmp_path / "lab").as_uri() + "/"]
    answers = []
    for name in ("missing.vcf.gz", "folder"):
        with pytest.raises(VcfRejected) as refused:
            await fetch_reference(_reference((tmp_path / "lab" / name).as_uri()), str(tmp_path / "work"), 1 << 20, 5,
                                  sources, AddressPolicy())
        answers.append((refused.value.code, refused.value.message))
    assert answers[0] == answers[1] and str(tmp_path) not in answers[0][1]


def test_a_rejection_names_no_server_path():
    path = "/srv/oncorelay/ingest/incoming/result-x1y2.vcf.gz"
    raw = VcfRejected(RejectionCode.NO_VARIANTS_SECTION, "result-x1y2.vcf.gz has a valid header but no records")
    assert raw.without_path(path).message == "the VCF has a valid header but no records"
    opened = VcfRejected(RejectionCode.VCF_HEADER_INVALID, f"htslib cannot read ({path}: invalid header)")
    assert "/srv" not in opened.without_path(path).message
