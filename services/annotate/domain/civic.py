"""Importer of CIViC nightly/monthly TSV exports (CIViC data are CC0) into KbRecord documents.

Columns are read by header name; rows longer or shorter than the header are tolerated. Two layouts are read:
the gene/variant layout (to 2022: `gene`, `variant`, `drugs`, `clinical_significance`, VariantSummaries with
coordinates) and the molecular-profile layout (2023 on: `molecular_profile` such as "BRAF V600E" or
"NTRK3 ETV6::NTRK3", `therapies`, `significance`, no coordinates). A profile that combines variants (AND, OR,
NOT) is not single-variant evidence and is not imported (counted in the warnings). Only accepted evidence is
kept. `diff` summarises what a newer export changed.
"""

import csv
import re
from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from services.annotate.domain.disease_mapping import DiseaseMapping
from services.annotate.domain.knowledge import AlterationMatch, GenomicLocus, KbRecord
from services.annotate.domain.protein import parse_protein, short_form

# CIViC evidence level -> AMP/ASCO/CAP 2017 level (Li et al., J Mol Diagn 2017, PMID:27993330). CIViC A (validated,
# guideline/approval) ~ AMP A; B (clinical trial / patient data) ~ AMP B; C (case study) ~ AMP C; D (preclinical) and
# E (inferential) ~ AMP D. CIViC level definitions: Griffith et al., Nat Genet 2017, PMID:28138153.
CIVIC_TO_AMP_LEVEL = {"A": "A", "B": "B", "C": "C", "D": "D", "E": "D"}

_TRUNCATING_NAMES = {"LOSS-OF-FUNCTION", "FRAMESHIFT TRUNCATION", "TRUNCATING MUTATION", "FRAMESHIFT MUTATION",
                     "NONSENSE MUTATION", "TRUNCATING FUSION"}
_ONCOGENIC_NAMES = {"MUTATION", "ONCOGENIC MUTATION", "ACTIVATING MUTATION", "GAIN-OF-FUNCTION",
                    "DELETERIOUS MUTATION", "ALTERATION"}


class CivicImport(BaseModel):
    """Records of one CIViC release and what the importer skipped or repaired."""

    release: str
    records: list[KbRecord]
    counts: dict[str, int]
    warnings: list[str] = Field(default_factory=list)


class CivicDiff(BaseModel):
    """What changed between two imports, per record type."""

    added: dict[str, int]
    removed: dict[str, int]
    changed: dict[str, int]
    unchanged: int
    examples: list[str] = Field(default_factory=list)


