"""Tumour-type lineage from OncoTree (so a subscription to NSCLC receives LUAD).

By default the table oncorelay ships (services/common/knowledge/oncotree.tsv, derived from the
2025-10-03 release, CC BY 4.0); `ONCORELAY_ONCOTREE_FILE` may name a newer release JSON.
"""

import json
from pathlib import Path

from services.notify.domain.routing import Lineage

SHIPPED_TABLE = Path(__file__).resolve().parents[2] / "common" / "knowledge" / "oncotree.tsv"


def _parents_from_release(path: Path) -> dict[str, str | None]:
    parents: dict[str, str | None] = {}
    stack = list(json.loads(path.read_text()).values())
    while stack:
        node = stack.pop()
        parents[node["code"]] = node.get("parent")
        stack.extend((node.get("children") or {}).values())
    return parents


def _parents_from_table(path: Path) -> dict[str, str | None]:
    rows = (line.split("\t") for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return {row[0]: row[1] or None for row in rows}


def load_lineage(path: str | None) -> Lineage:
    """A function code -> (code, parent, ..., TISSUE) from the release JSON at `path`, or the shipped table."""
    parents = _parents_from_release(Path(path)) if path else _parents_from_table(SHIPPED_TABLE)

    def lineage(code: str) -> tuple[str, ...]:
        chain = [code]
        while (parent := parents.get(chain[-1])) and parent not in chain:
            chain.append(parent)
        return tuple(chain)

    return lineage
