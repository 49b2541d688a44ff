"""The board's own numbers for the workspace page and for Prometheus (per treating site; no patient data)."""

from typing import Any

from services.notify import metrics
from services.notify.domain.board_metrics import board_metrics
from services.notify.ports import CaseViews

MEASURES = ("received", "reviewed", "recommended", "therapy_started")
QUANTILES = (("0.5", "p50_s"), ("0.9", "p90_s"))


class BoardMetrics:
    def __init__(self, cases: CaseViews) -> None:
        self.cases = cases

    async def of_sites(self, site_ids: list[str]) -> dict[str, Any]:
        """The numbers over the cases of these sites (a team's board page)."""
        return board_metrics(*await self.cases.board_data(site_ids))

    async def export(self) -> int:
        """Set the per-site gauges (oncorelay_board_cases, oncorelay_board_turnaround_seconds); how many sites."""
        sites = await self.cases.treating_sites()
        for site in sites:
            numbers = await self.of_sites([site])
            for measure in MEASURES:
                metrics.BOARD_CASES.labels(site, measure).set(numbers[measure])
            for stage, values in numbers["stages"].items():
                for quantile, key in QUANTILES:
                    if values[key] is not None:
                        metrics.BOARD_TURNAROUND.labels(site, stage, quantile).set(values[key])
        return len(sites)
