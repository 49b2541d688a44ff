"""The bench's latency measure keeps the warm-up's results out of the headline percentiles."""

import asyncio
import threading
import time

from rich.progress import Progress

from bench import flow


class _Producer:
    async def flush(self) -> None:
        return None


class _Lab:
    """Sends nothing; the sink 'receives' each result at once, 5 s late in the warm-up, 0.1 s after."""

    def __init__(self, sink: "_Sink", warmup_count: int) -> None:
        self.producer, self.sink, self.warmup_count = _Producer(), sink, warmup_count

    def message(self, n: int, prefix: str) -> tuple[str, dict]:
        return f"id-{n}", {"n": n}

    async def send(self, doc: dict) -> float:
        sent = time.time()
        late = 5.0 if doc["n"] < self.warmup_count else 0.1
        if doc["n"] != 3:  # the warm-up's fourth alert never arrives
            self.sink.arrivals[f"id-{doc['n']}"] = sent + late
        return sent

    def check_accepted(self) -> None:
        return None


class _Sink:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrivals: dict[str, float] = {}

    def count(self, ids: set[str]) -> int:
        return len(ids)  # report everything as arrived, so the wait ends at once


def test_percentiles_cover_only_the_results_sent_after_the_warm_up():
    sink = _Sink()
    lab = _Lab(sink, warmup_count=10)
    with Progress(disable=True) as bar:
        result = asyncio.run(flow.latency(lab, sink, rate=1000, duration_s=0.04, progress=bar, wait_s=1,
                                          warmup_s=0.01))
    assert result["published"] == 40 and result["alerts_received"] == 40
    assert abs(result["p50_s"] - 0.1) < 1e-3 and abs(result["p99_s"] - 0.1) < 1e-3
    warmup = result["warmup"]
    assert warmup["published"] == 10 and warmup["alerts_received"] == 9
    assert abs(warmup["p50_s"] - 5.0) < 1e-3
    assert result["slowest_seconds"] == [{"second": 0, "max_s": 0.1}]  # the warm-up's missing alert is not here


def test_without_a_warm_up_every_result_counts():
    sink = _Sink()
    lab = _Lab(sink, warmup_count=5)
    with Progress(disable=True) as bar:
        result = asyncio.run(flow.latency(lab, sink, rate=1000, duration_s=0.02, progress=bar, wait_s=1))
    assert "warmup" not in result
    assert result["published"] == 20 and result["alerts_received"] == 19
    assert abs(result["max_s"] - 5.0) < 1e-3 and abs(result["p50_s"] - 0.1) < 1e-3
    assert result["slowest_seconds"] == [{"second": 0, "max_s": None}]  # a missing alert ranks worst