def read_tsv(path: Path, warnings: list[str]) -> list[dict[str, str]]:
    """Rows as header-keyed dicts; short rows are padded, overflow goes to the last column (and is reported)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = [h.strip() for h in next(reader)]
        rows = []
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                # Seen in CIViC 2021 VariantSummaries: the last (multi-valued URL) column is split by tabs.
                warnings.append(f"{path.name} line {number}: {len(values)} fields for {len(header)} columns; "
                                "overflow joined into the last column")
                values = values[: len(header) - 1] + [",".join(values[len(header) - 1:])]
            values = values + [""] * (len(header) - len(values))
            rows.append(dict(zip(header, (v.strip() for v in values), strict=True)))
        return rows


_EXON_CLASS = re.compile(r"EXON (\d+) (MUTATION|DELETION|INFRAME DELETION|INSERTION|INFRAME INSERTION)")


def parse_variant_name(gene: str, name: str) -> AlterationMatch:
    """CIViC variant name -> matcher: 'V600E', 'V600', 'G12/G13', 'AMPLIFICATION', 'EML4-ALK', 'EXON 19 DELETION'..."""
    text = re.sub(r"\s*\(c\.[^)]*\)", "", name).strip()
    up = text.upper()
    if up == "AMPLIFICATION":
        return AlterationMatch(kind="amplification")
    if up in {"LOSS", "DELETION", "COPY NUMBER LOSS"}:
        return AlterationMatch(kind="deletion")
    if "EXON 19" in up and "DEL" in up and " " not in up.replace("EXON 19 ", "", 1).strip().replace("INFRAME ", ""):
        return AlterationMatch(kind="exon19_inframe_deletion") if gene == "EGFR" else AlterationMatch(kind="unsupported")
    if up == "EXON 20 INSERTION" and gene == "EGFR":
        return AlterationMatch(kind="exon20_insertion")
    if "EXON 14 SKIPPING" in up and gene == "MET":
        return AlterationMatch(kind="met_exon14_skipping")
    if m := _EXON_CLASS.fullmatch(up):  # 'EXON 11 MUTATION': resolved by the knowledge base's exon table
        changes: dict[str, Literal["any", "deletion", "insertion"]] = {
            "MUTATION": "any", "DELETION": "deletion", "INFRAME DELETION": "deletion",
            "INSERTION": "insertion", "INFRAME INSERTION": "insertion"}
        change = changes[m.group(2)]
        return AlterationMatch(kind="exon", exon=int(m.group(1)), exon_change=change)
    if up in _TRUNCATING_NAMES:
        return AlterationMatch(kind="truncating")
    if up in _ONCOGENIC_NAMES:
        return AlterationMatch(kind="oncogenic_mutation")
    if "FUSION" in up or up == "REARRANGEMENT":
        return AlterationMatch(kind="fusion")
    return _parse_specific(gene, text)


def _parse_specific(gene: str, text: str) -> AlterationMatch:
    text = text.replace("::", "-")  # the current fusion notation, 'ETV6::NTRK3', as the older 'ETV6-NTRK3'
    tokens = text.split()
    if len(tokens) == 2 and re.fullmatch(r"[A-Za-z0-9]+-[A-Za-z0-9]+", tokens[0]) and re.fullmatch(r"e\d+-e\d+", tokens[1]):
        tokens = tokens[:1]  # 'EML4-ALK e6-e20': the fusion, whichever exons it joins
        text = tokens[0]
    if len(tokens) == 2 and "-" in tokens[0]:  # 'BCR-ABL T315I': a point mutation within a fusion
        text = tokens[1]
    elif len(tokens) == 1 and re.fullmatch(r"[A-Za-z0-9]+-[A-Za-z0-9]+", text):
        left, right = text.split("-")
        partner = left if gene.startswith(right[:3]) else right
        return AlterationMatch(kind="fusion", partner=partner)
    if re.fullmatch(r"[A-Z]\d+(/[A-Z]\d+)*", text):  # codon-level: 'V600', 'G12/G13'
        return AlterationMatch(kind="protein", codons=[int(c[1:]) for c in text.split("/")])
    if re.fullmatch(r"[A-Z]\d+[A-Z](/[A-Z])+", text):  # 'V600E/K'
        stem = text[:-2 * text.count("/") - 1]
        return AlterationMatch(kind="protein", proteins=[stem + alt for alt in text[len(stem):].split("/")])
    change = parse_protein(text)
    if change is not None and " " not in text and (protein := short_form(text)) is not None:
        return AlterationMatch(kind="protein", proteins=[protein])
    return AlterationMatch(kind="unsupported")


def _locus(row: dict[str, str]) -> list[GenomicLocus]:
    start = row.get("start", "")
    if not (row.get("chromosome") and start.isdigit()):
        return []
    builds: dict[str, Literal["GRCh37", "GRCh38"]] = {"GRCh37": "GRCh37", "GRCh38": "GRCh38"}
    build = builds.get(row.get("reference_build") or "GRCh37")
    if build is None:
        return []
    stop = row.get("stop", "")
    return [GenomicLocus(build=build, chrom=row["chromosome"], pos=int(start), end=int(stop) if stop.isdigit() else None,
                         ref=row.get("reference_bases", ""), alt=row.get("variant_bases", ""))]


def _snake(text: str) -> str | None:
    text = text.strip()
    if not text or text.upper() == "N/A":
        return None
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_").replace("sensitivity_response", "sensitivity")


def _citation(row: dict[str, str]) -> list[str]:
    cid, kind = row.get("citation_id", ""), row.get("source_type", "")
    label = row.get("citation", "")
    if not cid:
        return [label] if label else []
    prefix = "PMID" if kind.lower() == "pubmed" else kind.upper() or "SOURCE"
    return [f"{prefix}:{cid}" + (f" ({label})" if label else "")]


def _drugs(row: dict[str, str]) -> list[str]:
    return [d.strip().lower() for d in row.get("drugs", "").split(",") if d.strip()]


def _tumour(mapping: DiseaseMapping, row: dict[str, str]) -> list[str]:
    code = mapping.code_for(row.get("disease"), row.get("doid"))
    return [code] if code else []


def _variant_records(rows: list[dict[str, str]]) -> list[KbRecord]:
    return [KbRecord(
        record_id=f"civic:VID{r['variant_id']}", source="civic", record_type="variant", gene=r["gene"],
        alteration=r["variant"], match=parse_variant_name(r["gene"], r["variant"]), loci=_locus(r),
        variant_id=r["variant_id"], citations=[r.get("variant_civic_url", "")] if r.get("variant_civic_url") else [],
    ) for r in rows if r.get("variant_id")]


def _evidence_records(rows: list[dict[str, str]], mapping: DiseaseMapping, loci: dict[str, list[GenomicLocus]]) -> list[KbRecord]:
    records = []
    for r in rows:
        if r.get("evidence_status", "accepted") != "accepted" or not r.get("evidence_id"):
            continue
        level = r.get("evidence_level", "")
        records.append(KbRecord(
            record_id=f"civic:EID{r['evidence_id']}", source="civic", record_type="evidence", gene=r["gene"],
            alteration=r["variant"], match=parse_variant_name(r["gene"], r["variant"]),
            loci=_locus(r) or loci.get(r.get("variant_id", ""), []), tumor_types=_tumour(mapping, r),
            disease=r.get("disease") or None, evidence_type=_snake(r.get("evidence_type", "")),
            direction=_snake(r.get("evidence_direction", "")), significance=_snake(r.get("clinical_significance", "")),
            therapies=_drugs(r), evidence_level=level or None,
            amp_level=CIVIC_TO_AMP_LEVEL.get(level), citations=_citation(r),
            rating=int(r["rating"]) if r.get("rating", "").isdigit() else None, variant_id=r.get("variant_id") or None,
        ))
    return records


def _assertion_records(rows: list[dict[str, str]], mapping: DiseaseMapping, loci: dict[str, list[GenomicLocus]]) -> list[KbRecord]:
    records = []
    for r in rows:
        if not r.get("assertion_id"):
            continue
        m = re.match(r"Tier (I{1,3}|IV)(?: - Level ([A-D]))?", r.get("amp_category", ""))
        records.append(KbRecord(
            record_id=f"civic:AID{r['assertion_id']}", source="civic", record_type="assertion", gene=r["gene"],
            alteration=r["variant"], match=parse_variant_name(r["gene"], r["variant"]),
            loci=loci.get(r.get("variant_id", ""), []), tumor_types=_tumour(mapping, r), disease=r.get("disease") or None,
            evidence_type=_snake(r.get("assertion_type", "")), direction=_snake(r.get("assertion_direction", "")),
            significance=_snake(r.get("clinical_significance", "")),
            therapies=_drugs(r),
            evidence_level="assertion", amp_tier=m.group(1) if m else None, amp_level=m.group(2) if m else None,
            citations=[r["assertion_civic_url"]] if r.get("assertion_civic_url") else [],
            variant_id=r.get("variant_id") or None, note=r.get("amp_category") or None,
        ))
    return records


_COMBINED_PROFILE = re.compile(r"\s(AND|OR)\s|\bNOT\b")


def molecular_profile_rows(rows: list[dict[str, str]], warnings: list[str]) -> list[dict[str, str]]:
    """Rows of the molecular-profile layout in the gene/variant layout's columns; rows of the older layout as
    they are. A combined profile (AND/OR/NOT) is left out, and the number left out is reported."""
    if not rows or "gene" in rows[0] or "molecular_profile" not in rows[0]:
        return rows
    out, combined = [], 0
    for row in rows:
        profile = row.get("molecular_profile", "").strip()
        if _COMBINED_PROFILE.search(profile):
            combined += 1
            continue
        gene, _, variant = profile.partition(" ")
        out.append({**row, "gene": gene, "variant": variant.strip(), "drugs": row.get("therapies", ""),
                    "clinical_significance": row.get("significance", "")})
    if combined:
        warnings.append(f"{combined} evidence items on combined molecular profiles (AND/OR/NOT) are not "
                        "single-variant evidence: not imported")
    return out


def _find(directory: Path, suffix: str) -> Path | None:
    matches = sorted(directory.glob(f"*{suffix}"))
    return matches[-1] if matches else None


def import_release(directory: str | Path, mapping: DiseaseMapping) -> CivicImport:
    """Read a CIViC export directory (ClinicalEvidenceSummaries, and VariantSummaries and AssertionSummaries
    when present) of either layout."""
    directory = Path(directory)
    warnings: list[str] = []
    variants_path = _find(directory, "VariantSummaries.tsv")
    evidence_path = _find(directory, "ClinicalEvidenceSummaries.tsv")
    assertions_path = _find(directory, "AssertionSummaries.tsv")
    if evidence_path is None:
        raise FileNotFoundError(f"no *ClinicalEvidenceSummaries.tsv in {directory}: is this a CIViC export directory?")
    release = evidence_path.name.removesuffix("-ClinicalEvidenceSummaries.tsv")
    variant_rows = read_tsv(variants_path, warnings) if variants_path else []
    variants = _variant_records([r for r in variant_rows if r.get("variant_id") and r.get("gene")])
    loci = {v.variant_id: v.loci for v in variants if v.variant_id}
    evidence = _evidence_records(molecular_profile_rows(read_tsv(evidence_path, warnings), warnings), mapping, loci)
    assertions = (_assertion_records(molecular_profile_rows(read_tsv(assertions_path, warnings), warnings), mapping,
                                     loci) if assertions_path else [])
    records = variants + evidence + assertions
    record_types: Counter[str] = Counter(r.record_type for r in records)
    counts = dict(record_types)
    unmapped = sum(1 for r in evidence + assertions if not r.tumor_types)
    if unmapped:
        warnings.append(f"{unmapped} evidence items/assertions have a disease with no OncoTree mapping (other-tumour only)")
    return CivicImport(release=release, records=records, counts=counts, warnings=warnings)


def diff(old_records: list[KbRecord], new_records: list[KbRecord], examples: int = 10) -> CivicDiff:
    """Added / removed / changed record counts by record type between two imports."""
    old = {r.record_id: r for r in old_records}
    new = {r.record_id: r for r in new_records}
    added: Counter[str] = Counter(new[i].record_type for i in new.keys() - old.keys())
    removed: Counter[str] = Counter(old[i].record_type for i in old.keys() - new.keys())
    changed_ids = sorted(i for i in new.keys() & old.keys() if new[i] != old[i])
    changed: Counter[str] = Counter(new[i].record_type for i in changed_ids)
    sample = sorted(new.keys() - old.keys())[:examples] + sorted(old.keys() - new.keys())[:examples] + changed_ids[:examples]
    return CivicDiff(added=dict(added), removed=dict(removed), changed=dict(changed),
                     unchanged=len(new.keys() & old.keys()) - len(changed_ids), examples=sample)
