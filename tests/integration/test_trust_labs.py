"""Trust boundaries on the lab side, against the real stack (issue 18, findings 1-3): a lab cannot amend
another lab's result or move a case to another hospital, unregistered labs are refused, a lab sends only
for its registered hospitals, and an operator's case transfer is the one way a case changes hands."""

import json
import urllib.error
import urllib.request

import pytest

from contracts import topics
from tests.badinput.corpus import good_message, gzip_bgzf
from tests.integration.conftest import wait_until
from tests.support.kafka import produce, read_all
from tests.support.labs import OWN_TOPIC_LAB, register

SOMATIC_KRAS = b"""##fileformat=VCFv4.2
##reference=GRCh38
##contig=<ID=chr12,length=133275309>
##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: Allele|Consequence|SYMBOL|HGVSc|HGVSp|CANONICAL">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR
chr12\t25245350\t.\tC\tA\t50\tPASS\tCSQ=A|missense_variant|KRAS|ENST00000256078.10:c.35G>T|ENSP00000256078.5:p.Gly12Val|YES\tGT:AF\t0/1:0.21
"""


def _message(result_id: str, case_id: str, lab_id: str, site: str, version: int = 1, vcf: bytes | None = None) -> bytes:
    document = json.loads(good_message(result_id, case_id, lab_id=lab_id, vcf=vcf))
    document.update(treating_site=site, result_version=version)
    return json.dumps(document).encode()


def _receipt(stack, result_id: str, version: int = 1, topic: str = topics.LAB_RECEIPTS) -> dict:
    bootstrap = stack.env["ONCORELAY_KAFKA_BOOTSTRAP"]

    def found():
        for key, value in read_all(bootstrap, topic, idle_s=0.5):
            if key == result_id.encode() and value.get("result_version") == version:
                return value
        return None

    return wait_until(found, 60, f"the receipt of {result_id} v{version}")


def _publish(stack, result_id: str, value: bytes, topic: str = topics.LAB_RESULTS) -> None:
    produce(stack.env["ONCORELAY_KAFKA_BOOTSTRAP"], topic, result_id.encode(), value)


def _codes(receipt: dict) -> list[str]:
    return [r["code"] for r in receipt["reasons"]]


def _api(stack, path: str, token: str) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{stack.services.api_port}{path}")
    request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _team_token(stack, team: str, site: str) -> str:
    run = stack.cli("teams", "create", team, "--site", site)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)["token"]


@pytest.fixture
def ids(stack, request):
    return f"{request.node.name[-18:]}-{stack.run_id}".replace("_", "-")


def test_a_lab_cannot_amend_another_labs_result(stack, ids):
    register(stack.db, f"LAB-B-{ids}", ["HOSP-B"])
    register(stack.db, f"LAB-EVIL-{ids}", ["HOSP-B"])
    result_id, case_id = f"R-OWN-{ids}", f"CASE-OWN-{ids}"
    _publish(stack, result_id, _message(result_id, case_id, f"LAB-B-{ids}", "HOSP-B"))
    assert _receipt(stack, result_id)["status"] == "accepted"
    wait_until(lambda: stack.db.cases.find_one({"_id": case_id, "state": "alerted"}), 60, "the case alerted")

    _publish(stack, result_id, _message(result_id, case_id, f"LAB-EVIL-{ids}", "HOSP-B", version=2,
                                        vcf=gzip_bgzf(SOMATIC_KRAS)))
    receipt = _receipt(stack, result_id, 2)
    assert receipt["status"] == "rejected" and _codes(receipt) == ["result_owned_by_other_lab"]
    assert [d["lab_id"] for d in stack.db.results.find({"result_id": result_id})] == [f"LAB-B-{ids}"]
    assert stack.db.alerts.count_documents({"case_id": case_id}) == 1
    dead = [v for k, v in read_all(stack.env["ONCORELAY_KAFKA_BOOTSTRAP"], topics.LAB_RESULTS_DLQ, idle_s=0.5)
            if k == result_id.encode()]
    assert [r["code"] for d in dead for r in d["reasons"]] == ["result_owned_by_other_lab"]


