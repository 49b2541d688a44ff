"""Which by-reference URIs ingest may read: only under an allowed source, never around it."""

import pytest

from contracts.reasons import RejectionCode
from services.ingest.adapters.reference_sources import allowed_source, real_file
from services.ingest.domain.rejection import VcfRejected

SOURCES = ["https://files.lab.example/oncorelay/", "file:///srv/lab-a/"]


@pytest.mark.parametrize("uri", ["https://files.lab.example/oncorelay/r1.vcf.gz",
                                 "https://FILES.lab.example:443/oncorelay/2026/r1.vcf.gz?sig=abc",
                                 "file:///srv/lab-a/r1.vcf.gz"])
def test_uris_under_a_source_are_allowed(uri):
    assert allowed_source(uri, SOURCES)


@pytest.mark.parametrize("uri", [
    "https://files.lab.example/other/r1.vcf.gz", "https://files.lab.example/oncorelay-x/r1.vcf.gz",
    "https://files.lab.example:8443/oncorelay/r1.vcf.gz", "http://files.lab.example/oncorelay/r1.vcf.gz",
    "https://evil.example/oncorelay/r1.vcf.gz", "https://u:p@files.lab.example/oncorelay/r1.vcf.gz",
    "file:///srv/lab-a/../lab-b/r1.vcf.gz", "file:///srv/lab-a/%2e%2e/lab-b/r1.vcf.gz",
    "file:///srv/lab-a%2f..%2flab-b/r1.vcf.gz", "file:///srv/lab-a", "file:///srv/lab-ab/r1.vcf.gz",
    "file://host/srv/lab-a/r1.vcf.gz", "file:///etc/passwd", "https://files.lab.example:x/oncorelay/r",
])
def test_uris_outside_every_source_are_refused(uri):
    with pytest.raises(VcfRejected) as refused:
        allowed_source(uri, SOURCES)
    assert refused.value.code == RejectionCode.REFERENCE_NOT_ALLOWED


def test_nothing_is_allowed_without_sources():
    with pytest.raises(VcfRejected):
        allowed_source("https://files.lab.example/oncorelay/r1.vcf.gz", [])


def test_a_link_out_of_the_directory_is_refused(tmp_path):
    inside, outside = tmp_path / "lab", tmp_path / "secret"
    inside.mkdir()
    outside.write_text("not yours")
    (inside / "r1.vcf.gz").symlink_to(outside)
    sources = [inside.as_uri() + "/"]
    with pytest.raises(VcfRejected) as refused:
        real_file(allowed_source((inside / "r1.vcf.gz").as_uri(), sources), sources)
    assert refused.value.code == RejectionCode.REFERENCE_NOT_ALLOWED
