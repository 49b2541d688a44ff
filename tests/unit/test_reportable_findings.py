"""The reportable-finding rule that `oncorelay case show` and notify's summary/FHIR export share."""

import pytest

from contracts.findings import reportable
from services.annotate.domain import oncogenicity


@pytest.mark.parametrize(("tier", "call", "expected"), [
    ("I", "vus", True),
    ("II", None, True),
    ("III", "oncogenic", True),
    ("III", "likely_oncogenic", True),
    ("III", "vus", False),
    ("IV", None, False),
])
def test_tier_i_ii_or_oncogenic_findings_are_reported(tier, call, expected):
    finding = {"amp_tier": tier, **({"oncogenicity": call} if call else {})}
    assert reportable(finding) is expected


def test_the_rule_uses_the_calls_annotate_writes():
    for call in (oncogenicity.ONCOGENIC, oncogenicity.LIKELY_ONCOGENIC):
        assert reportable({"amp_tier": "III", "oncogenicity": call})
    assert not reportable({"amp_tier": "III", "oncogenicity": oncogenicity.VUS})
