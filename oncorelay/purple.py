"""A Hartwig `purple.purity.tsv` (PURPLE 2.x to 4.x; the column set drifts, so columns are read by name): the
purity, MSI status and TMB the lab's pipeline measured, as the publish command's QC, MSI and TMB."""

import csv
from pathlib import Path

MSI = {"MSS": "MSS", "MSI": "MSI-H"}  # PURPLE's msStatus (UNKNOWN stays unset)


def purity_summary(path: Path) -> dict[str, float | str]:
    """{tumour_cell_content, msi_status, tmb} from the TSV's first row, each only when present and readable.
    Raises ValueError for a file that is not a purple.purity.tsv."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    if not rows or "purity" not in rows[0]:
        raise ValueError(f"{path.name} is not a PURPLE purity file (no 'purity' column)")
    row = {key.strip(): (value or "").strip() for key, value in rows[0].items() if key}
    summary: dict[str, float | str] = {}
    for key, column in (("tumour_cell_content", "purity"), ("tmb", "tmbPerMb")):
        try:
            summary[key] = round(float(row[column]), 4)
        except (KeyError, ValueError):
            pass
    if row.get("msStatus") in MSI:
        summary["msi_status"] = MSI[row["msStatus"]]
    return summary


def purity_file_beside(vcf: Path) -> Path | None:
    """The purple.purity.tsv written beside a PURPLE somatic VCF (same sample prefix), if there is one."""
    name = vcf.name
    for suffix in (".purple.somatic.vcf.gz", ".purple.somatic.vcf", "purple.somatic.vcf.gz"):
        if name.endswith(suffix):
            candidate = vcf.with_name(name[: -len(suffix)] + suffix.replace("somatic.vcf.gz", "purity.tsv")
                                      .replace("somatic.vcf", "purity.tsv"))
            return candidate if candidate.is_file() else None
    return None
