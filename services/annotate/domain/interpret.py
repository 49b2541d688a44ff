"""One entry point: interpret a result's variants against the knowledge base, per tumour type, into a
serialisable `Interpretation` (findings with tiers and evidence, TMB, MSI, germline flags, longitudinal events,
amendment comparison and the MTB triage decision)."""

from collections.abc import Iterable
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from contracts.events import FindingSummary, ResultQc, VariantsIngested
from contracts.reasons import RejectionCode
from contracts.variant import Variant
from services.annotate.domain import amendment as amendment_mod
from services.annotate.domain import germline as germline_mod
from services.annotate.domain import longitudinal as longitudinal_mod
from services.annotate.domain import oncogenicity as oncogenicity_mod
from services.annotate.domain import qc as qc_mod
from services.annotate.domain import tmb as tmb_mod
from services.annotate.domain import triage as triage_mod
from services.annotate.domain.amendment import AmendmentDiff
from services.annotate.domain.germline import GermlineFlag
from services.annotate.domain.knowledge import KnowledgeBase
from services.annotate.domain.longitudinal import (
    LongitudinalEvent,
    LongitudinalSettings,
    ObservedVariant,
    PatientHistory,
    SpecimenObservation,
)
from services.annotate.domain.matching import RecordMatch, VariantView, match_broad, match_specific
from services.annotate.domain.qc import QcAssessment, QcThresholds
from services.annotate.domain.tiering import EvidenceRef, TierCall, tier
from services.annotate.domain.tmb import TmbResult
from services.annotate.domain.triage import CaseFacts, FindingFact, RuleSet, TriageDecision
from services.common.oncotree import OncoTree

_TIER_ORDER = {"I": 0, "II": 1, "III": 2, "IV": 3}
SMALL_VARIANT_KINDS = frozenset({"snv", "mnv", "indel"})
# A result lists at most this many plain VUS (tier III without evidence or germline flag); all are counted.
MAX_LISTED_VUS = 500
# Variants tracked per specimen for longitudinal comparison; plain VUS beyond this are only counted.
MAX_TRACKED_VARIANTS = 5000
# Other findings listed (tier III with evidence or oncogenic, tier IV); beyond, only counted in findings_omitted.
MAX_LISTED_OTHER = 2000
# Germline flags listed; beyond, only counted (any one flag already refers the case to genetics).
MAX_GERMLINE_FLAGS = 200
# Tier I/II findings of one result: a real one has tens. Beyond, the result is not interpreted (TooManyFindings)
# rather than shown with reportable findings left out; this also keeps the alert within a Kafka record.
MAX_REPORTABLE_FINDINGS = 200
# Distinct variants remembered at one position to recognise a repeated record (see ResultInterpreter).
MAX_KEYS_PER_LOCUS = 1000
_VARIANT_FIELDS = tuple(Variant.model_fields)


class TooManyFindings(Exception):
    """A result with more tier I/II findings than MAX_REPORTABLE_FINDINGS: set aside with this reason code."""

    code = RejectionCode.TOO_MANY_FINDINGS


class ResultContext(BaseModel):
    """What interpretation needs to know about the result besides its variants."""

    result_key: str
    result_version: int = 1
    case_id: str
    patient_pseudonym: str | None = None
    tumor_type: str
    specimen_id: str
    specimen_type: Literal["tissue", "plasma"] = "tissue"
    collected_on: date
    genome_build: Literal["GRCh37", "GRCh38"]
    panel_size_mb: float
    tumor_only: bool = True
    msi_status: str | None = None
    tmb_reported: float | None = None
    current_therapies: list[str] = Field(default_factory=list)
    qc: ResultQc | None = None
    amplification_min_copy_number: float | None = None  # the assay's; None: matching's default
    deletion_max_copy_number: float | None = None

    @classmethod
    def from_event(cls, event: VariantsIngested) -> "ResultContext":
        return cls(
            result_key=event.result_key, result_version=event.result_version, case_id=event.case_id,
            patient_pseudonym=event.patient_pseudonym, tumor_type=event.tumor_type,
            specimen_id=event.specimen.specimen_id, specimen_type=event.specimen.type,
            collected_on=event.specimen.collected_on, genome_build=event.assay.genome_build,
            panel_size_mb=event.assay.panel_size_mb, tumor_only=event.assay.tumor_only, msi_status=event.msi_status,
            tmb_reported=event.tmb_reported, current_therapies=list(event.current_therapies), qc=event.qc,
            amplification_min_copy_number=event.assay.amplification_min_copy_number,
            deletion_max_copy_number=event.assay.deletion_max_copy_number,
        )


