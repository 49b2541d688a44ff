"""The watch folder: publish every VCF a lab pipeline drops (with its .json sidecar) exactly once.

A VCF `X.vcf` or `X.vcf.gz` is picked up when `X.json` (the sidecar, same names as the
`oncorelay publish` options) is present and neither file changed size since the last scan (a file
still being written waits). After its receipt arrives, both files move to done/ or rejected/ with
the receipt beside them as `X.receipt.json`. If the watcher stops between publishing and moving, the
next scan publishes the same file again under the same result_id; ingest recognises the duplicate and
only re-sends its receipt, so nothing is duplicated downstream.

What cannot be published is moved to rejected/ at once, with a receipt-like `X.receipt.json` that
names the reason code and what to do: a sidecar that is not JSON or lacks or breaks a field, and a
file that is no VCF (another extension beside a sidecar, or content that is neither gzip nor VCF
text). A damaged gzip/BGZF VCF is published as it is, so ingest's receipt says why (as with
`oncorelay publish`). When Kafka is away the files stay and are tried again at the next scan.
"""

import asyncio
import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from aiokafka.errors import KafkaError

from contracts.events import IngestReceipt, RejectionReason
from contracts.reasons import RejectionCode
from oncorelay.labclient import DamagedFile, ReceiptWatcher, ResultMetadata, as_bgzf, build_result, publish
from services.common.settings import Settings

VCF_SUFFIXES = (".vcf", ".vcf.gz")
NOT_DATA = (".json", ".receipt.json")


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


def unknown_formats(folder: Path) -> list[tuple[Path, Path]]:
    """Files beside a sidecar that are no VCF by their name (X.tsv, X.pdf with X.json), with their sidecar."""
    found = []
    for sidecar in sorted(folder.glob("*.json")):
        stem = sidecar.name.removesuffix(".json")
        if stem.endswith(".receipt") or any((folder / f"{stem}{suffix}").exists() for suffix in VCF_SUFFIXES):
            continue
        found += [(path, sidecar) for path in sorted(folder.glob(f"{stem}.*"))
                  if path != sidecar and not path.name.endswith(NOT_DATA) and path.is_file()]
    return found


def content_problem(vcf: Path) -> str | None:
    """Why a file named like a VCF is none: its content is neither gzip nor VCF text (None when it may be one)."""
    with vcf.open("rb") as handle:
        head = handle.read(64)
    if head[:2] == b"\x1f\x8b" or head.startswith(b"##fileformat=VCF"):
        return None
    shown = head[:16].decode("ascii", "replace").encode("unicode_escape").decode()
    return f"{vcf.name} is not a VCF: it is neither gzip-compressed nor VCF text (it starts with '{shown}')"


def local_receipt(stem: str, code: RejectionCode, message: str) -> IngestReceipt:
    """What the watch folder says of a file it could not publish (the shape of ingest's receipts)."""
    return IngestReceipt(result_id=stem, status="rejected", reasons=[RejectionReason(code=code, message=message)],
                         message=f"not published by the watch folder: {message}", received_at=datetime.now(UTC))


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
        for other, sidecar in unknown_formats(folder):
            stem = sidecar.name.removesuffix(".json")
            receipt = local_receipt(stem, RejectionCode.VCF_HEADER_INVALID,
                                    f"{other.name} is not a VCF: the watch folder reads X.vcf or X.vcf.gz (see "
                                    "docs/lab-formats.md for the lab outputs it understands); export a VCF")
            _move([other, sidecar], folder / "rejected", receipt, stem)
            report(f"[red]{other.name}: not a VCF -> rejected/[/red]")
            handled += 1
        if once:
            return handled
        await asyncio.sleep(interval_s)


Refusal = tuple[RejectionCode, str]


def _metadata(vcf: Path, sidecar: Path) -> tuple[ResultMetadata | None, Refusal | None]:
    """The sidecar's metadata, or why the pair cannot be published at all (a reason code and what to do)."""
    try:
        problem = content_problem(vcf)
        if problem:
            return None, (RejectionCode.VCF_HEADER_INVALID, f"{problem}; export the VCF again")
        return ResultMetadata.from_sidecar(sidecar), None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return None, (RejectionCode.MALFORMED_JSON, f"{sidecar.name} is not JSON ({error}); fix it and drop both "
                      "files again")
    except (KeyError, TypeError) as error:
        return None, (RejectionCode.SCHEMA_VIOLATION, f"{sidecar.name} lacks or misnames a field ({error}); the "
                      "names are those of `oncorelay publish --help`, e.g. lab, case, patient, specimen_id")
    except ValueError as error:
        return None, _invalid(sidecar, error)


def _invalid(sidecar: Path, error: ValueError) -> Refusal:
    return RejectionCode.SCHEMA_VIOLATION, f"{sidecar.name} is not a valid result: {error}"


async def _publish_pair(settings, folder, vcf, sidecar, spool, timeout_s, report) -> int:
    stem = _stem(vcf)
    meta, refused = _metadata(vcf, sidecar)
    result = None
    if meta is not None:
        try:
            bgzf = as_bgzf(vcf, spool)
        except DamagedFile as error:  # published as it is: ingest's receipt gives the reason
            report(f"[yellow]{error}: published as it is, for the record[/yellow]")
            bgzf = vcf
        except OSError as error:
            report(f"[red]cannot read {vcf.name}: {error.strerror or error}[/red] (the files stay here)")
            return 0
        try:
            result = build_result(meta, bgzf)
        except ValueError as error:  # pydantic's ValidationError is one: the sidecar's values break the contract
            refused = _invalid(sidecar, error)
            if bgzf != vcf:
                bgzf.unlink(missing_ok=True)
    if result is None:
        assert refused is not None
        _move([vcf, sidecar], folder / "rejected", local_receipt(stem, *refused), stem)
        report(f"[red]{vcf.name}: {refused[1]} -> rejected/[/red]")
        return 1
    watcher = ReceiptWatcher(settings, result.lab_id)
    try:
        await watcher.start()
        await publish(settings, [result])
        report(f"published {vcf.name} as result {result.result_id}")
        receipt = await watcher.wait_for(result.result_id, result.result_version, timeout_s)
    except TimeoutError:
        report(f"[yellow]no receipt yet for {vcf.name}; it will be published again on the next scan[/yellow]")
        return 0
    except (OSError, KafkaError) as error:
        report(f"[yellow]cannot reach Kafka at {settings.kafka_bootstrap} ({type(error).__name__}); {vcf.name} "
               "stays here and is tried again at the next scan[/yellow]")
        return 0
    finally:
        await watcher.stop()
    if bgzf != vcf:
        bgzf.unlink(missing_ok=True)  # ingest has read the spooled copy by the time a receipt exists
    destination = folder / ("done" if receipt.status == "accepted" else "rejected")
    _move([vcf, sidecar], destination, receipt, stem)
    report(f"{vcf.name}: {receipt.status} -> {destination.name}/  {receipt.message}")
    return 1
