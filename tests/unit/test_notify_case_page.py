"""The case page's content: source links, stage turnaround, and the allele-fraction plot's geometry."""

from datetime import UTC, date, datetime, timedelta

from services.notify.domain.case_page import source_links, stage_turnaround
from services.notify.domain.vaf_plot import samples_of, therapy_changes, vaf_plot

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def test_citations_link_to_pubmed_civic_and_the_labels():
    assert source_links("ESMO ESCAT: Mosele et al., Ann Oncol 2020, PMID:32853681") == [
        ("PubMed 32853681", "https://pubmed.ncbi.nlm.nih.gov/32853681/")]
    assert source_links("CIViC EID1409 (2021-08-01)")[0][1] == "https://civicdb.org/evidence/1409/summary"
    [(text, url)] = source_links("FDA label: Tagrisso (osimertinib)")
    assert text == "Tagrisso: FDA label (DailyMed)" and url.endswith("query=Tagrisso")
    assert source_links("EMA EPAR / EC SmPC: Tafinlar")[0][1].endswith("search_api_fulltext=Tafinlar")
    assert source_links("a peer-reviewed paper without an id") == []


def test_each_stage_reached_with_the_time_it_took_from_the_one_before():
    timeline = [{"stage": "received", "at": T0}, {"stage": "alerted", "at": T0 + timedelta(seconds=40)},
                {"stage": "delivered", "at": T0 + timedelta(seconds=41)},
                {"stage": "decided", "at": T0 + timedelta(days=6)}]
    assert [(s["stage"], s["took_s"]) for s in stage_turnaround(timeline)] == [
        ("received", None), ("alerted", 40.0), ("decided", 6 * 86400 - 40.0)]


SPECIMENS = [
    {"specimen_id": "P2", "type": "plasma", "collected_on": date(2026, 8, 3), "lod_vaf": 0.005,
     "variants": [{"track_key": "EGFR:L858R", "gene": "EGFR", "alteration": "L858R", "vaf": 0.004}]},
    {"specimen_id": "P1", "type": "plasma", "collected_on": date(2026, 6, 1), "lod_vaf": 0.005,
     "variants": [{"track_key": "EGFR:L858R", "gene": "EGFR", "alteration": "L858R", "vaf": 0.082},
                  {"track_key": "TP53:R248Q", "gene": "TP53", "alteration": "R248Q", "vaf": 0.061}]},
]
RESULTS = [{"specimen": {"collected_on": "2026-06-01"}, "current_therapies": []},
           {"specimen": {"collected_on": "2026-08-03"}, "current_therapies": ["osimertinib"]}]


def test_the_plot_puts_dates_in_order_marks_the_detection_limit_and_the_therapy_change():
    plot = vaf_plot(samples_of(SPECIMENS), therapy_changes(RESULTS))
    assert [label for _, label in plot.x_ticks] == ["2026-06-01", "2026-08-03"]
    egfr = next(line for line in plot.lines if line.label == "EGFR L858R")
    assert [p["vaf"] for p in egfr.points] == [0.082, 0.004] and egfr.points[0]["y"] < egfr.points[1]["y"]
    tp53 = next(line for line in plot.lines if line.label == "TP53 R248Q")
    assert [p["detected"] for p in tp53.points] == [True, False]  # absent from the later specimen
    assert plot.lod is not None and "0.5 %" in plot.lod[1]
    assert plot.therapy_marks == [(egfr.points[1]["x"], "osimertinib")]
    assert {"variant": "TP53 R248Q", "specimen_id": "P2", "day": "2026-08-03", "vaf": "not detected"} in plot.table


def test_one_specimen_draws_no_plot():
    assert vaf_plot(samples_of(SPECIMENS[:1]), []) is None