class InterpretSettings(BaseModel):
    germline_vaf_threshold: float | None = None  # None: the knowledge base's (0.30)
    longitudinal: LongitudinalSettings = Field(default_factory=LongitudinalSettings)
    qc: QcThresholds = Field(default_factory=QcThresholds)


class Finding(BaseModel):
    variant_key: str
    gene: str
    alteration: str
    kind: str
    hgvsc: str | None = None
    hgvsp: str | None = None
    vaf: float | None = None
    amp_tier: str
    amp_level: str | None = None
    amp_label: str
    escat_tier: str | None = None
    eu_status: str | None = None
    oncogenicity: str | None = None
    oncogenicity_basis: str | None = None
    therapies_sensitive: list[str] = Field(default_factory=list)
    therapies_resistant: list[str] = Field(default_factory=list)
    therapies_other_tumour: list[str] = Field(default_factory=list)
    evidence: list[EvidenceRef] = Field(default_factory=list)
    citations: list[str] = Field(default_factory=list)
    discordance: str | None = None

    def to_summary(self) -> FindingSummary:
        therapies = self.therapies_sensitive + [f"resistance: {t}" for t in self.therapies_resistant]
        return FindingSummary(gene=self.gene, alteration=self.alteration, amp_tier=self.amp_tier,
                              amp_level=self.amp_level, escat_tier=self.escat_tier, eu_status=self.eu_status,
                              oncogenicity=self.oncogenicity,
                              therapies=therapies[:20], sources=self.citations[:20])


class Interpretation(BaseModel):
    schema_version: Literal["1.0"] = "1.0"
    result_key: str
    result_version: int
    case_id: str
    tumor_type: str
    tumor_type_name: str
    genome_build: str
    findings: list[Finding]
    findings_omitted: int = Field(0, description=f"findings not listed: plain VUS beyond the first {MAX_LISTED_VUS}, "
                                  f"other tier III/IV findings beyond the first {MAX_LISTED_OTHER}")
    duplicate_count: int = Field(0, description="records repeating a variant already read (every field the same), "
                                 "interpreted once")
    germline_flags_omitted: int = Field(0, description=f"germline flags beyond the first {MAX_GERMLINE_FLAGS}")
    signature_findings: list[Finding] = Field(default_factory=list)
    vus_count: int
    not_assessed_count: int = Field(description="PASS variants not protein-altering (synonymous, intronic, UTR...)")
    filtered_count: int = Field(description="non-PASS variants, not interpreted")
    tmb: TmbResult
    msi_status: str | None
    msi_high: bool
    germline_flags: list[GermlineFlag]
    longitudinal_events: list[LongitudinalEvent]
    current_specimen: SpecimenObservation
    qc: QcAssessment = Field(default_factory=lambda: QcAssessment(informative=True, not_reported=True))
    amendment: AmendmentDiff | None = None
    triage: TriageDecision
    alert: bool = Field(description="needs review, and (first version or a clinically meaningful amendment)")
    kb_version: str
    ruleset_version: str
    oncotree_release: str

    def reportable(self) -> list[Finding]:
        """Tier I/II findings (variants and signatures), best first."""
        return [f for f in self.signature_findings + self.findings if f.amp_tier in {"I", "II"}]

    def finding_summaries(self) -> list[FindingSummary]:
        return [f.to_summary() for f in self.reportable()]


def _finding(view: VariantView, call: TierCall, onc: oncogenicity_mod.Oncogenicity,
             specific: list[RecordMatch]) -> Finding:
    """A finding; an unannotated variant matched by genomic position takes gene and alteration from the record."""
    v = view.variant
    by_locus = specific[0].record if specific and not v.gene else None
    return Finding(
        variant_key=v.key(), gene=v.gene or (by_locus.gene if by_locus else "?"),
        alteration=by_locus.alteration if by_locus and not v.hgvsp else view.label, kind=v.kind,
        hgvsc=v.hgvsc, hgvsp=v.hgvsp, vaf=v.vaf,
        amp_tier=call.amp_tier, amp_level=call.amp_level, amp_label=call.amp_label, escat_tier=call.escat_tier,
        eu_status=call.eu_status, oncogenicity=onc.call, oncogenicity_basis=onc.basis, therapies_sensitive=call.therapies_sensitive,
        therapies_resistant=call.therapies_resistant, therapies_other_tumour=call.therapies_other_tumour,
        evidence=call.evidence, citations=call.citations, discordance=call.discordance,
    )


