"""The watch folder: publish every VCF a lab pipeline drops (with its .json sidecar) exactly once.

A VCF `X.vcf` or `X.vcf.gz` is picked up when `X.json` (the sidecar, same names as the
`oncorelay publish` options) is present and neither file changed size since the last scan.
After its receipt arrives, both files move to done/ or rejected/ with the receipt beside them
as `X.receipt.json`. If the watcher stops between publishing and moving, the next scan
publishes the same file again under the same result_id; ingest recognises the duplicate and
only re-sends its receipt, so nothing is duplicated downstream.
"""

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

from contracts.events import IngestReceipt
from oncorelay.labclient import ReceiptWatcher, ResultMetadata, as_bgzf, build_result, publish
from services.common.settings import Settings


def _stem(vcf: Path) -> str:
    return vcf.name.removesuffix(".gz").removesuffix(".vcf")


def ready_pairs(folder: Path, previous_sizes: dict[Path, int]) -> list[tuple[Path, Path]]:
    """VCF + sidecar pairs whose sizes are unchanged since the previous scan (writing has finished)."""
    pairs = []
    for vcf in sorted([*folder.glob("*.vcf"), *folder.glob("*.vcf.gz")]):
        sidecar = folder / f"{_stem(vcf)}.json"
        if not sidecar.exists():
            continue
        sizes = {vcf: vcf.stat().st_size, sidecar: sidecar.stat().st_size}
        stable = all(previous_sizes.get(path) == size for path, size in sizes.items())
        previous_sizes.update(sizes)
        if stable:
            pairs.append((vcf, sidecar))
    return pairs


def _move(files: list[Path], destination: Path, receipt: IngestReceipt, stem: str) -> None:
    destination.mkdir(exist_ok=True)
    for path in files:
        shutil.move(str(path), destination / path.name)
    (destination / f"{stem}.receipt.json").write_text(receipt.model_dump_json(indent=2))


async def watch_folder(
    settings: Settings,
    folder: Path,
    interval_s: float,
    once: bool,
    receipt_timeout_s: float,
    report: Callable[[str], None],
) -> int:
    """Scan `folder` until stopped (or one pass with once=True, after files settle); returns files handled."""
    sizes: dict[Path, int] = {}
    handled = 0
    spool = folder / ".spool"
    first = True
    while True:
        pairs = ready_pairs(folder, sizes)
        if first and once:  # sizes need two looks to be 'unchanged'
            await asyncio.sleep(min(interval_s, 0.5))
            pairs = ready_pairs(folder, sizes)
        first = False
        for vcf, sidecar in pairs:
            handled += await _publish_pair(settings, folder, vcf, sidecar, spool, receipt_timeout_s, report)
        if once:
            return handled
        await asyncio.sleep(interval_s)


async def _publish_pair(settings, folder, vcf, sidecar, spool, timeout_s, report) -> int:
    stem = _stem(vcf)
    try:
        bgzf = as_bgzf(vcf, spool)
        result = build_result(ResultMetadata.from_sidecar(sidecar), bgzf)
    except (ValueError, KeyError, TypeError, OSError) as error:
        report(f"[red]cannot publish {vcf.name}: {error}[/red] (fix {sidecar.name}; the files stay here)")
        return 0
    watcher = ReceiptWatcher(settings, result.lab_id)
    await watcher.start()
    try:
        await publish(settings, [result])
        report(f"published {vcf.name} as result {result.result_id}")
        receipt = await watcher.wait_for(result.result_id, result.result_version, timeout_s)
    except TimeoutError:
        report(f"[yellow]no receipt yet for {vcf.name}; it will be published again on the next scan[/yellow]")
        return 0
    finally:
        await watcher.stop()
    if bgzf != vcf:
        bgzf.unlink(missing_ok=True)  # ingest has read the spooled copy by the time a receipt exists
    destination = folder / ("done" if receipt.status == "accepted" else "rejected")
    _move([vcf, sidecar], destination, receipt, stem)
    report(f"{vcf.name}: {receipt.status} -> {destination.name}/  {receipt.message}")
    return 1
