"""OncoTree tumour types with their ancestry (OncoTree, Kundra et al., JCO Clin Cancer Inform 2021; CC BY 4.0),
for annotate (evidence for NSCLC applies to LUAD) and notify (a subscription to NSCLC receives LUAD).

The tree is read from a release JSON (e.g. oncotree_2025_10_03.json) or from the table oncorelay ships,
services/common/knowledge/oncotree.tsv, which `write_table` derives from a release JSON (attribution kept in its
header).
"""

import json
from dataclasses import dataclass
from pathlib import Path

ROOT = "TISSUE"
SHIPPED_TABLE = Path(__file__).resolve().parent / "knowledge" / "oncotree.tsv"


@dataclass(frozen=True)
class TumourType:
    code: str
    parent: str | None
    name: str
    main_type: str | None
    tissue: str | None


class OncoTree:
    """code -> TumourType map with ancestry queries."""

    def __init__(self, nodes: dict[str, TumourType], release: str = ""):
        self.nodes = nodes
        self.release = release
        self._ancestors: dict[str, tuple[str, ...]] = {}

    @classmethod
    def load(cls, path: str | Path) -> "OncoTree":
        """Read an OncoTree release JSON (nested 'children' dicts from the TISSUE root)."""
        path = Path(path)
        data = json.loads(path.read_text())
        nodes: dict[str, TumourType] = {}
        stack = list(data.values())
        while stack:
            node = stack.pop()
            nodes[node["code"]] = TumourType(node["code"], node.get("parent"), node.get("name", ""),
                                             node.get("mainType"), node.get("tissue"))
            stack.extend((node.get("children") or {}).values())
        return cls(nodes, release=path.stem)

    @classmethod
    def load_table(cls, path: str | Path) -> "OncoTree":
        """Read the shipped table: '# release: X' header, then code, parent, name, main type, tissue (TSV)."""
        nodes: dict[str, TumourType] = {}
        release = ""
        for line in Path(path).read_text().splitlines():
            if line.startswith("# release: "):
                release = line.removeprefix("# release: ").strip()
            if not line or line.startswith("#"):
                continue
            code, parent, name, main_type, tissue = line.split("\t")
            nodes[code] = TumourType(code, parent or None, name, main_type or None, tissue or None)
        return cls(nodes, release=release)

    def write_table(self, path: str | Path, source: str) -> None:
        """Write the tree as the shipped TSV table, citing the release it was derived from."""
        lines = [
            f"# release: {self.release}",
            f"# OncoTree tumour types derived from {source}.",
            "# OncoTree (MSK), CC BY 4.0; Kundra et al., JCO Clin Cancer Inform 2021.",
            "# columns: code, parent, name, main type, tissue",
        ]
        for code in sorted(self.nodes):
            node = self.nodes[code]
            lines.append("\t".join([code, node.parent or "", node.name, node.main_type or "", node.tissue or ""]))
        Path(path).write_text("\n".join(lines) + "\n")

    def __contains__(self, code: str) -> bool:
        return code in self.nodes

    def ancestors(self, code: str) -> tuple[str, ...]:
        """The code itself, then its parent, up to TISSUE; () for an unknown code."""
        if code not in self._ancestors:
            chain: list[str] = []
            current: str | None = code
            while current in self.nodes and current not in chain:
                chain.append(current)
                current = self.nodes[current].parent
            self._ancestors[code] = tuple(chain)
        return self._ancestors[code]

    def is_same_or_descendant(self, code: str, of: str) -> bool:
        """True when `code` is `of` or lies below it (LUAD is within NSCLC; anything is within TISSUE)."""
        return of in self.ancestors(code)

    def lineage(self, code: str) -> tuple[str, ...]:
        """The code and its ancestors; the code alone when this release does not know it."""
        return self.ancestors(code) or (code,)

    def name(self, code: str) -> str:
        return self.nodes[code].name if code in self.nodes else code


def load_oncotree(release_json: str | Path | None = None) -> OncoTree:
    """The OncoTree release JSON at `release_json`, or the table oncorelay ships."""
    return OncoTree.load(release_json) if release_json else OncoTree.load_table(SHIPPED_TABLE)
