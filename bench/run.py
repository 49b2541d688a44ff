"""Run oncorelay's benchmarks in one go, print a table and write bench/results.json (see bench/README.md).

    .venv/bin/python -m bench.run               # everything (make bench), about 10 minutes
    .venv/bin/python -m bench.run --quick       # short runs, to check the harness itself
    .venv/bin/python -m bench.run --only parse  # parse | flow (latency, large, throughput) | pages (workspace)

Nothing here passes or fails: targets are printed next to what was measured.
"""

import argparse
import asyncio
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench import flow, parse_ratio, workspace
from bench.gen_vcf import write_vcf
from bench.stack import REPO, BenchStack

WORK = REPO / "bench" / "work"
RESULTS = REPO / "bench" / "results.json"
LARGE_RECORDS = 200_000
PANEL_RECORDS = 500
PANELS = 10
TARGETS = {  # key: (comparison, target, unit)
    "parse_ratio": (">=", 0.5, "ingest rate / bare pysam rate"),
    "p50_s": ("<=", 0.3, "s publish → alert, p50"),
    "p99_s": ("<=", 1.0, "s publish → alert, p99"),
    "large_s": ("<=", 10.0, "s publish → annotated, 200,000 variants"),
    "large_peak_rss_mb": ("<=", 400.0, "MB, largest service peak RSS during it"),
    "throughput_ratio": (None, None, "pipeline results/s / bare broker results/s"),
    "worklist_page_s": ("<=", 1.0, "s to serve the worklist, 200 open alerts (p50)"),
    "case_page_s": ("<=", 1.0, "s to serve a case page, 500 findings over 20 specimens (p50)"),
}

console = Console()


def progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console)


def prepare_vcfs(bar: Progress) -> tuple[Path, list[Path]]:
    """The large VCF and the panels, generated once (deterministic seeds) and reused."""
    WORK.mkdir(parents=True, exist_ok=True)
    large = WORK / f"large-{LARGE_RECORDS}.vcf.gz"
    panels = [WORK / f"panel-{PANEL_RECORDS}-{i}.vcf.gz" for i in range(PANELS)]
    todo = [p for p in [large, *panels] if not p.exists()]
    task = bar.add_task("generating synthetic VCFs", total=len(todo) or 1, completed=0 if todo else 1)
    for path in todo:
        if path == large:
            write_vcf(path, LARGE_RECORDS, seed=7)
        else:
            write_vcf(path, PANEL_RECORDS, seed=100 + panels.index(path), braf_v600e=True)
        bar.advance(task)
    return large, panels


async def run_flow(large_vcf: Path, panels: list[Path], args, bar: Progress) -> dict:
    """Benchmarks 2-4, each on a fresh stack (empty broker and database) after a short warm-up."""
    out: dict = {}
    out["large"] = await _phase("large result", panels, args, bar, lambda lab, sink, stack: _large(lab, stack, large_vcf, args, bar))
    out["latency"] = await _phase("latency", panels, args, bar, lambda lab, sink, stack: _latency(lab, sink, stack, args, bar))
    out["throughput_pipeline"] = await _phase(
        "throughput", panels, args, bar, lambda lab, sink, stack: _throughput(lab, sink, stack, args, bar))
    out["throughput_bare"] = await _phase(
        "bare broker", panels, args, bar, lambda lab, sink, stack: flow.bare_throughput(lab, args.count, bar), services=False)
    return out


async def _phase(name: str, panels: list[Path], args, bar: Progress, measure, services: bool = True) -> dict:
    sink = flow.AlertSink()
    stack = BenchStack(webhook_url=sink.url)
    task = bar.add_task(f"{name}: fresh Kafka, FerretDB{' and services' if services else ''} on bench ports", total=1)
    await asyncio.to_thread(stack.start, services)
    bar.update(task, completed=1)
    lab = flow.Lab(stack.bootstrap, panels, rejections=stack.rejections if services else None)
    await lab.start()
    try:
        if services:
            warmup = await flow.latency(lab, sink, rate=5, duration_s=2, progress=bar, wait_s=120)
            if warmup["alerts_received"] < warmup["published"]:
                bar.console.print(f"[yellow]{name}: warm-up got {warmup['alerts_received']}/{warmup['published']} alerts")
        return await measure(lab, sink, stack)
    finally:
        await lab.stop()
        sink.stop()
        if not args.keep_stack:
            await asyncio.to_thread(stack.stop)