def _signature_findings(ctx: ResultContext, tmb_result: TmbResult, msi_high: bool, kb: KnowledgeBase,
                        oncotree: OncoTree) -> list[Finding]:
    out = []
    for name, present, label in (("MSI-H", msi_high, "MSI-H"),
                                 ("TMB-H", tmb_result.tmb_high, f"TMB-high ({tmb_result.tmb_per_mb or 0:g} mut/Mb)")):
        if not present:
            continue
        call = tier([RecordMatch(r, "signature") for r in kb.signatures.get(name, [])], ctx.tumor_type, oncotree)
        out.append(Finding(variant_key=name, gene=name.split("-")[0], alteration=label, kind="signature",
                           amp_tier=call.amp_tier, amp_level=call.amp_level, amp_label=call.amp_label,
                           escat_tier=call.escat_tier, eu_status=call.eu_status,
                           therapies_sensitive=call.therapies_sensitive,
                           evidence=call.evidence, citations=call.citations, discordance=call.discordance))
    return out


def _facts(ctx: ResultContext, interp_parts: dict[str, Any]) -> CaseFacts:
    findings = [f for f in interp_parts["findings"] if f.amp_tier in {"I", "II"}]
    return CaseFacts(
        case_id=ctx.case_id, result_key=ctx.result_key,
        findings=[FindingFact(gene=f.gene, alteration=f.alteration, amp_tier=f.amp_tier, amp_label=f.amp_label)
                  for f in findings],
        germline=[g.message for g in interp_parts["germline_flags"]],
        events=[{"code": e.code, "summary": e.summary} for e in interp_parts["longitudinal_events"]],
        tmb_per_mb=interp_parts["tmb"].tmb_per_mb, tmb_high=interp_parts["tmb"].tmb_high,
        msi_high=interp_parts["msi_high"],
        amendment_meaningful=bool(interp_parts["amendment"] and interp_parts["amendment"].meaningful),
        amendment_changes=interp_parts["amendment"].changes if interp_parts["amendment"] else [],
        non_informative=not interp_parts["qc"].informative, qc_reasons=interp_parts["qc"].reasons,
    )


def case_facts(interp: Interpretation) -> CaseFacts:
    """Triage facts of a stored interpretation, for `triage.replay` with a new rule set."""
    ctx = ResultContext(result_key=interp.result_key, case_id=interp.case_id, tumor_type=interp.tumor_type,
                        specimen_id=interp.current_specimen.specimen_id, collected_on=interp.current_specimen.collected_on,
                        genome_build=interp.genome_build, panel_size_mb=interp.tmb.panel_size_mb)  # type: ignore[arg-type]
    return _facts(ctx, {
        "findings": interp.findings, "germline_flags": interp.germline_flags, "tmb": interp.tmb,
        "longitudinal_events": interp.longitudinal_events, "amendment": interp.amendment, "msi_high": interp.msi_high,
        "qc": interp.qc})


def unknown_to(kb: KnowledgeBase, view: VariantView) -> bool:
    """Whether no knowledge applies to this small variant: its gene has no record, hotspot, tumour-suppressor
    or hereditary-cancer entry and no record names its position. Matching, oncogenicity, tiering and the
    germline check then find nothing (each is keyed by gene or position), so it is a plain VUS if protein-altering;
    `tests/unit/test_interp_streaming.py` checks the shortcut against the full path on whole VCFs."""
    v = view.variant
    gene = v.gene
    if not gene or v.kind not in SMALL_VARIANT_KINDS or gene in kb.by_gene or gene in kb.hotspots \
            or gene in kb.tumour_suppressors or gene in kb.hereditary:
        return False
    chrom, pos, _, _ = view.normalised_locus()
    return (view.build, chrom, pos) not in kb.by_locus


