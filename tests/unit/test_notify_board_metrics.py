"""The board's numbers: counts and nearest-rank percentiles of each stage's turnaround."""

from datetime import UTC, datetime, timedelta

from services.notify.domain.board_metrics import board_metrics, percentile

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def case(case_id: str, **after_hours: float) -> dict:
    return {"_id": case_id, "timeline": [{"stage": stage, "at": T0 + timedelta(hours=h)}
                                         for stage, h in {"received": 0, **after_hours}.items()]}


def test_percentiles_by_nearest_rank():
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([float(n) for n in range(1, 11)], 0.5) == 5.0
    assert percentile([float(n) for n in range(1, 11)], 0.9) == 9.0


def test_counts_and_stage_turnaround_of_a_boards_cases():
    cases = [case("C1", alerted=1, acknowledged=3, decided=27), case("C2", alerted=2, decided=50),
             case("C3", alerted=1), case("C4")]
    decisions = [{"case_id": "C1", "outcome": "targeted_therapy"}, {"case_id": "C2", "outcome": "no_action"}]
    followups = [{"case_id": "C1", "therapy_started": True}, {"case_id": "C2", "therapy_started": True}]
    metrics = board_metrics(cases, decisions, followups)
    assert (metrics["received"], metrics["reviewed"], metrics["recommended"], metrics["therapy_started"]) == (4, 2, 1, 1)
    assert metrics["stages"]["received_to_alerted"] == {"n": 3, "p50_s": 3600.0, "p90_s": 7200.0}
    assert metrics["stages"]["acknowledged_to_decided"] == {"n": 1, "p50_s": 24 * 3600.0, "p90_s": 24 * 3600.0}
    assert metrics["stages"]["received_to_decided"]["n"] == 2
