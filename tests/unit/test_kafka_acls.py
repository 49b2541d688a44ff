"""The ACLs of a lab with its own topics: write its results, read its receipts, as its registered principal."""

from contracts.registry import Lab
from services.common.kafka_acls import lab_acls


def test_a_lab_gets_write_on_its_results_and_read_on_its_receipts_only():
    [write, read] = lab_acls(Lab(lab_id="LAB-GENT", site_ids=["HOSP-GENT"]))
    assert write == ["--add", "--allow-principal", "User:LAB-GENT", "--operation", "Write", "--operation", "Describe",
                     "--topic", "oncorelay.lab.LAB-GENT.results.v1"]
    assert read == ["--add", "--allow-principal", "User:LAB-GENT", "--operation", "Read", "--operation", "Describe",
                    "--topic", "oncorelay.lab.LAB-GENT.receipts.v1"]


def test_the_registered_principal_is_the_one_granted():
    lab = Lab(lab_id="LAB-GENT", site_ids=[], any_site=True, kafka_principal="User:CN=mol.uzgent.be")
    assert {acl[2] for acl in lab_acls(lab)} == {"User:CN=mol.uzgent.be"}
