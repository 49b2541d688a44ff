"""Whether a result is informative, from the QC measures its lab reports (pure).

A result that fails a threshold is non-informative: a negative finding in it is no reassurance, so triage never
marks it report-ready (knowledge/triage_rules.yaml decides whether it alerts). Thresholds are settings; a measure
the lab did not report is not judged (and said so). Defaults, and why:
- tumour cell content >= 20%: the minimum tumour content FDA-approved tissue CGP assays state for a valid result
  (FoundationOne CDx technical information: 20% tumour nuclei).
- ctDNA tumour fraction >= 1% (plasma): below it, a liquid biopsy's negative result may be a false negative
  (FoundationOne Liquid CDx reports tumour fraction >= 1% as elevated and advises tissue testing below it).
- median target depth: not judged unless configured (assays state their own minimum).
"""

from pydantic import BaseModel, Field

from contracts.events import ResultQc


class QcThresholds(BaseModel):
    min_tumour_cell_content: float | None = 0.2
    min_ctdna_tumour_fraction: float | None = 0.01
    min_median_target_depth: float | None = None


class QcAssessment(BaseModel):
    """The verdict on a result's QC and the reasons for it."""

    informative: bool
    reasons: list[str] = Field(default_factory=list)
    not_reported: bool = False
    limit_of_detection_vaf: float | None = None

    @property
    def summary(self) -> str:
        if self.not_reported:
            return "QC not reported by the lab"
        return "; ".join(self.reasons) if self.reasons else "QC passed"


def _percent(value: float) -> str:
    return f"{100 * value:g}%"


def assess(qc: ResultQc | None, specimen_type: str, thresholds: QcThresholds) -> QcAssessment:
    """Informative or not, with every failed measure named."""
    if qc is None:
        return QcAssessment(informative=True, not_reported=True)
    reasons = []
    if qc.lab_status == "fail":
        reasons.append("the lab's QC failed")
    low = thresholds.min_tumour_cell_content
    if specimen_type == "tissue" and low is not None and qc.tumour_cell_content is not None \
            and qc.tumour_cell_content < low:
        reasons.append(f"tumour cell content {_percent(qc.tumour_cell_content)} is below {_percent(low)}")
    low = thresholds.min_ctdna_tumour_fraction
    if specimen_type == "plasma" and low is not None and qc.ctdna_tumour_fraction is not None \
            and qc.ctdna_tumour_fraction < low:
        reasons.append(f"ctDNA tumour fraction {_percent(qc.ctdna_tumour_fraction)} is below {_percent(low)}: "
                       "a variant not detected may be present")
    low = thresholds.min_median_target_depth
    if low is not None and qc.median_target_depth is not None and qc.median_target_depth < low:
        reasons.append(f"median target depth {qc.median_target_depth:g}x is below {low:g}x")
    return QcAssessment(informative=not reasons, reasons=reasons, limit_of_detection_vaf=qc.limit_of_detection_vaf)