class ResultInterpreter:
    """Interprets one result's variants as they arrive, chunk by chunk, in memory bounded whatever the input:
    every tier I/II finding (more than MAX_REPORTABLE_FINDINGS raise TooManyFindings), at most MAX_LISTED_OTHER
    other findings and MAX_LISTED_VUS plain VUS (the rest counted in `findings_omitted`), at most
    MAX_GERMLINE_FLAGS germline flags, and for longitudinal comparison every listed finding and plain VUS up to
    MAX_TRACKED_VARIANTS tracked variants in all (the rest counted in `untracked_count`).

    A record repeating a variant (every field the same: position, alleles, annotation, read counts; two
    structural variants at one position differ by their end or mate) is interpreted and counted once, in TMB
    too. It is recognised among the variants kept and those at the current position, which covers every
    repeat of a sorted VCF; in an unsorted one, a repeated plain VUS that is neither listed nor tracked may
    be counted twice."""

    def __init__(self, ctx: ResultContext, kb: KnowledgeBase, oncotree: OncoTree,
                 settings: InterpretSettings | None = None) -> None:
        self.ctx, self.kb, self.oncotree = ctx, kb, oncotree
        self.settings = settings or InterpretSettings()
        self.findings: list[Finding] = []
        self.flags: list[GermlineFlag] = []
        self.observed: list[ObservedVariant] = []
        self.tmb = tmb_mod.TmbCounter(ctx.tumor_only)
        self.not_assessed = self.filtered = self.vus = self.listed_vus = self.omitted = self.untracked = 0
        self.reportable = self.listed_other = self.duplicates = self.flags_omitted = 0
        self._kept: set[tuple[Any, ...]] = set()  # the variants listed, tracked or flagged (their field values)
        self._locus: tuple[str, int] | None = None
        self._at_locus: set[tuple[Any, ...]] = set()
        self._no_knowledge = (oncogenicity_mod.no_knowledge(), tier([], ctx.tumor_type, oncotree))

    def _repeated(self, variant: Variant, identity: tuple[Any, ...]) -> bool:
        """Whether this variant was read before (see the class docstring); remembers it."""
        locus = (variant.chrom, variant.pos)
        if locus != self._locus:
            self._locus, self._at_locus = locus, set()
        if identity in self._at_locus or identity in self._kept:
            self.duplicates += 1
            return True
        if len(self._at_locus) < MAX_KEYS_PER_LOCUS:
            self._at_locus.add(identity)
        return False

    def add(self, variants: Iterable[Variant]) -> None:
        """Interpret the next variants of the result (in file order)."""
        ctx, kb = self.ctx, self.kb
        for variant in variants:
            identity = tuple(map(variant.__dict__.get, _VARIANT_FIELDS))
            if self._repeated(variant, identity):
                continue
            self.tmb.add(variant)
            if variant.filter != "PASS":
                self.filtered += 1
                continue
            view = VariantView(variant, ctx.genome_build, ctx.amplification_min_copy_number,
                               ctx.deletion_max_copy_number)
            if unknown_to(kb, view):  # most variants of a large result: a plain VUS, decided without matching
                if not view.protein_altering:
                    self.not_assessed += 1
                    continue
                specific, (onc, call), flag = [], self._no_knowledge, None
            else:
                specific = match_specific(view, kb)
                if not (view.protein_altering or specific or view.is_fusion
                        or (variant.kind == "cnv" and view.label in {"amplification", "deep deletion"})):
                    self.not_assessed += 1
                    continue
                onc = oncogenicity_mod.classify(view, specific, kb)
                matches = specific + match_broad(view, kb, onc.call != oncogenicity_mod.VUS)
                call = tier(matches, ctx.tumor_type, self.oncotree)
                flag = germline_mod.flag(view, matches, kb, ctx.tumor_only, self.settings.germline_vaf_threshold)
            if flag:
                if len(self.flags) < MAX_GERMLINE_FLAGS:
                    self.flags.append(flag)
                    self._kept.add(identity)
                else:
                    self.flags_omitted += 1
            self.vus += onc.call == oncogenicity_mod.VUS and call.amp_tier == "III"
            plain_vus = call.amp_tier == "III" and not call.evidence and not flag
            reportable = call.amp_tier in {"I", "II"}
            if reportable:
                self.reportable += 1
                if self.reportable > MAX_REPORTABLE_FINDINGS:
                    raise TooManyFindings(f"more than {MAX_REPORTABLE_FINDINGS} tier I/II findings")
                listed = True
            elif plain_vus:
                listed = self.listed_vus < MAX_LISTED_VUS
                self.listed_vus += listed
            else:
                listed = self.listed_other < MAX_LISTED_OTHER
                self.listed_other += listed
            if listed:
                self.findings.append(_finding(view, call, onc, specific))
            else:
                self.omitted += 1
            if len(self.observed) < MAX_TRACKED_VARIANTS if plain_vus else listed:
                self.observed.append(ObservedVariant(
                    track_key=longitudinal_mod.track_key(
                        variant.gene, variant.hgvsp, view.label if variant.kind != "snv" else variant.key()),
                    gene=variant.gene, alteration=view.label, vaf=variant.vaf))
                self._kept.add(identity)
            else:
                self.untracked += 1

    def finish(self, rules: RuleSet, history: PatientHistory | None = None,
               previous: Interpretation | None = None) -> Interpretation:
        """TMB/MSI, longitudinal events, amendment comparison and triage over everything added."""
        ctx, kb, oncotree = self.ctx, self.kb, self.oncotree
        findings = sorted(self.findings, key=lambda f: (_TIER_ORDER[f.amp_tier], f.amp_level or "Z", f.gene, f.alteration))
        tmb_result = self.tmb.result(ctx.panel_size_mb, ctx.tmb_reported)
        msi_high = tmb_mod.msi_high(ctx.msi_status)
        qc = qc_mod.assess(ctx.qc, ctx.specimen_type, self.settings.qc)
        current = SpecimenObservation(specimen_id=ctx.specimen_id, type=ctx.specimen_type, collected_on=ctx.collected_on,
                                      result_key=ctx.result_key, variants=self.observed, untracked_count=self.untracked,
                                      lod_vaf=qc.limit_of_detection_vaf)
        events = longitudinal_mod.detect(history, current, ctx.tumor_type, ctx.current_therapies,
                                         kb.reference.resistance_contexts, oncotree, self.settings.longitudinal)
        signatures = _signature_findings(ctx, tmb_result, msi_high, kb, oncotree)
        parts = {"findings": findings + signatures, "germline_flags": self.flags, "longitudinal_events": events,
                 "tmb": tmb_result, "msi_high": msi_high, "amendment": None, "qc": qc}
        interp = Interpretation(
            result_key=ctx.result_key, result_version=ctx.result_version, case_id=ctx.case_id,
            tumor_type=ctx.tumor_type, tumor_type_name=oncotree.name(ctx.tumor_type), genome_build=ctx.genome_build,
            findings=findings, findings_omitted=self.omitted, duplicate_count=self.duplicates,
            germline_flags_omitted=self.flags_omitted, signature_findings=signatures, vus_count=self.vus,
            not_assessed_count=self.not_assessed, filtered_count=self.filtered, tmb=tmb_result,
            msi_status=ctx.msi_status, msi_high=msi_high, germline_flags=self.flags, longitudinal_events=events,
            current_specimen=current, qc=qc, triage=triage_mod.decide(_facts(ctx, parts), rules), alert=False,
            kb_version=kb.version, ruleset_version=rules.version, oncotree_release=oncotree.release,
        )
        if previous is not None:
            diff = amendment_mod.compare(amendment_mod.snapshot(previous), amendment_mod.snapshot(interp),
                                         previous.result_version)
            parts["amendment"] = diff
            decision = triage_mod.decide(_facts(ctx, parts), rules)
            return interp.model_copy(update={"amendment": diff, "triage": decision,
                                             "alert": decision.needs_review and diff.meaningful})
        return interp.model_copy(update={"alert": interp.triage.needs_review})


def interpret(ctx: ResultContext, variants: Iterable[Variant], kb: KnowledgeBase, oncotree: OncoTree,
              rules: RuleSet, history: PatientHistory | None = None,
              previous: Interpretation | None = None, settings: InterpretSettings | None = None) -> Interpretation:
    """Interpret one result: per-variant tiers and oncogenicity, TMB/MSI, germline flags, longitudinal events,
    amendment comparison and triage."""
    interpreter = ResultInterpreter(ctx, kb, oncotree, settings)
    interpreter.add(variants)
    return interpreter.finish(rules, history, previous)