async def _large(lab: flow.Lab, stack: BenchStack, large_vcf: Path, args, bar: Progress) -> dict:
    large_lab = flow.Lab(stack.bootstrap, [large_vcf], reference=True, rejections=stack.rejections)
    large_lab.producer = lab.producer
    stack.reset_peak_memory()
    result = await flow.large(large_lab, stack.bootstrap, timeout_s=args.large_timeout, progress=bar)
    result["peak_rss_mb"] = {k: round(v, 1) for k, v in stack.peak_memory_mb().items()}
    result["mongodb_seconds"] = stack.mongodb_seconds()
    return result


async def _latency(lab: flow.Lab, sink: flow.AlertSink, stack: BenchStack, args, bar: Progress) -> dict:
    # Context for the target run: the same measure at a rate this pipeline sustains (not a target).
    light = await flow.latency(lab, sink, rate=args.light_rate, duration_s=min(30.0, args.duration), progress=bar)
    result = await flow.latency(lab, sink, rate=args.rate, duration_s=args.duration, progress=bar,
                                warmup_s=args.warmup)
    result["at_light_rate"] = light
    result["peak_rss_mb"] = {k: round(v, 1) for k, v in stack.peak_memory_mb().items()}
    result["mongodb_seconds"] = stack.mongodb_seconds()
    return result


async def _throughput(lab: flow.Lab, sink: flow.AlertSink, stack: BenchStack, args, bar: Progress) -> dict:
    # Where the CPU goes: each process's CPU time over the run, per result (two cores are shared by all).
    before = stack.cpu_seconds()
    result = await flow.pipeline_throughput(lab, sink, args.count, bar)
    after = stack.cpu_seconds()
    result["cpu_ms_per_result"] = {name: round(1000 * (after[name] - before[name]) / args.count, 1) for name in after}
    return result


def summary(parse: dict | None, flows: dict | None, pages: dict | None = None) -> dict:
    results: dict = {"parse_ratio": None, "p50_s": None, "p99_s": None, "large_s": None,
                     "large_peak_rss_mb": None, "throughput_ratio": None, "worklist_page_s": None, "case_page_s": None}
    if pages:
        results["worklist_page_s"] = pages["worklist"]["p50_s"]
        results["case_page_s"] = pages["case_page"]["p50_s"]
    if parse:
        results["parse_ratio"] = parse["parse_ratio"]
    if flows:
        results["p50_s"] = flows["latency"]["p50_s"]
        results["p99_s"] = flows["latency"]["p99_s"]
        results["large_s"] = flows["large"]["to_annotated_s"]
        results["large_peak_rss_mb"] = max(flows["large"]["peak_rss_mb"].values())
        bare = flows["throughput_bare"]["results_per_s"]
        results["throughput_ratio"] = round(flows["throughput_pipeline"]["results_per_s"] / bare, 4) if bare else None
    return results


def verdict(key: str, value) -> str:
    op, target, _ = TARGETS[key]
    if value is None:
        return "[yellow]not measured[/yellow]"
    if op is None:
        return "—"
    met = value >= target if op == ">=" else value <= target
    return "[green]met[/green]" if met else "[red]missed[/red]"


