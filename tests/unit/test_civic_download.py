"""Downloading a CIViC release from a local server laid out like CIViC's downloads (the real one cannot be
reached here; the code path is the same)."""

import pytest

from services.annotate.adapters.civic_download import DownloadFailed, download_release
from services.annotate.domain.civic import import_release
from services.annotate.domain.disease_mapping import SHIPPED_MAPPING, DiseaseMapping
from tests.support.civic_server import civic_downloads

MIB = 1024**2


def test_a_release_is_downloaded_checked_and_imports(shared_data, tmp_path):
    with civic_downloads(shared_data / "civic") as url:
        files = download_release(url, "01-Aug-2021", tmp_path, 64 * MIB, 30)
    assert sorted(f.name for f in files) == ["01-Aug-2021-AssertionSummaries.tsv",
                                             "01-Aug-2021-ClinicalEvidenceSummaries.tsv",
                                             "01-Aug-2021-VariantSummaries.tsv"]
    assert import_release(tmp_path, DiseaseMapping.load(SHIPPED_MAPPING)).counts == {
        "variant": 1469, "evidence": 3650, "assertion": 18}


def test_a_release_with_only_its_evidence_file_and_a_nightly_saved_under_its_date(shared_data, tmp_path):
    seen = []
    with civic_downloads(shared_data / "civic") as url:
        files = download_release(url, "01-Apr-2024", tmp_path, 64 * MIB, 30, saved_as="nightly-2026-12-03",
                                 progress=lambda kind, done, total: seen.append((kind, done, total)))
    assert [f.name for f in files] == ["nightly-2026-12-03-ClinicalEvidenceSummaries.tsv"]
    assert seen[-1][0] == "ClinicalEvidenceSummaries" and seen[-1][1] == seen[-1][2] == files[0].stat().st_size
    assert import_release(tmp_path, DiseaseMapping.load(SHIPPED_MAPPING)).release == "nightly-2026-12-03"


@pytest.mark.parametrize("pages, release, message", [
    ({}, "01-Jan-1999", "answered HTTP 404; check the release name"),
    ({"/01-Aug-2021/01-Aug-2021-ClinicalEvidenceSummaries.tsv": (200, {}, b"<!doctype html><html>maintenance</html>")},
     "01-Aug-2021", "is not a CIViC ClinicalEvidenceSummaries export"),
    ({"/01-Aug-2021/01-Aug-2021-ClinicalEvidenceSummaries.tsv": (200, {}, b"\xff\xfe\x00e")},
     "01-Aug-2021", "is not UTF-8 text"),
    ({"/01-Aug-2021/01-Aug-2021-ClinicalEvidenceSummaries.tsv": (302, {"Location": "http://elsewhere.example/x"}, b"")},
     "01-Aug-2021", r"redirects to another host \(elsewhere.example\)"),
    ({"/01-Aug-2021/01-Aug-2021-ClinicalEvidenceSummaries.tsv": (500, {}, b"")}, "01-Aug-2021", "answered HTTP 500"),
])
def test_what_is_not_a_civic_release_is_refused_with_what_to_check(shared_data, tmp_path, pages, release, message):
    with civic_downloads(shared_data / "civic", pages) as url, pytest.raises(DownloadFailed, match=message):
        download_release(url, release, tmp_path, 64 * MIB, 30)


def test_the_size_limit_holds_and_only_http_urls_are_used(shared_data, tmp_path):
    with civic_downloads(shared_data / "civic") as url, pytest.raises(DownloadFailed, match="more than the 1000"):
        download_release(url, "01-Aug-2021", tmp_path, 1000, 30)
    with pytest.raises(DownloadFailed, match="must be an https:// URL"):
        download_release("file:///etc/", "01-Aug-2021", tmp_path, MIB, 30)


def test_an_unreachable_server_says_what_to_do_offline(tmp_path):
    with pytest.raises(DownloadFailed, match="oncorelay kb import-civic DIR"):
        download_release("http://127.0.0.1:9/", "nightly", tmp_path, MIB, 5)
