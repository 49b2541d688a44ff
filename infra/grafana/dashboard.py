"""Build the oncorelay Grafana dashboard (classic JSON model) from a short list of panels.

    python infra/grafana/dashboard.py          # rewrites infra/grafana/dashboards/oncorelay.json
    python infra/grafana/dashboard.py --check  # exit 1 if the committed JSON is out of date

Every query names metrics from services/common/metrics.py (or Prometheus' `up`, or the client's
`process_*`); tests/unit/test_ops_grafana.py checks each one is valid PromQL (promtool) and
exported by the services. Queries use Grafana's `$__rate_interval`.
"""

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

OUT = Path(__file__).resolve().parent / "dashboards" / "oncorelay.json"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
SERVICES = 'job=~"ingest|annotate|notify"'
RATE = "$__rate_interval"


@dataclass
class Panel:
    title: str
    queries: list[tuple[str, str]]  # (PromQL, legend)
    unit: str = "short"
    kind: str = "timeseries"
    width: int = 12
    description: str = ""
    options: dict = field(default_factory=dict)


def quantiles(metric: str, by: str, where: str = "") -> list[tuple[str, str]]:
    """p50 and p99 of a histogram, per `by` labels."""
    selector = f"{{{where}}}" if where else ""
    legend = " ".join(f"{{{{{label.strip()}}}}}" for label in by.split(","))
    return [
        (f"histogram_quantile({q}, sum by ({by}, le) (rate({metric}_bucket{selector}[{RATE}])))", f"p{int(q * 100)} {legend}")
        for q in (0.5, 0.99)
    ]


ROWS: list[tuple[str, list[Panel]]] = [
    ("Flow", [
        Panel("Services up", [(f"up{{{SERVICES}}}", "{{job}}")], kind="stat", width=6,
              description="1 = Prometheus scrapes the service; 0 pages after a minute (OncorelayServiceDown).",
              options={"mappings": [{"type": "value", "options": {"0": {"text": "DOWN", "color": "red"},
                                                                    "1": {"text": "UP", "color": "green"}}}]}),
        Panel("Messages consumed per second", [
            ("sum by (service, topic) (rate(oncorelay_messages_consumed_total[$__rate_interval]))", "{{service}} ← {{topic}}"),
        ], unit="ops", width=9),
        Panel("Messages produced per second", [
            ("sum by (topic) (rate(oncorelay_messages_produced_total[$__rate_interval]))", "{{topic}}"),
        ], unit="ops", width=9),
        Panel("Lab results rejected, by reason", [
            ("sum by (reason) (increase(oncorelay_messages_rejected_total[$__rate_interval]))", "{{reason}}"),
        ], width=12, description="Reason codes from contracts/reasons.py; the lab gets each one in its receipt."),
        Panel("Dead-letter topics (messages per second)", [
            ('sum by (topic) (rate(oncorelay_messages_produced_total{topic=~".*dlq.*"}[$__rate_interval]))', "{{topic}}"),
        ], unit="ops", width=12),
    ]),
    ("Latency", [
        Panel("Lab publish → stage (end to end)", quantiles("oncorelay_end_to_end_seconds", "stage"), unit="s",
              description="Objective for panel-sized results: p50 ≤ 0.3 s, p99 ≤ 1 s to alert_delivered."),
        Panel("Processing time per message", quantiles("oncorelay_processing_seconds", "service, stage"), unit="s"),
        Panel("MongoDB command latency", quantiles("oncorelay_mongodb_operation_seconds", "service, command"), unit="s"),
        Panel("Consumer lag", [
            ("sum by (service, topic) (oncorelay_consumer_lag_messages)", "{{service}} ← {{topic}}"),
        ], description="Messages on the topic not yet committed by the service's consumer group."),
    ]),
    ("Alerts to Molecular Tumour Boards", [
        Panel("Alerts raised, by priority", [
            ("sum by (priority) (increase(oncorelay_alerts_raised_total[$__rate_interval]))", "{{priority}}"),
        ], width=8),
        Panel("Alert deliveries, by channel and outcome", [
            ("sum by (channel, status) (increase(oncorelay_alerts_delivered_total[$__rate_interval]))", "{{channel}} {{status}}"),
        ], width=8),
        Panel("Delivery attempts and failures, by channel", [
            ("sum by (channel, outcome) (increase(oncorelay_delivery_attempts_total[$__rate_interval]))", "attempts {{channel}} {{outcome}}"),
            ("sum by (channel) (increase(oncorelay_delivery_failures_total[$__rate_interval]))", "failed for good {{channel}}"),
        ], width=8),
        Panel("Raised → acknowledged by the MTB team", quantiles("oncorelay_alert_acknowledge_seconds", "priority"),
              unit="s", description="From notify's clinician API: how long alerts wait for a person."),
        Panel("Escalations and acknowledgements", [
            ("sum by (level) (increase(oncorelay_escalations_total[$__rate_interval]))", "escalated, level {{level}}"),
            ("sum by (priority) (increase(oncorelay_alerts_acknowledged_total[$__rate_interval]))", "acknowledged {{priority}}"),
        ]),
    ]),
    ("Molecular Tumour Boards (per treating site)", [
        Panel("Cases received, reviewed, recommended, therapy started", [
            ("max by (site, measure) (oncorelay_board_cases)", "{{site}} {{measure}}"),
        ], kind="table", width=12, description="From notify's board metrics (the workspace's /board page), "
              "recomputed every ONCORELAY_BOARD_METRICS_S; no patient data in labels."),
        Panel("Turnaround per stage (median and p90)", [
            ("max by (site, stage, quantile) (oncorelay_board_turnaround_seconds)", "{{site}} {{stage}} q{{quantile}}"),
        ], unit="s", width=12),
    ]),
    ("Labs: quality and drift (per lab and assay)", [
        Panel("Rejection rate per lab (6 h)", [
            ('sum by (lab) (increase(oncorelay_lab_results_total{status="rejected"}[6h])) '
             '/ sum by (lab) (increase(oncorelay_lab_results_total[6h]))', "{{lab}}"),
        ], unit="percentunit", width=8, description="OncorelayLabRejectionRateAboveBaseline tickets a lab far above "
              "its own 7-day rate; `oncorelay labs report LAB` lists the reasons."),
        Panel("Rejections by lab and reason", [
            ("sum by (lab, reason) (increase(oncorelay_lab_rejections_total[$__rate_interval]))", "{{lab}} {{reason}}"),
        ], width=8),
        Panel("Median TMB per lab and assay (1 d)", [
            ("histogram_quantile(0.5, sum by (lab, assay, le) (increase(oncorelay_lab_tmb_mutations_per_mb_bucket[1d])))",
             "{{lab}} {{assay}}"),
        ], width=8, description="OncorelayLabTmbDrift tickets a median over twice or under half its 14-day one."),
        Panel("Median allele fraction and tumour content (1 d)", [
            ("histogram_quantile(0.5, sum by (lab, assay, le) (increase(oncorelay_lab_median_vaf_ratio_bucket[1d])))",
             "VAF {{lab}} {{assay}}"),
            ("histogram_quantile(0.5, sum by (lab, assay, le) (increase(oncorelay_lab_tumour_content_ratio_bucket[1d])))",
             "tumour content {{lab}} {{assay}}"),
        ], unit="percentunit", width=8),
        Panel("Variants per result (median, 1 d)", [
            ("histogram_quantile(0.5, sum by (lab, assay, le) (increase(oncorelay_lab_result_variants_bucket[1d])))",
             "{{lab}} {{assay}}"),
        ], width=8),
        Panel("Non-informative share (1 d)", [
            ('sum by (lab, assay) (increase(oncorelay_lab_interpreted_total{informative="false"}[1d])) '
             '/ sum by (lab, assay) (increase(oncorelay_lab_interpreted_total[1d]))', "{{lab}} {{assay}}"),
        ], unit="percentunit", width=8),
    ]),
    ("Versions and resources", [
        Panel("Knowledge base and rule set in use", [
            ("max by (job, version) (oncorelay_knowledge_base_info)", "knowledge base {{version}}"),
            ("max by (job, version) (oncorelay_ruleset_info)", "rule set {{version}}"),
        ], kind="table", width=8),
        Panel("Resident memory", [(f"process_resident_memory_bytes{{{SERVICES}}}", "{{job}}")], unit="bytes", width=8),
        Panel("CPU", [(f"rate(process_cpu_seconds_total{{{SERVICES}}}[$__rate_interval])", "{{job}}")],
              unit="percentunit", width=8),
    ]),
]