def print_table(results: dict, details: dict) -> None:
    table = Table(title="oncorelay benchmarks (one run, this machine)")
    for column in ("measure", "value", "target", "", "what"):
        table.add_column(column)
    for key, (op, target, what) in TARGETS.items():
        value = results[key]
        table.add_row(key, "—" if value is None else f"{value:g}", f"{op} {target:g}" if op else "",
                      verdict(key, value), what)
    console.print(table)
    if "flow" in details:
        f = details["flow"]
        light = f["latency"].get("at_light_rate")
        if light:
            console.print(f"latency at {light['rate_per_s']:g}/s (context, not a target): p50 {light['p50_s']} s, "
                          f"p99 {light['p99_s']} s ({light['alerts_received']}/{light['published']} alerts)")
        warm = f["latency"].get("warmup")
        if warm:
            console.print(f"latency in the first {warm['duration_s']:g} s at {f['latency']['rate_per_s']:g}/s (warm-up, "
                          f"not in p50/p99): p50 {warm['p50_s']} s, p99 {warm['p99_s']} s "
                          f"({warm['alerts_received']}/{warm['published']} alerts)")
        console.print(f"latency: {f['latency']['alerts_received']}/{f['latency']['published']} alerts at "
                      f"{f['latency']['rate_per_s']:g}/s for {f['latency']['duration_s']:g} s; "
                      f"large: ingested after {f['large']['to_ingested_s']} s, peak RSS {f['large']['peak_rss_mb']} MB; "
                      f"throughput: pipeline {f['throughput_pipeline']['results_per_s']}/s, "
                      f"bare broker {f['throughput_bare']['results_per_s']}/s")
        cpu = f["throughput_pipeline"].get("cpu_ms_per_result")
        if cpu:
            console.print(f"CPU ms per result in the throughput run: {cpu} (total {sum(cpu.values()):.0f} ms; "
                          f"{os.cpu_count()} cores)")
    if "pages" in details:
        p = details["pages"]
        console.print(f"workspace: worklist p50 {p['worklist']['p50_s']} s (max {p['worklist']['max_s']} s, "
                      f"{p['worklist']['bytes']} bytes); case page p50 {p['case_page']['p50_s']} s (max "
                      f"{p['case_page']['max_s']} s, {p['case_page']['bytes']} bytes), {p['case_page_vs_api']}× the "
                      f"case's API JSON ({p['case_api_json']['p50_s']} s)")
    if "parse" in details:
        console.print(f"parse: records/s {details['parse']['records_per_s']} "
                      f"(ingest vs pysam reading the same fields: {details['parse']['parse_ratio_vs_field_reading']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs: checks the harness, numbers mean little")
    parser.add_argument("--only", choices=("parse", "flow", "pages"))
    parser.add_argument("--rate", type=float, default=20.0, help="results per second in the latency run")
    parser.add_argument("--light-rate", type=float, default=2.0,
                        help="results per second of the context latency run before the target one")
    parser.add_argument("--duration", type=float, default=float(os.environ.get("ONCORELAY_BENCH_SECONDS", 180)),
                        help="seconds of the latency run that are measured")
    parser.add_argument("--warmup", type=float, default=30.0,
                        help="seconds at --rate before the measured ones (reported on their own, not in p50/p99)")
    parser.add_argument("--count", type=int, default=300, help="results in each throughput run")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each parse path")
    parser.add_argument("--large-timeout", type=float, default=300, help="seconds to wait for the large result")
    parser.add_argument("--keep-stack", action="store_true", help="leave the bench stack running afterwards")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.warmup, args.count, args.repeats, args.large_timeout = 15.0, 5.0, 60, 1, 90.0

    details: dict = {}
    started = time.time()
    with progress() as bar:
        if args.only in (None, "pages"):
            details["pages"] = workspace.run(3 if args.quick else 10, bar)
        large_vcf, panels = prepare_vcfs(bar) if args.only != "pages" else (None, [])
        if args.only in (None, "parse"):
            details["parse"] = parse_ratio.run(large_vcf, args.repeats, bar)
        if args.only in (None, "flow"):
            try:
                details["flow"] = asyncio.run(run_flow(large_vcf, panels, args, bar))
            except flow.RunRejected as rejected:
                console.print(f"[red]bench stopped: {rejected}; nothing written")
                raise SystemExit(1) from None
    results = summary(details.get("parse"), details.get("flow"), details.get("pages"))
    print_table(results, details)
    if args.only is None or not RESULTS.exists():
        previous = {}
    else:  # a partial run keeps the other measurements of the last full run
        previous = json.loads(RESULTS.read_text())
    merged = {**{k: previous.get(k) for k in results}, **{k: v for k, v in results.items() if v is not None}}
    document = {
        **merged,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "settings": {"quick": args.quick, "rate_per_s": args.rate, "light_rate_per_s": args.light_rate,
                     "duration_s": args.duration, "warmup_s": args.warmup,
                     "throughput_count": args.count, "parse_repeats": args.repeats,
                     "large_records": LARGE_RECORDS, "panel_records": PANEL_RECORDS},
        "targets": {k: {"op": op, "value": target} for k, (op, target, _) in TARGETS.items() if op},
        "details": {**previous.get("details", {}), **details},
        "wall_s": round(time.time() - started, 1),
    }
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    console.print(f"wrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
