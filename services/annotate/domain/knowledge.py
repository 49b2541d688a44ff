"""The knowledge base: serialisable records (MongoDB documents) and the indexed `KnowledgeBase` built from them.

Records come from the curated built-in set (knowledge/biomarkers.yaml) and from CIViC imports (civic.py).
Every model dumps to plain dicts with no arrays of arrays and no '.'/'$' in keys.
"""

import hashlib
import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from services.annotate.domain.protein import short_form

KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"
BUILTIN_PATH = KNOWLEDGE_DIR / "biomarkers.yaml"

MatchKind = Literal[
    "protein", "exon", "exon19_inframe_deletion", "exon20_insertion", "inframe_insertion", "inframe_deletion",
    "met_exon14_skipping", "truncating",
    "amplification", "deletion", "fusion", "oncogenic_mutation", "signature", "unsupported",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GenomicLocus(_Model):
    """A variant's position: VCF-style 1-based pos, ref/alt without padding base when CIViC gives none."""

    build: Literal["GRCh37", "GRCh38"]
    chrom: str
    pos: int
    end: int | None = None
    ref: str = ""
    alt: str = ""


class AlterationMatch(_Model):
    """How a sequenced variant is recognised as this record's alteration (see matching.py)."""

    kind: MatchKind
    proteins: list[str] = Field(default_factory=list)
    codons: list[int] = Field(default_factory=list)
    # kind 'protein': first and last codon of a region (an exon's codons on the MANE Select transcript); any
    # missense or in-frame change wholly inside it matches (a label's "exon N mutation").
    codon_range: tuple[int, int] | None = None
    # kind 'exon': a label's exon class, resolved against the reference exon table (ExonCodons) when the
    # knowledge base is built: 'any' missense or in-frame change, in-frame 'deletion' or 'insertion' in the exon.
    exon: int | None = None
    exon_change: Literal["any", "deletion", "insertion"] | None = None
    partner: str | None = None
    min_copy_number: float | None = None
    signature: str | None = None


EuStatus = Literal["ema_authorised", "fda_only", "guideline_only"]


class Approval(_Model):
    """One regulatory approval of the indication a row stands for (an FDA label or an EMA authorisation)."""

    agency: Literal["FDA", "EMA"]
    date: str | None = None  # YYYY-MM-DD as the agency announced it; None when the curators could not confirm it
    indication: str | None = None
    source: str


class KbRecord(_Model):
    """One knowledge-base row: a built-in biomarker, a CIViC evidence item, assertion or variant."""

    record_id: str
    source: Literal["builtin", "civic"]
    record_type: Literal["biomarker", "evidence", "assertion", "variant"]
    gene: str
    alteration: str
    match: AlterationMatch
    loci: list[GenomicLocus] = Field(default_factory=list)
    tumor_types: list[str] = Field(default_factory=list)
    tumor_types_excluded: list[str] = Field(default_factory=list)
    disease: str | None = None
    evidence_type: str | None = None
    direction: str | None = None
    significance: str | None = None
    therapies: list[str] = Field(default_factory=list)
    evidence_level: str | None = None
    amp_tier: str | None = None
    amp_level: str | None = None
    escat_tier: str | None = None
    oncogenicity: str | None = None
    citations: list[str] = Field(default_factory=list)
    rating: int | None = None
    variant_id: str | None = None
    note: str | None = None
    label_wording: str | None = None  # the biomarker words of the label's indication, verbatim
    approvals: list[Approval] = Field(default_factory=list)
    eu_status: EuStatus | None = None  # what a European board can prescribe on this row's basis
    # The biomarker selects a therapy only within its tumour types (e.g. TP53 in CLL marks resistance to
    # chemo-immunotherapy, not a drug target): no evidence for other tumour types (no Tier IIC elsewhere).
    lineage_specific: bool = False


class HotspotCodons(_Model):
    gene: str
    codons: list[int]
    source: str


class ExonCodons(_Model):
    """The codons of one exon on a named transcript, with where the range comes from."""

    gene: str
    exon: int
    codons: tuple[int, int]
    transcript: str
    source: str


class HereditaryGene(_Model):
    gene: str
    mechanism: Literal["lof", "gof"]
    germline_proteins: list[str] = Field(default_factory=list)
    note: str | None = None


class ResistanceContext(_Model):
    id: str
    gene: str
    match: AlterationMatch
    tumor_types: list[str]
    therapies: list[str]
    summary: str
    source: str


class ReferenceData(_Model):
    """Built-in non-evidence knowledge: hotspots, tumour suppressors, hereditary genes, resistance contexts."""

    version: str
    hotspots: list[HotspotCodons]
    tumour_suppressors: list[str]
    tumour_suppressor_source: str
    hereditary_genes: list[HereditaryGene]
    hereditary_source: str
    germline_vaf_threshold: float
    resistance_contexts: list[ResistanceContext]
    exons: list[ExonCodons] = Field(default_factory=list)


def resolve_exon(match: AlterationMatch, gene: str, exons: dict[tuple[str, int], ExonCodons]) -> AlterationMatch:
    """An 'exon' match as the codon-range match it stands for; unchanged when the exon table lacks the exon
    (such a record then matches nothing, and the evaluation says why)."""
    entry = exons.get((gene, match.exon or 0)) if match.kind == "exon" else None
    if entry is None:
        return match
    first, last = entry.codons
    if match.exon_change == "deletion":
        return AlterationMatch(kind="inframe_deletion", codons=[first, last])
    if match.exon_change == "insertion":
        return AlterationMatch(kind="inframe_insertion", codons=[first, last])
    return AlterationMatch(kind="protein", codon_range=(first, last))


ROW_FIELDS = frozenset({"id", "gene", "alteration", "match", "loci", "tumor_types", "tumor_types_excluded",
                        "significance", "therapies", "evidence_level", "amp_level", "escat_tier", "oncogenicity",
                        "sources", "note", "label_wording", "approvals", "eu_status", "lineage_specific"})


def _builtin_record(row: dict[str, Any]) -> KbRecord:
    unknown = set(row) - ROW_FIELDS
    if unknown:
        raise ValueError(f"biomarker {row.get('id')}: unknown field(s) {sorted(unknown)}")
    match = dict(row["match"])
    match["proteins"] = [short_form(p) for p in match.get("proteins", [])]
    return KbRecord(
        record_id=row["id"], source="builtin", record_type="biomarker", gene=row["gene"],
        alteration=row["alteration"], match=AlterationMatch(**match), loci=[GenomicLocus(**x) for x in row.get("loci", [])],
        tumor_types=row["tumor_types"], tumor_types_excluded=row.get("tumor_types_excluded", []),
        evidence_type="predictive", direction="supports", significance=row["significance"], therapies=row["therapies"],
        evidence_level=row["evidence_level"], amp_level=row["amp_level"], escat_tier=row.get("escat_tier"),
        oncogenicity=row.get("oncogenicity"), citations=row["sources"], note=row.get("note"),
        label_wording=row.get("label_wording"), approvals=[Approval(**a) for a in row.get("approvals", [])],
        eu_status=row.get("eu_status"), lineage_specific=row.get("lineage_specific", False),
    )


def load_builtin(path: str | Path = BUILTIN_PATH) -> tuple[list[KbRecord], ReferenceData]:
    """Read the curated built-in set: biomarker records plus reference data, and the rows of every tumour
    area's file in the `biomarkers/` directory beside it (one `biomarkers:` list each)."""
    path = Path(path)
    data = yaml.safe_load(path.read_text())
    rows = list(data["biomarkers"])
    for area in sorted((path.parent / "biomarkers").glob("*.yaml")):
        rows += yaml.safe_load(area.read_text())["biomarkers"]
    ids = [row["id"] for row in rows]
    if len(ids) != len(set(ids)):
        raise ValueError(f"biomarker ids used twice: {sorted({i for i in ids if ids.count(i) > 1})}")
    records = [_builtin_record(row) for row in rows]
    tsg, hered = data["tumour_suppressors"], data["hereditary"]
    contexts = []
    for row in data["resistance_contexts"]:
        match = dict(row["match"])
        match["proteins"] = [short_form(p) for p in match.get("proteins", [])]
        contexts.append(ResistanceContext(**{**row, "match": AlterationMatch(**match)}))
    reference = ReferenceData(
        version=str(data["version"]), hotspots=[HotspotCodons(**h) for h in data["hotspots"]],
        tumour_suppressors=tsg["genes"], tumour_suppressor_source=tsg["source"],
        hereditary_genes=[HereditaryGene(**g) for g in hered["genes"]], hereditary_source=hered["source"],
        germline_vaf_threshold=float(hered["vaf_threshold"]), resistance_contexts=contexts,
        exons=[ExonCodons(**e) for e in data.get("exons", [])],
    )
    return records, reference


def content_hash(records: list[KbRecord]) -> str:
    """sha256 (first 12 hex) of the records' canonical JSON, independent of their order."""
    digest = hashlib.sha256()
    for line in sorted(json.dumps(r.model_dump(), sort_keys=True) for r in records):
        digest.update(line.encode())
    return digest.hexdigest()[:12]


class KnowledgeBase:
    """Records indexed once by gene and by genomic position, plus the reference data and a version string."""

    def __init__(self, records: list[KbRecord], reference: ReferenceData, civic_release: str | None = None):
        self.records = records
        self.reference = reference
        self.civic_release = civic_release
        self.by_gene: dict[str, list[KbRecord]] = defaultdict(list)
        self.by_locus: dict[tuple[str, str, int], list[KbRecord]] = defaultdict(list)
        self.signatures: dict[str, list[KbRecord]] = defaultdict(list)
        self.exons = {(e.gene, e.exon): e for e in reference.exons}
        for record in records:
            if record.record_type == "variant":
                continue
            if record.match.kind == "exon":
                record = record.model_copy(update={"match": resolve_exon(record.match, record.gene, self.exons)})
            if record.match.kind == "signature":
                self.signatures[record.match.signature or ""].append(record)
                continue
            self.by_gene[record.gene].append(record)
            for locus in record.loci:
                if not (locus.ref or locus.alt):
                    continue  # ranges (exon 19, amplicons) match by class, not by exact position
                self.by_locus[(locus.build, locus.chrom.removeprefix("chr"), locus.pos)].append(record)
        self.hotspots = {h.gene: set(h.codons) for h in reference.hotspots}
        self.tumour_suppressors = frozenset(reference.tumour_suppressors)
        self.hereditary = {g.gene: g for g in reference.hereditary_genes}
        civic = [r for r in records if r.source == "civic"]
        civic_part = f"+civic-{civic_release or 'unknown'}-{content_hash(civic)}" if civic else ""
        self.version = f"builtin-{reference.version}{civic_part}"

    @classmethod
    def build(cls, builtin_path: str | Path = BUILTIN_PATH, civic_records: list[KbRecord] | None = None,
              civic_release: str | None = None) -> "KnowledgeBase":
        """Built-in set plus, optionally, records from a CIViC import."""
        records, reference = load_builtin(builtin_path)
        return cls(records + list(civic_records or []), reference, civic_release)

    def to_documents(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """(meta document, record documents) for storage; inverse of from_documents."""
        meta = {"version": self.version, "civic_release": self.civic_release, "reference": self.reference.model_dump()}
        return meta, [r.model_dump() for r in self.records]

    @classmethod
    def from_documents(cls, meta: dict[str, Any], records: list[dict[str, Any]]) -> "KnowledgeBase":
        """Rebuild from stored documents (extra storage keys such as '_id' are dropped)."""
        clean = [KbRecord.model_validate({k: v for k, v in r.items() if k != "_id"}) for r in records]
        return cls(clean, ReferenceData.model_validate(meta["reference"]), meta.get("civic_release"))
