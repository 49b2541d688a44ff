"""The Kafka ACLs a lab needs where it publishes on its own topics (pure): Write on its results topic, Read
on its receipts topic, nothing else. Its principal is the one registered for it (default User:<lab_id>), so
the broker, not the message, says which lab wrote a result."""

from contracts import topics
from contracts.registry import Lab


def lab_acls(lab: Lab) -> list[list[str]]:
    """kafka-acls.sh arguments (after --bootstrap-server and --command-config) granting `lab` its topics."""
    principal = lab.principal()
    return [
        ["--add", "--allow-principal", principal, "--operation", "Write", "--operation", "Describe",
         "--topic", topics.lab_results(lab.lab_id)],
        ["--add", "--allow-principal", principal, "--operation", "Read", "--operation", "Describe",
         "--topic", topics.lab_receipts(lab.lab_id)],
    ]
