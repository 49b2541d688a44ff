"""What the MTB workspace's case page shows (pure): the case summary with each finding's evidence linked to its
sources, the plot of the patient's tracked variants across specimens, the alerts with their deliveries, drafts and
decisions, and the turnaround of each stage."""

import re
from typing import Any
from urllib.parse import quote

from services.notify.domain.summary import case_summary
from services.notify.domain.vaf_plot import Plot, samples_of, therapy_changes, vaf_plot

PMID = re.compile(r"PMID:\s?(\d{1,9})")
CIVIC_EVIDENCE = re.compile(r"\bEID(\d{1,7})\b")
STAGES = ("received", "alerted", "acknowledged", "decided")


def source_links(citation: str) -> list[tuple[str, str]]:
    """Links a reader can follow for one citation: PubMed, CIViC evidence, the FDA label or the EMA EPAR."""
    links = [(f"PubMed {m}", f"https://pubmed.ncbi.nlm.nih.gov/{m}/") for m in PMID.findall(citation)]
    links += [(f"CIViC EID{m}", f"https://civicdb.org/evidence/{m}/summary") for m in CIVIC_EVIDENCE.findall(citation)]
    name = citation.partition(":")[2].split("(")[0].strip()
    if citation.startswith("FDA label") and name:
        links.append((f"{name}: FDA label (DailyMed)",
                      f"https://dailymed.nlm.nih.gov/dailymed/search.cfm?query={quote(name)}"))
    if citation.startswith("EMA EPAR") and name:
        links.append((f"{name}: EMA EPAR", f"https://www.ema.europa.eu/en/search?search_api_fulltext={quote(name)}"))
    return links


def stage_turnaround(timeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each stage of received -> alerted -> acknowledged -> decided reached, with the time it took from the one
    before (seconds; None for the first)."""
    first: dict[str, Any] = {}
    for step in sorted(timeline, key=lambda s: s["at"]):
        first.setdefault(step["stage"], step["at"])
    rows, before = [], None
    for stage in STAGES:
        if stage not in first:
            continue
        took: float | None = (first[stage] - first[before]).total_seconds() if before else None
        rows.append({"stage": stage, "at": first[stage], "took_s": took})
        before = stage
    return rows


def case_page(docs: dict[str, Any], deliveries: list[dict[str, Any]],
              drafts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The case page's content from CaseViews.case_documents, the alerts' deliveries and their drafts."""
    summary = case_summary(docs)
    interpretations = sorted(docs.get("interpretations") or [], key=lambda i: str(i.get("annotated_at") or ""))
    latest = interpretations[-1] if interpretations else {}
    findings = [{**f, "links": [link for c in f.get("sources") or [] for link in source_links(c)]}
                for f in summary["findings"]]
    specimens = [i["specimen"] for i in interpretations if i.get("specimen")]
    plot: Plot | None = vaf_plot(samples_of(specimens), therapy_changes(docs.get("results") or []))
    by_alert: dict[str, list[dict[str, Any]]] = {}
    for delivery in deliveries:
        by_alert.setdefault(delivery["alert_id"], []).append(delivery)
    alerts = [{**a, "deliveries": by_alert.get(a["_id"], []), "draft": drafts.get(a["_id"])}
              for a in summary["alerts"]]
    return {**summary, "findings": findings, "alerts": alerts, "plot": plot,
            "tmb": latest.get("tmb"), "germline_flags": latest.get("germline_flags") or [],
            "qc": latest.get("qc"), "longitudinal_events": latest.get("longitudinal_events") or [],
            "vus_count": latest.get("vus_count"), "ruleset_version": latest.get("ruleset_version"),
            "kb_version": latest.get("kb_version") or summary.get("kb_version"),
            "specimens": specimens, "stages": stage_turnaround(summary["timeline"])}
