"""Which stored findings a case view reports: the rule shared by `oncorelay case show` and notify's
summary and FHIR export (both read annotate's stored interpretations, shaped by contracts)."""

from typing import Any

# Oncogenicity calls as annotate writes them (ClinGen/CGC/VICC oncogenicity SOP: Horak et al., Genet Med
# 2022, PMID:35101336; annotate's rules are in services/annotate/domain/oncogenicity.py).
ONCOGENIC = "oncogenic"
LIKELY_ONCOGENIC = "likely_oncogenic"
# AMP/ASCO/CAP 2017 (Li et al., J Mol Diagn 2017, PMID:27993330): tier I (strong) and tier II (potential
# clinical significance) are the variants of clinical significance a report lists; tier III (VUS) are counted.
REPORTED_TIERS = ("I", "II")


def reportable(finding: dict[str, Any]) -> bool:
    """A stored finding of tier I or II, or (likely) oncogenic whatever its tier."""
    return finding["amp_tier"] in REPORTED_TIERS or finding.get("oncogenicity") in (ONCOGENIC, LIKELY_ONCOGENIC)
