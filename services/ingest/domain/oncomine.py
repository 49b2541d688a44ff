"""Thermo Fisher Oncomine / Ion Reporter annotations (pure): the INFO `FUNC` field, a single-quoted Python-literal
list of dicts (not JSON), read with ast.literal_eval (which evaluates literals only, never code), and mapped to
the gene, consequence, transcript and HGVS the other annotations give."""

import ast
from typing import Any

from services.ingest.domain.annotation import Annotation, clean_hgvs

MAX_FUNC_CHARS = 16 * 1024
# Oncomine Variant Annotation Tool `function` -> Sequence Ontology (the terms CSQ/ANN use)
FUNCTIONS = {
    "missense": "missense_variant", "synonymous": "synonymous_variant", "nonsense": "stop_gained",
    "stoploss": "stop_lost", "frameshiftInsertion": "frameshift_variant", "frameshiftDeletion": "frameshift_variant",
    "frameshiftBlockSubstitution": "frameshift_variant", "nonframeshiftInsertion": "inframe_insertion",
    "nonframeshiftDeletion": "inframe_deletion", "nonframeshiftBlockSubstitution": "inframe_deletion",
    "startloss": "start_lost", "splicesite_5": "splice_donor_variant", "splicesite_3": "splice_acceptor_variant",
}


def func_entries(value: Any) -> list[dict[str, Any]]:
    """The entries of one FUNC value (as pysam gives it: a string or a tuple of its comma-split parts); [] when
    it is not a list of dicts of literals."""
    text = ",".join(value) if isinstance(value, (tuple, list)) else value
    if not isinstance(text, str) or not text.startswith("[") or len(text) > MAX_FUNC_CHARS:
        return []
    try:
        parsed = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return []
    return [entry for entry in parsed if isinstance(entry, dict)] if isinstance(parsed, list) else []


def func_annotation(entries: list[dict[str, Any]], alt: str) -> Annotation | None:
    """The annotation of one ALT allele: the entry whose original or normalised ALT is it, else the first."""
    if not entries:
        return None
    entry = next((e for e in entries if alt in (e.get("origAlt"), e.get("normalizedAlt"))), entries[0])
    gene = entry.get("gene")
    if not isinstance(gene, str) or not gene:
        return None
    protein = entry.get("protein")
    return Annotation(
        source="oncomine", gene=gene, consequence=FUNCTIONS.get(str(entry.get("function") or "")),
        transcript=_text(entry.get("transcript")), hgvsc=clean_hgvs(_text(entry.get("coding"))),
        hgvsp=None if protein in (None, "p.(=)", "p.?") else clean_hgvs(_text(protein)),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
