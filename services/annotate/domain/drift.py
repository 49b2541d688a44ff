"""What a lab's results look like, for watching each lab and assay for drift (pure): the result's TMB, the median
allele fraction of the variants tracked in its specimen, the lab-reported tumour content and whether the result
was informative. No patient or case in them: they are exported labelled by lab and assay only."""

from statistics import median
from typing import NamedTuple

from contracts.events import VariantsIngested
from services.annotate.domain.interpret import Interpretation


class ResultMeasures(NamedTuple):
    tmb_per_mb: float | None
    median_vaf: float | None
    tumour_content: float | None
    informative: bool


def result_measures(event: VariantsIngested, interp: Interpretation) -> ResultMeasures:
    vafs = [v.vaf for v in interp.current_specimen.variants if v.vaf is not None]
    return ResultMeasures(
        tmb_per_mb=interp.tmb.tmb_per_mb, median_vaf=median(vafs) if vafs else None,
        tumour_content=event.qc.tumour_cell_content if event.qc else None, informative=interp.qc.informative,
    )
