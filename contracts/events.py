"""Event contracts, one pydantic v2 model per event, each carrying an explicit schema version.

All models forbid unknown fields and use strict types; JSON input is validated with
`Model.model_validate_json`, which in strict mode still accepts ISO-8601 strings for dates.
The JSON Schemas in contracts/schemas/ are generated from these models (see contracts.export).
"""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from contracts.pseudonym import identifier_problem
from contracts.reasons import RejectionCode

# Inline VCFs are gzip+base64 and must fit a Kafka message (broker default 1 MiB) with room for metadata.
MAX_INLINE_VCF_BASE64_CHARS = 700_000

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
OncoTreeCode = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,19}$", description="OncoTree code, e.g. LUAD")]


def _pseudonym(value: str) -> str:
    problem = identifier_problem(value)
    if problem:
        raise ValueError(f"patient pseudonym {problem}")
    return value


Pseudonym = Annotated[str, AfterValidator(_pseudonym)]


class Contract(BaseModel):
    """Base of every contract: unknown fields are errors, types are strict, instances immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Specimen(Contract):
    specimen_id: Identifier
    type: Literal["tissue", "plasma"] = Field(description="tissue biopsy or plasma (ctDNA, liquid biopsy)")
    collected_on: date


class Assay(Contract):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    genome_build: Literal["GRCh37", "GRCh38"]
    panel_size_mb: Annotated[float, Field(gt=0, le=3200, description="coding territory the assay covers, in Mb")]
    tumor_only: bool = Field(default=True, description="no matched normal was sequenced")
    amplification_min_copy_number: Annotated[float, Field(gt=0, le=1000)] | None = Field(
        None, description="schema 1.1: the copy number at or above which the assay calls an amplification "
        "(default 6)")
    deletion_max_copy_number: Annotated[float, Field(ge=0, lt=2)] | None = Field(
        None, description="schema 1.1: the copy number at or below which the assay calls a deep (homozygous) "
        "deletion (default 0.5)")


class InlineVcf(Contract):
    """The VCF itself, gzip-compressed (plain gzip or bgzip) and base64-encoded."""

    kind: Literal["inline"] = "inline"
    encoding: Literal["gzip+base64"] = "gzip+base64"
    data: Annotated[str, Field(min_length=4, max_length=MAX_INLINE_VCF_BASE64_CHARS)]
    sha256: Sha256Hex = Field(description="sha256 of the gzip bytes (after base64 decoding)")


class VcfReference(Contract):
    """A VCF too large to send inline: where to read it and the checksum of its bytes."""

    kind: Literal["reference"] = "reference"
    uri: Annotated[str, Field(pattern=r"^(file|https?)://\S+$", max_length=2048)]
    sha256: Sha256Hex
    size_bytes: Annotated[int, Field(ge=1)]


Fraction = Annotated[float, Field(ge=0, le=1)]


class ResultQc(Contract):
    """Quality measures the lab reports for a result (schema 1.1); each optional, as the assay measures them."""

    tumour_cell_content: Fraction | None = Field(None, description="tumour purity / cellularity of the specimen, 0-1")
    median_target_depth: Annotated[float, Field(ge=0)] | None = Field(None, description="median read depth over "
                                                                      "the assay's target region")
    ctdna_tumour_fraction: Fraction | None = Field(None, description="plasma: estimated ctDNA tumour fraction, 0-1")
    limit_of_detection_vaf: Annotated[float, Field(gt=0, le=1)] | None = Field(
        None, description="the assay's limit of detection as an allele fraction (e.g. 0.005 for 0.5%)")
    lab_status: Literal["pass", "fail"] | None = Field(None, description="the lab pipeline's own QC verdict")


class SequencingResult(Contract):
    """A lab's sequencing result for one specimen of one case. Key on the topic: result_id.

    Schema 1.1 adds the optional `qc`; a 1.0 message is read as before."""

    schema_version: Literal["1.0", "1.1"] = "1.0"
    result_id: Identifier = Field(description="unique per lab result; amended results keep it and raise result_version")
    result_version: Annotated[int, Field(ge=1)] = 1
    lab_id: Identifier
    case_id: Identifier
    treating_site: Identifier = Field(description="hospital whose MTB team treats the patient; alerts route there")
    patient_pseudonym: Pseudonym
    specimen: Specimen
    tumor_type: OncoTreeCode
    assay: Assay
    msi_status: Literal["MSI-H", "MSI-L", "MSS"] | None = None
    tmb_reported: Annotated[float, Field(ge=0)] | None = Field(default=None, description="mutations/Mb as the lab reports it")
    current_therapies: list[Annotated[str, Field(min_length=1, max_length=80)]] = Field(
        default_factory=list, max_length=20, description="drugs the patient is on, for emergent-resistance rules"
    )
    qc: ResultQc | None = Field(None, description="schema 1.1: QC measures the lab reports (purity, depth, ctDNA "
                                "fraction, limit of detection)")
    vcf: InlineVcf | VcfReference = Field(discriminator="kind")
    published_at: datetime

    @model_validator(mode="after")
    def _schema_1_1_fields(self) -> "SequencingResult":
        if self.schema_version == "1.0":
            if self.qc is not None:
                raise ValueError("qc is part of schema 1.1: send schema_version \"1.1\" with it")
            if self.assay.amplification_min_copy_number is not None or self.assay.deletion_max_copy_number is not None:
                raise ValueError("the assay's copy-number thresholds are part of schema 1.1: send schema_version "
                                 "\"1.1\" with them")
        return self


class RejectionReason(Contract):
    code: RejectionCode
    message: str
    field: str | None = None


class IngestReceipt(Contract):
    """ingest's answer to a lab for every published result. Key: result_id."""

    schema_version: Literal["1.0"] = "1.0"
    result_id: str
    result_version: int | None = None
    lab_id: str | None = None
    case_id: str | None = None
    status: Literal["accepted", "rejected"]
    reasons: list[RejectionReason] = Field(default_factory=list)
    message: str = Field(description="one sentence for a person")
    variant_count: int | None = None
    received_at: datetime

    @model_validator(mode="after")
    def _rejected_has_reasons(self) -> "IngestReceipt":
        if (self.status == "rejected") != bool(self.reasons):
            raise ValueError("a rejected receipt needs reasons and an accepted one has none")
        return self