def _panel(panel: Panel, panel_id: int, x: int, y: int) -> dict:
    targets = [
        {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend,
         **({"instant": True, "format": "table"} if panel.kind == "table" else {})}
        for i, (expr, legend) in enumerate(panel.queries)
    ]
    body = {
        "id": panel_id, "type": panel.kind, "title": panel.title, "description": panel.description,
        "datasource": DATASOURCE, "gridPos": {"x": x, "y": y, "w": panel.width, "h": 8},
        "targets": targets,
        "fieldConfig": {"defaults": {"unit": panel.unit, **panel.options}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}} if panel.kind == "timeseries" else {},
    }
    return body


def build() -> dict:
    """The dashboard as Grafana's classic JSON model."""
    panels, panel_id, y = [], 1, 0
    for title, row in ROWS:
        panels.append({"id": panel_id, "type": "row", "title": title, "collapsed": False,
                       "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "panels": []})
        panel_id, y, x = panel_id + 1, y + 1, 0
        for panel in row:
            if x + panel.width > 24:
                x, y = 0, y + 8
            panels.append(_panel(panel, panel_id, x, y))
            panel_id, x = panel_id + 1, x + panel.width
        y += 8
    return {
        "uid": "oncorelay-overview", "title": "oncorelay: results, latency, alerts",
        "description": "Is oncorelay carrying results from labs to MTBs, how fast, and what is rejected.",
        "tags": ["oncorelay"], "timezone": "browser", "schemaVersion": 39, "version": 1, "editable": True,
        "refresh": "30s", "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": []}, "annotations": {"list": []}, "panels": panels,
    }


def render() -> str:
    """The dashboard JSON text as committed."""
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if OUT.exists() and OUT.read_text() == text else 1)
    OUT.write_text(text)
    print(f"wrote {OUT}")
