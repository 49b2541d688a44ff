"""Register the labs a test stack accepts (labs are closed by default)."""

from contracts.registry import Lab
from services.common.labs import registration

# The labs every test stack registers; they serve every hospital, as a network reference lab would.
# OWN_TOPIC_LAB publishes on its own topics (the test stack's ONCORELAY_LAB_TOPICS).
OWN_TOPIC_LAB = "LAB-OWN"
TEST_LABS = ("LAB01", "LAB-DEMO", OWN_TOPIC_LAB)


def register(db, lab_id: str, sites: list[str] | None = None, **fields) -> Lab:
    """Register `lab_id` in the (synchronous pymongo) database `db`: for `sites`, or every site when None."""
    lab = Lab(lab_id=lab_id, site_ids=sites or [], any_site=sites is None, **fields)
    db.labs.update_one({"_id": lab_id}, registration(lab), upsert=True)
    return lab


def register_test_labs(db) -> None:
    for lab_id in TEST_LABS:
        register(db, lab_id)