class DeadLetter(Contract):
    """A rejected input kept whole: the original bytes (base64) with why it was refused."""

    schema_version: Literal["1.0"] = "1.0"
    source_topic: str
    partition: int
    offset: int
    key: str | None
    original_base64: str
    reasons: list[RejectionReason]
    rejected_at: datetime


class VariantsIngested(Contract):
    """ingest -> annotate: a result is stored; its variants are in MongoDB under result_key."""

    schema_version: Literal["1.0"] = "1.0"
    result_key: str = Field(description="result_id@result_version")
    result_id: str
    result_version: int
    lab_id: str
    case_id: str
    treating_site: str
    patient_pseudonym: str
    specimen: Specimen
    tumor_type: str
    assay: Assay
    msi_status: Literal["MSI-H", "MSI-L", "MSS"] | None = None
    tmb_reported: float | None = None
    current_therapies: list[str] = Field(default_factory=list)
    qc: ResultQc | None = None
    tumour_sample: str | None
    variant_count: int
    published_at: datetime
    ingested_at: datetime


Priority = Literal["urgent", "routine", "info"]

EscalationChannelKind = Literal["webhook", "email"]
"""The channels an escalation contact (a person or a rota) is reached on."""
ChannelKind = Literal[EscalationChannelKind, "stream"]
"""Every channel notify delivers on, declared once: services.notify.domain.routing, the subscription input and
the delivery registry (services.notify.adapters.channels) use this; adding a kind here is where a new channel
starts."""


class FindingSummary(Contract):
    gene: str
    alteration: str
    amp_tier: str | None = None
    amp_level: str | None = None
    escat_tier: str | None = None
    eu_status: str | None = Field(None, description="EU context of the strongest evidence in this tumour type: "
                                  "'EMA-authorised (since YYYY-MM-DD)', 'FDA only, not EMA-authorised' or "
                                  "'guideline only, no approval'; absent when the knowledge does not say")
    oncogenicity: str | None = None
    therapies: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class ReviewReason(Contract):
    rule_id: str
    code: str
    summary: str


class CaseAnnotated(Contract):
    """annotate's interpretation of one result."""

    schema_version: Literal["1.0"] = "1.0"
    result_key: str
    result_id: str
    result_version: int
    case_id: str
    tumor_type: str
    findings: list[FindingSummary]
    tmb_per_mb: float | None = None
    msi_status: str | None = None
    needs_review: bool
    priority: Priority | None = None
    reasons: list[ReviewReason] = Field(default_factory=list)
    kb_version: str
    ruleset_version: str
    published_at: datetime
    annotated_at: datetime


