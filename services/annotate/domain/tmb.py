"""Tumour mutational burden (mutations per megabase) and MSI status.

Counting rule (documented, one place):
- count small variants (SNV, MNV, indel) with FILTER PASS whose consequence alters the coding sequence:
  missense, stop_gained, stop_lost, start_lost, frameshift, in-frame insertion/deletion, protein_altering,
  canonical splice donor/acceptor (COUNTED_CONSEQUENCES);
- VAF >= 0.05 and depth >= 25 reads when the lab reports them (calls below are too noisy to count);
- tumour-only assays: exclude germline-like calls, VAF within 0.45-0.55 or >= 0.95 (heterozygous/homozygous
  germline look-alikes; a crude filter without a population database, stated as such);
- TMB = count / assay.panel_size_mb;
- not computable (tmb_per_mb None, never a misleading 0) when no PASS small variant carries a consequence
  annotation: coding status is then unknown (e.g. an unannotated caller VCF).
TMB-high: >= 10 mut/Mb, the FDA threshold for pembrolizumab in TMB-H solid tumours (June 2020; KEYNOTE-158,
Marabelle et al., Lancet Oncol 2020, PMID:32919526). MSI status is taken as the lab reports it (MSI-H/MSI-L/MSS).
"""

from collections.abc import Iterable

from pydantic import BaseModel

from contracts.variant import Variant

COUNTED_CONSEQUENCES = frozenset({
    "missense_variant", "stop_gained", "stop_lost", "start_lost", "frameshift_variant", "inframe_insertion",
    "inframe_deletion", "protein_altering_variant", "splice_donor_variant", "splice_acceptor_variant",
})
MIN_VAF = 0.05
MIN_DEPTH = 25
GERMLINE_LIKE_HET = (0.45, 0.55)
GERMLINE_LIKE_HOM = 0.95
TMB_HIGH_THRESHOLD = 10.0
RULE = ("PASS coding non-synonymous SNV/MNV/indel (missense, nonsense, stop/start loss, frameshift, in-frame indel, "
        f"canonical splice); VAF >= {MIN_VAF}; depth >= {MIN_DEPTH}; tumour-only: exclude VAF "
        f"{GERMLINE_LIKE_HET[0]}-{GERMLINE_LIKE_HET[1]} or >= {GERMLINE_LIKE_HOM}; / panel size (Mb). "
        f"TMB-high >= {TMB_HIGH_THRESHOLD:g} mut/Mb (FDA pembrolizumab TMB-H, KEYNOTE-158, PMID:32919526).")


class TmbResult(BaseModel):
    counted: int
    excluded_germline_like: int
    panel_size_mb: float
    tmb_per_mb: float | None = None
    tmb_high: bool
    not_computable: str | None = None
    threshold: float = TMB_HIGH_THRESHOLD
    lab_reported: float | None = None
    rule: str = RULE


def _terms(variant: Variant) -> set[str]:
    return set((variant.consequence or "").replace(",", "&").split("&"))


def is_germline_like(vaf: float | None) -> bool:
    return vaf is not None and (GERMLINE_LIKE_HET[0] <= vaf <= GERMLINE_LIKE_HET[1] or vaf >= GERMLINE_LIKE_HOM)


class TmbCounter:
    """Counts variants under the rule above one at a time, so a large result never has to be held whole."""

    def __init__(self, tumor_only: bool) -> None:
        self.tumor_only = tumor_only
        self.counted = self.excluded = 0
        self.small_pass = self.small_pass_annotated = 0

    def add(self, v: Variant) -> None:
        if v.kind not in {"snv", "mnv", "indel"} or v.filter != "PASS":
            return
        self.small_pass += 1
        if v.consequence:
            self.small_pass_annotated += 1
        if not (_terms(v) & COUNTED_CONSEQUENCES):
            return
        if (v.vaf is not None and v.vaf < MIN_VAF) or (v.depth is not None and v.depth < MIN_DEPTH):
            return
        if self.tumor_only and is_germline_like(v.vaf):
            self.excluded += 1
            return
        self.counted += 1

    def result(self, panel_size_mb: float, lab_reported: float | None = None) -> TmbResult:
        """TMB in mutations/Mb from the assay's panel size, with TMB-high per the FDA threshold."""
        if self.small_pass and not self.small_pass_annotated:
            return TmbResult(counted=0, excluded_germline_like=0, panel_size_mb=panel_size_mb, tmb_high=False,
                             lab_reported=lab_reported,
                             not_computable="no consequence annotation (VEP CSQ or SnpEff ANN) in the VCF: "
                                            "coding status of the variants is unknown")
        value = round(self.counted / panel_size_mb, 2)
        return TmbResult(counted=self.counted, excluded_germline_like=self.excluded, panel_size_mb=panel_size_mb,
                         tmb_per_mb=value, tmb_high=value >= TMB_HIGH_THRESHOLD, lab_reported=lab_reported)


def compute_tmb(variants: Iterable[Variant], panel_size_mb: float, tumor_only: bool,
                lab_reported: float | None = None) -> TmbResult:
    """TMB in mutations/Mb from the assay's panel size, with TMB-high per the FDA threshold."""
    counter = TmbCounter(tumor_only)
    for v in variants:
        counter.add(v)
    return counter.result(panel_size_mb, lab_reported)


def msi_high(msi_status: str | None) -> bool:
    """MSI-H exactly as the lab reported it; no inference from variants."""
    return msi_status == "MSI-H"
