"""The per-lab drift metrics: counted once per result (a redelivery repeats nothing), labelled by lab and assay
only, and `oncorelay labs report` computing the same numbers from the stored results."""

from prometheus_client import REGISTRY

from contracts.reasons import RejectionCode
from oncorelay.lab_report import lab_report
from services.common import metrics
from tests.unit.handlers.test_annotate_handlers import EGFR_L858R, VUS, AnnotateWorld, ingested
from tests.unit.handlers.test_ingest_handlers import IngestWorld, message, result


def value(name: str, labels: dict) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_ingest_counts_each_result_once_by_lab_assay_and_reason(tmp_path):
    world = IngestWorld(tmp_path)
    accepted = result(result_id="R-DRIFT-1")
    labels = {"lab": accepted.lab_id, "assay": accepted.assay.name}
    before = value("oncorelay_lab_results_total", {**labels, "status": "accepted"})
    seen = value("oncorelay_lab_result_variants_count", labels)
    await world.ingest.handle(message(accepted))
    await world.ingest.handle(message(accepted))  # redelivered: the receipt again, not a second result
    assert value("oncorelay_lab_results_total", {**labels, "status": "accepted"}) == before + 1
    assert value("oncorelay_lab_result_variants_count", labels) == seen + 1
    stranger = {"lab": "LAB-UNREGISTERED", "reason": "unknown_lab"}
    refused_before = value("oncorelay_lab_rejections_total", stranger)
    receipt = await world.ingest.handle(message(result(result_id="R-DRIFT-2", lab_id="LAB-UNREGISTERED"), offset=9))
    assert receipt.status == "rejected"
    assert value("oncorelay_lab_rejections_total", stranger) == refused_before + 1
    assert value("oncorelay_lab_results_total", {"lab": "LAB-UNREGISTERED", "assay": accepted.assay.name,
                                                 "status": "rejected"}) >= 1
    for family in REGISTRY.collect():
        if family.name.startswith("oncorelay_lab_"):
            assert {label for s in family.samples for label in s.labels} <= {"lab", "assay", "status", "reason",
                                                                               "informative", "le"}


async def test_annotate_observes_tmb_vaf_and_informativeness_once_per_result():
    world = AnnotateWorld()
    event = ingested([EGFR_L858R, VUS])
    labels = {"lab": event.lab_id, "assay": event.assay.name}
    before = value("oncorelay_lab_interpreted_total", {**labels, "informative": "true"})
    vaf_before = value("oncorelay_lab_median_vaf_ratio_count", labels)
    raw = world.given(event, [EGFR_L858R, VUS])
    await world.annotator.handle(raw)
    await world.annotator.handle(raw)  # redelivered
    assert value("oncorelay_lab_interpreted_total", {**labels, "informative": "true"}) == before + 1
    assert value("oncorelay_lab_median_vaf_ratio_count", labels) == vaf_before + 1


def test_labels_stay_bounded_whatever_a_lab_sends():
    lab = "LAB-NOISY"
    names = {metrics.lab_labels(lab, f"assay-{n}")[1] for n in range(metrics.MAX_ASSAY_LABELS + 30)}
    assert len(names) == metrics.MAX_ASSAY_LABELS + 1 and "other" in names


def test_the_lab_report_per_assay():
    results = [{"result_id": f"R{n}", "result_version": 1, "assay": {"name": "P1"}, "variant_count": 100 + n,
                "qc": {"tumour_cell_content": 0.4 + n / 10}} for n in range(3)]
    rejections = [{"assay": "P1", "codes": [RejectionCode.VCF_TRUNCATED.value]},
                  {"assay": None, "codes": [RejectionCode.MALFORMED_JSON.value]}]
    interpretations = {f"R{n}@1": {"tmb": {"tmb_per_mb": 2.0 * (n + 1)}, "qc": {"informative": n != 2},
                                   "current_specimen": {"variants": [{"vaf": 0.1}, {"vaf": 0.3}]}} for n in range(3)}
    rows = {row["assay"]: row for row in lab_report(results, rejections, interpretations)}
    p1 = rows["P1"]
    assert (p1["accepted"], p1["rejected"], p1["rejection_rate"]) == (3, 1, 0.25)
    assert (p1["median_variants"], p1["median_tmb_per_mb"], p1["median_vaf"]) == (101.0, 4.0, 0.2)
    assert p1["median_tumour_content"] == 0.5 and p1["non_informative_share"] == round(1 / 3, 3)
    assert p1["top_reasons"] == [("vcf_truncated", 1)] and rows["unknown"]["rejected"] == 1