def test_a_result_cannot_move_a_case_to_another_hospital_only_an_operator_transfer_can(stack, ids):
    register(stack.db, f"LAB-B-{ids}", ["HOSP-B"])
    register(stack.db, f"LAB-AB-{ids}", ["HOSP-A", "HOSP-B"])
    team_a, team_b = _team_token(stack, f"MTB-A-{ids}", "HOSP-A"), _team_token(stack, f"MTB-B-{ids}", "HOSP-B")
    case_id = f"CASE-SITE-{ids}"
    _publish(stack, f"R-SITE1-{ids}", _message(f"R-SITE1-{ids}", case_id, f"LAB-B-{ids}", "HOSP-B"))
    assert _receipt(stack, f"R-SITE1-{ids}")["status"] == "accepted"
    wait_until(lambda: stack.db.alerts.find_one({"case_id": case_id, "routed": True}), 60, "the alert routed")

    _publish(stack, f"R-SITE2-{ids}", _message(f"R-SITE2-{ids}", case_id, f"LAB-AB-{ids}", "HOSP-A"))
    receipt = _receipt(stack, f"R-SITE2-{ids}")
    assert receipt["status"] == "rejected" and _codes(receipt) == ["case_site_conflict"]
    assert stack.db.cases.find_one({"_id": case_id})["treating_site"] == "HOSP-B"
    assert _api(stack, f"/api/v1/cases/{case_id}", team_b) == 200
    assert _api(stack, f"/api/v1/cases/{case_id}", team_a) == 404

    moved = stack.cli("cases", "transfer", case_id, "--to", "HOSP-A", "--note", "patient moved to HOSP-A")
    assert moved.returncode == 0, moved.stderr
    assert json.loads(moved.stdout) == {"case_id": case_id, "from_site": "HOSP-B", "to_site": "HOSP-A"}
    [entry] = stack.db.audit.find({"case_id": case_id, "action": "case_transferred"})
    assert entry["detail"] == {"from_site": "HOSP-B", "to_site": "HOSP-A", "note": "patient moved to HOSP-A"}
    assert entry["actor"].startswith("operator:")
    assert _api(stack, f"/api/v1/cases/{case_id}", team_a) == 200
    assert _api(stack, f"/api/v1/cases/{case_id}", team_b) == 404
    assert {a["treating_site"] for a in stack.db.alerts.find({"case_id": case_id})} == {"HOSP-A"}

    _publish(stack, f"R-SITE3-{ids}", _message(f"R-SITE3-{ids}", case_id, f"LAB-AB-{ids}", "HOSP-A"))
    assert _receipt(stack, f"R-SITE3-{ids}")["status"] == "accepted"


def _keys(stack, topic: str) -> set[bytes]:
    return {key for key, _ in read_all(stack.env["ONCORELAY_KAFKA_BOOTSTRAP"], topic, idle_s=0.5)}


def test_a_lab_with_its_own_topic_gets_its_receipts_there_and_no_other_lab_id_passes_on_it(stack, ids):
    """Where ACLs let only a lab's principal write its own topic (ONCORELAY_LAB_TOPICS), a result on that topic
    is the lab's: another lab_id is refused, and the lab's results are refused on the shared topic."""
    own_results, own_receipts = topics.lab_results(OWN_TOPIC_LAB), topics.lab_receipts(OWN_TOPIC_LAB)
    mine, forged, shared = f"R-MINE-{ids}", f"R-FORGED-{ids}", f"R-SHARED-{ids}"
    _publish(stack, mine, _message(mine, f"CASE-MINE-{ids}", OWN_TOPIC_LAB, "HOSP-A"), own_results)
    assert _receipt(stack, mine, topic=own_receipts)["status"] == "accepted"

    _publish(stack, forged, _message(forged, f"CASE-FORGED-{ids}", "LAB01", "HOSP-A"), own_results)
    receipt = _receipt(stack, forged, topic=own_receipts)  # to the writer's channel, not the claimed lab's
    assert receipt["status"] == "rejected" and _codes(receipt) == ["lab_topic_mismatch"], receipt
    assert stack.db.cases.find_one({"_id": f"CASE-FORGED-{ids}"}) is None
    [dead] = [v for k, v in read_all(stack.env["ONCORELAY_KAFKA_BOOTSTRAP"], topics.LAB_RESULTS_DLQ, idle_s=0.5)
              if k == forged.encode()]
    assert dead["source_topic"] == own_results

    _publish(stack, shared, _message(shared, f"CASE-SHARED-{ids}", OWN_TOPIC_LAB, "HOSP-A"))
    receipt = _receipt(stack, shared)
    assert receipt["status"] == "rejected" and _codes(receipt) == ["lab_topic_required"], receipt
    assert own_results in receipt["reasons"][0]["message"]
    assert {mine.encode(), forged.encode()}.isdisjoint(_keys(stack, topics.LAB_RECEIPTS))
    assert shared.encode() not in _keys(stack, own_receipts)