class MtbReviewRequired(Contract):
    """A case needs MTB review. Key: case_id. alert_id is stable for a result and its reasons."""

    schema_version: Literal["1.0"] = "1.0"
    alert_id: str
    case_id: str
    result_key: str
    result_id: str
    result_version: int
    lab_id: str
    treating_site: str
    tumor_type: str
    priority: Priority
    reasons: Annotated[list[ReviewReason], Field(min_length=1)]
    findings: list[FindingSummary]
    kb_version: str
    ruleset_version: str
    published_at: datetime = Field(description="when the lab published the result (for end-to-end latency)")
    raised_at: datetime


class AlertDelivered(Contract):
    """notify's record of one delivery outcome of an alert on one channel."""

    schema_version: Literal["1.0"] = "1.0"
    alert_id: str
    case_id: str
    channel: ChannelKind
    target: str
    status: Literal["delivered", "failed"]
    attempts: Annotated[int, Field(ge=1)]
    detail: str | None = None
    delivered_at: datetime


EVENT_MODELS: dict[str, type[Contract]] = {
    "SequencingResult": SequencingResult,
    "IngestReceipt": IngestReceipt,
    "DeadLetter": DeadLetter,
    "VariantsIngested": VariantsIngested,
    "CaseAnnotated": CaseAnnotated,
    "MtbReviewRequired": MtbReviewRequired,
    "AlertDelivered": AlertDelivered,
}


class AlertAcknowledged(Contract):
    """An MTB team has seen an alert (it stops escalating). Key: case_id."""

    schema_version: Literal["1.0"] = "1.0"
    alert_id: str
    case_id: str
    result_key: str
    team_id: str
    acknowledged_by: Annotated[str, Field(min_length=1, max_length=120, description="person or role, as the team names it")]
    note: Annotated[str, Field(max_length=2000)] | None = None
    acknowledged_at: datetime


class AlertEscalated(Contract):
    """An urgent alert was not acknowledged in time and went to the team's next contact. Key: case_id."""

    schema_version: Literal["1.0"] = "1.0"
    alert_id: str
    case_id: str
    team_id: str
    level: Annotated[int, Field(ge=1, description="1 = first escalation contact")]
    channel: EscalationChannelKind
    overdue_s: Annotated[float, Field(ge=0, description="seconds since the alert was raised")]
    escalated_at: datetime


MtbOutcome = Literal["targeted_therapy", "clinical_trial", "standard_of_care", "further_testing", "no_action", "other"]


class MtbDecisionRecorded(Contract):
    """The MTB's recommendation for the review an alert asked for; it closes that review. Key: case_id."""

    schema_version: Literal["1.0", "1.1"] = "1.1"
    decision_id: str
    alert_id: str
    case_id: str
    result_key: str
    team_id: str
    outcome: MtbOutcome
    recommendation: Annotated[str, Field(min_length=1, max_length=4000)]
    rationale: Annotated[str, Field(min_length=1, max_length=4000)]
    therapies: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(default_factory=list, max_length=20)
    signed_off_by: Annotated[list[Annotated[str, Field(min_length=1, max_length=120)]], Field(
        min_length=1, max_length=20, description="1.1: the member who signed the draft off (not its author)")]
    decided_at: datetime
    drafted_by: Annotated[str, Field(min_length=1, max_length=120)] | None = Field(
        None, description="1.1: the member who drafted the decision (four eyes: never the one who signed it off)")
    drafted_at: datetime | None = None
    signed_off_at: datetime | None = None
    trial_referral: Annotated[str, Field(min_length=1, max_length=500)] | None = Field(
        None, description="1.1: the clinical trial (or trial unit) the patient is referred to")
    members_present: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(
        default_factory=list, max_length=30, description="1.1: the board members present")


FollowUpResponse = Literal["complete_response", "partial_response", "stable_disease", "progressive_disease",
                           "not_evaluable", "too_early"]


class FollowUpRecorded(Contract):
    """What became of a decided recommendation: the therapy started or not (and why not), and the patient's
    response as the treating team assesses it (RECIST-like categories). Key: case_id."""

    schema_version: Literal["1.0"] = "1.0"
    followup_id: str = Field(description="the decision's id: one follow-up per decision")
    decision_id: str
    alert_id: str
    case_id: str
    team_id: str
    therapy_started: bool
    not_started_reason: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    response: FollowUpResponse | None = Field(None, description="only when the therapy was started")
    note: Annotated[str, Field(max_length=2000)] | None = None
    recorded_by: Annotated[str, Field(min_length=1, max_length=120)]
    due_at: datetime
    recorded_at: datetime


EVENT_MODELS["AlertAcknowledged"] = AlertAcknowledged
EVENT_MODELS["AlertEscalated"] = AlertEscalated
EVENT_MODELS["MtbDecisionRecorded"] = MtbDecisionRecorded
EVENT_MODELS["FollowUpRecorded"] = FollowUpRecorded
