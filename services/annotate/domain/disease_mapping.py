"""CIViC disease names and Disease Ontology ids mapped to OncoTree codes (knowledge/civic_disease_to_oncotree.yaml)."""

from dataclasses import dataclass
from pathlib import Path

import yaml

SHIPPED_MAPPING = Path(__file__).resolve().parents[1] / "knowledge" / "civic_disease_to_oncotree.yaml"


@dataclass(frozen=True)
class DiseaseMapping:
    """CIViC disease (DOID / name) -> OncoTree code; each row of the YAML names the OncoTree node it chose."""

    by_doid: dict[str, str]
    by_name: dict[str, str]

    @classmethod
    def load(cls, path: str | Path) -> "DiseaseMapping":
        rows = yaml.safe_load(Path(path).read_text())["mappings"]
        by_doid = {str(r["doid"]): r["oncotree_code"] for r in rows if r.get("doid")}
        by_name = {r["civic_disease"].lower(): r["oncotree_code"] for r in rows}
        return cls(by_doid, by_name)

    def code_for(self, disease: str | None, doid: str | None = None) -> str | None:
        """OncoTree code for a CIViC disease, by DOID first, then by name; None when unmapped."""
        if doid and str(doid) in self.by_doid:
            return self.by_doid[str(doid)]
        return self.by_name.get((disease or "").strip().lower())
