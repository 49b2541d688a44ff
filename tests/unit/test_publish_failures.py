"""`oncorelay publish` failing locally: each class of failure says what went wrong and what to do, with its own
exit status (oncorelay.exits), and never a traceback or a bare "Aborted!"."""

import gzip
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from oncorelay import cli
from oncorelay.exits import MEANING, Exit
from oncorelay.labclient import DamagedFile, as_bgzf

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
VCF = SHARED / "pcgr" / "T001-COAD.grch38.vcf.gz"
NO_EOF = SHARED / "derived" / "T001-BRCA.grch38.no-bgzf-eof.vcf.gz"
OPTIONS = ["--lab", "LAB01", "--case", "C1", "--patient", "PSN-AB12CD34", "--specimen-id", "S1",
           "--specimen-type", "tissue", "--assay", "X", "--genome-build", "GRCh38", "--panel-size-mb", "1",
           "--treating-site", "H1", "--tumor-type", "LUAD"]


@pytest.fixture
def truncated_gzip(tmp_path) -> Path:
    """A plain-gzip VCF cut off in transfer (what a lab's copy left)."""
    whole = tmp_path / "whole.vcf.gz"
    with gzip.open(VCF) as source, gzip.open(whole, "wb") as target:
        shutil.copyfileobj(source, target)
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return cut


def publish(path: Path, *extra: str, **env: str):
    env = {"ONCORELAY_KAFKA_BOOTSTRAP": "127.0.0.1:1", "HOME": env.pop("HOME", "/tmp"), **env}
    return CliRunner().invoke(cli.main, ["publish", str(path), *OPTIONS, *extra], env=env)


def said(run) -> str:
    """The output as one line (the console wraps long lines)."""
    return " ".join(run.output.split())


def test_help_lists_every_exit_status():
    run = CliRunner().invoke(cli.main, ["publish", "--help"])
    assert run.exit_code == 0
    for code, meaning in MEANING.items():
        assert f"{int(code)} {' '.join(meaning.split())}" in said(run)


def test_a_cut_off_plain_gzip_is_recognised_and_would_be_published_as_it_is(truncated_gzip, tmp_path):
    with pytest.raises(DamagedFile, match="ends before its end marker"):
        as_bgzf(truncated_gzip, tmp_path / "spool")
    with pytest.raises(DamagedFile, match="lacks the end-of-file block"):
        as_bgzf(NO_EOF, tmp_path / "spool")
    run = publish(truncated_gzip, HOME=str(tmp_path))
    assert "cut off in transfer" in said(run) and "published as it is" in said(run)
    assert run.exit_code == Exit.KAFKA_UNREACHABLE  # this test has no broker: it says so, and nothing else
    assert "Aborted" not in run.output and "Traceback" not in run.output


def test_kafka_unreachable_is_one_sentence_and_its_own_status(tmp_path):
    run = publish(VCF, HOME=str(tmp_path))
    assert run.exit_code == Exit.KAFKA_UNREACHABLE
    assert "cannot reach Kafka at 127.0.0.1:1" in said(run) and "nothing was published" in said(run)
    assert "Traceback" not in run.output


def test_invalid_metadata_is_refused_before_publishing(tmp_path):
    run = CliRunner().invoke(cli.main, ["publish", str(VCF), *OPTIONS[:4], "--patient", "John Smith", *OPTIONS[6:]],
                             env={"HOME": str(tmp_path)})
    assert run.exit_code == Exit.INVALID_METADATA and "the result is not valid" in said(run)


def test_an_oversized_file_is_refused_with_the_limit(tmp_path):
    run = publish(VCF, HOME=str(tmp_path), ONCORELAY_MAX_VCF_BYTES="1000")
    assert run.exit_code == Exit.TOO_LARGE and "accepts VCFs up to" in said(run)


def test_an_unreadable_file_says_so(tmp_path, monkeypatch):
    def refuse(vcf, spool):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cli, "as_bgzf", refuse)
    run = publish(VCF, HOME=str(tmp_path))
    assert run.exit_code == Exit.UNREADABLE_FILE and "cannot read" in said(run) and "Permission denied" in said(run)


def test_a_missing_file_or_option_is_a_usage_error(tmp_path):
    assert publish(tmp_path / "nothing.vcf").exit_code == Exit.USAGE
    assert CliRunner().invoke(cli.main, ["publish", str(VCF)]).exit_code == Exit.USAGE
