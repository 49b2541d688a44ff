"""`oncorelay labs report LAB`: a lab's results per assay over a period, the numbers drift shows first (pure):
results accepted and rejected with the commonest reasons, variants per result, median TMB, median allele
fraction, lab-reported tumour content and the share of non-informative results."""

from collections import Counter
from statistics import median
from typing import Any


def _median(values: list[float]) -> float | None:
    return round(median(values), 4) if values else None


def lab_report(results: list[dict[str, Any]], rejections: list[dict[str, Any]],
               interpretations: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per assay: `results` (accepted result documents), `rejections` (audit details of rejected ones),
    `interpretations` (by result key, the unpacked Interpretation JSON)."""
    assays = sorted({r["assay"]["name"] for r in results} | {str(r.get("assay") or "unknown") for r in rejections})
    rows = []
    for assay in assays:
        accepted = [r for r in results if r["assay"]["name"] == assay]
        refused = [r for r in rejections if str(r.get("assay") or "unknown") == assay]
        interpreted = [interpretations[k] for k in (f"{r['result_id']}@{r['result_version']}" for r in accepted)
                       if k in interpretations]
        vafs = [_median([v["vaf"] for v in i["current_specimen"]["variants"] if v.get("vaf") is not None])
                for i in interpreted]
        rows.append({
            "assay": assay, "accepted": len(accepted), "rejected": len(refused),
            "rejection_rate": round(len(refused) / (len(accepted) + len(refused)), 3) if accepted or refused else None,
            "top_reasons": Counter(code for r in refused for code in r.get("codes") or []).most_common(3),
            "median_variants": _median([float(r["variant_count"]) for r in accepted]),
            "median_tmb_per_mb": _median([i["tmb"]["tmb_per_mb"] for i in interpreted
                                          if i["tmb"].get("tmb_per_mb") is not None]),
            "median_vaf": _median([v for v in vafs if v is not None]),
            "median_tumour_content": _median([r["qc"]["tumour_cell_content"] for r in accepted
                                              if (r.get("qc") or {}).get("tumour_cell_content") is not None]),
            "non_informative_share": round(sum(not i["qc"]["informative"] for i in interpreted) / len(interpreted), 3)
            if interpreted else None,
        })
    return rows