def test_the_cli_publishes_on_the_labs_own_topic_when_told_to(stack, ids, tmp_path):
    vcf = tmp_path / "kras.vcf"
    vcf.write_bytes(SOMATIC_KRAS)
    run = stack.cli("publish", str(vcf), "--lab", OWN_TOPIC_LAB, "--case", f"CASE-CLI-{ids}", "--patient",
                    f"PSN-CLI-{ids}", "--specimen-id", f"SP-CLI-{ids}", "--specimen-type", "tissue", "--tumor-type", "LUAD", "--assay", "PANEL-1",
                    "--genome-build", "GRCh38", "--panel-size-mb", "1.2", "--treating-site", "HOSP-A",
                    "--result-id", f"R-CLI-{ids}", "--wait", "--timeout", "60", ONCORELAY_PUBLISH_OWN_TOPIC="true")
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["status"] == "accepted"
    assert f"R-CLI-{ids}".encode() in _keys(stack, topics.lab_results(OWN_TOPIC_LAB))


def test_an_unregistered_lab_is_refused_by_default(stack, ids):
    result_id = f"R-NOLAB-{ids}"
    _publish(stack, result_id, _message(result_id, f"CASE-NOLAB-{ids}", "LAB-NEVER-REGISTERED", "HOSP-A"))
    receipt = _receipt(stack, result_id)
    assert receipt["status"] == "rejected" and _codes(receipt) == ["unknown_lab"]
    assert "oncorelay labs create" in receipt["reasons"][0]["message"]
    assert stack.db.cases.find_one({"_id": f"CASE-NOLAB-{ids}"}) is None


def test_a_lab_sends_only_for_its_registered_hospitals(stack, ids):
    register(stack.db, f"LAB-C-{ids}", ["HOSP-C"])
    result_id = f"R-OTHERSITE-{ids}"
    _publish(stack, result_id, _message(result_id, f"CASE-OTHERSITE-{ids}", f"LAB-C-{ids}", "HOSP-D"))
    receipt = _receipt(stack, result_id)
    assert receipt["status"] == "rejected" and _codes(receipt) == ["site_not_permitted"]
    assert stack.db.cases.find_one({"_id": f"CASE-OTHERSITE-{ids}"}) is None


def test_labs_are_registered_listed_and_removed_with_the_cli(stack, ids):
    lab = f"LAB-CLI-{ids}"
    created = stack.cli("labs", "create", lab, "--site", "HOSP-A", "--site", "HOSP-B",
                        "--reference-source", "https://files.lab.example/results")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["reference_sources"] == ["https://files.lab.example/results/"]
    listed = {d["lab_id"]: d for d in json.loads(stack.cli("labs", "list").stdout)}
    assert listed[lab]["site_ids"] == ["HOSP-A", "HOSP-B"] and listed[lab]["any_site"] is False
    refused = stack.cli("labs", "create", lab, "--site", "HOSP-A", "--reference-source", "https://u:p@host/x")
    assert refused.returncode == 2 and "no user or password" in refused.stderr
    assert stack.cli("labs", "create", lab).returncode == 2  # a lab needs its hospitals
    assert stack.cli("labs", "remove", lab).returncode == 0
    missing = stack.cli("labs", "remove", lab)
    assert missing.returncode == 1 and "oncorelay labs list" in missing.stderr
