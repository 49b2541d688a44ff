"""Read models: what one service reads of another service's stored documents, declared here.

notify's case summary and FHIR export read annotate's stored interpretations (the `interpretations`
collection, written by services.annotate's interpretation store: {_id: result key, case_id, annotated_at,
interpretation: the Interpretation's JSON packed, encoding}). The adapter unpacks the field
(services.common.packed) and parses it through `StoredInterpretation`; nothing reads it by raw keys. A field
annotate renames or drops fails here, in tests/unit/test_interp_streaming.py (a real interpretation) and
tests/contract/test_notify_stores.py (written by annotate's adapter, read by notify's, on FerretDB), not in a
case page.
"""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contracts.findings import reportable


class StoredFinding(BaseModel):
    """One finding of a stored interpretation: the fields notify relies on, the others kept as they are
    (the FHIR export shows hgvsc, hgvsp, vaf, tiers and therapies when present)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    variant_key: str = Field(description="chrom:pos:ref>alt, or a signature's own key (TMB, MSI)")
    gene: str
    alteration: str
    amp_tier: str
    oncogenicity: str | None = None
    citations: list[str] = Field(default_factory=list)


class TrackedVariant(BaseModel):
    """A variant of a specimen as the longitudinal view tracks it (its allele fraction in that specimen)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    track_key: str
    gene: str | None = None
    alteration: str
    vaf: float | None = None


class StoredSpecimen(BaseModel):
    """The specimen an interpretation is about, with the variants tracked across the patient's specimens."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    specimen_id: str
    type: str
    collected_on: date
    variants: list[TrackedVariant] = Field(default_factory=list)
    lod_vaf: float | None = None


class InterpretationFacts(BaseModel):
    """What an interpretation says beside its findings, as the case page shows it (each left out when absent):
    read from the stored interpretation and carried unchanged into its summary."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    result_key: str
    result_version: int
    tumor_type: str
    vus_count: int | None = None
    tmb: dict[str, Any] | None = None
    msi_status: str | None = None
    germline_flags: list[dict[str, Any]] = Field(default_factory=list)
    qc: dict[str, Any] | None = None
    longitudinal_events: list[dict[str, Any]] = Field(default_factory=list)
    kb_version: str | None = None
    ruleset_version: str | None = None


class StoredInterpretation(InterpretationFacts):
    """The unpacked `interpretation` of a stored interpretation document, as far as notify reads it."""

    findings: list[StoredFinding]
    signature_findings: list[StoredFinding] = Field(default_factory=list)
    current_specimen: StoredSpecimen | None = None


class StoredInterpretationDocument(BaseModel):
    """The envelope of a stored interpretation (its body is packed: the adapter unpacks `interpretation`)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    id: str = Field(alias="_id")
    case_id: str
    annotated_at: datetime | None = None
    interpretation: bytes
    encoding: str


class FindingView(BaseModel):
    """A reportable finding as a case view shows it: the stored finding, its citations as `sources`, and the
    variant's coordinates when its key is chrom:pos:ref>alt."""

    model_config = ConfigDict(extra="allow", frozen=True)

    variant_key: str
    gene: str
    alteration: str
    amp_tier: str
    sources: list[str]
    chrom: str | None = None
    pos: int | None = None
    ref: str | None = None
    alt: str | None = None

    @classmethod
    def of(cls, finding: StoredFinding) -> "FindingView":
        stored = finding.model_dump(exclude_unset=True)
        coordinates: dict[str, Any] = {}
        chrom, _, rest = finding.variant_key.partition(":")
        pos, _, alleles = rest.partition(":")
        ref, _, alt = alleles.partition(">")
        if pos.isdigit() and ref and alt:
            coordinates = {"chrom": chrom, "pos": int(pos), "ref": ref, "alt": alt}
        return cls.model_validate({**stored, "sources": list(finding.citations), **coordinates})

    def view(self) -> dict[str, Any]:
        """The finding as the domain functions read it (only the coordinates it has)."""
        return self.model_dump(exclude_unset=True)


class InterpretationSummary(InterpretationFacts):
    """A stored interpretation as notify's case summary and FHIR export read it: its ids, its facts and its
    reportable findings (contracts.findings.reportable), signature findings (TMB, MSI) first."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    id: str = Field(alias="_id")
    case_id: str
    annotated_at: datetime | None
    findings: list[FindingView]
    specimen: StoredSpecimen | None = None

    @classmethod
    def of(cls, document: StoredInterpretationDocument, body: StoredInterpretation) -> "InterpretationSummary":
        findings = [FindingView.of(f) for f in body.signature_findings + body.findings if reportable(f.model_dump())]
        facts = {name: getattr(body, name) for name in InterpretationFacts.model_fields}
        return cls.model_validate({**facts, "_id": document.id, "case_id": document.case_id,
                                   "annotated_at": document.annotated_at, "findings": findings,
                                   "specimen": body.current_specimen})

    def view(self) -> dict[str, Any]:
        """The summary as a dict ({_id, case_id, ..., findings}) for services.notify.domain.summary and fhir."""
        return {**self.model_dump(by_alias=True, exclude={"findings", "specimen"}),
                "specimen": self.specimen.model_dump() if self.specimen else None,
                "tmb_per_mb": (self.tmb or {}).get("tmb_per_mb"),
                "findings": [f.view() for f in self.findings]}
