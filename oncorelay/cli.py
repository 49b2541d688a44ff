"""The `oncorelay` command: publish lab results, watch a folder, and (for MTB staff and
operators) inspect cases, the knowledge base and triage rules."""

import asyncio
import logging
import sys
from datetime import date
from pathlib import Path
from typing import NoReturn

import click
from aiokafka.errors import KafkaError
from rich.console import Console

from oncorelay import cli_notify
from oncorelay.cli_clinical import case_group, kb_group, rules_group
from oncorelay.cli_evaluate import evaluate_command
from oncorelay.cli_labs import labs_group
from oncorelay.cli_results import results_group
from oncorelay.exits import Exit, help_text
from oncorelay.labclient import DamagedFile, ReceiptWatcher, ResultMetadata, as_bgzf, build_result, publish
from oncorelay.purple import purity_file_beside, purity_summary
from oncorelay.watch import watch_folder
from services.common.settings import Settings, load_settings

console = Console(stderr=True)


@click.group(help=__doc__, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Entry point of the oncorelay command."""
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # its connection errors are told as one sentence


@main.command("publish", epilog=help_text())
@click.argument("vcf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lab", required=True, help="Your lab id, as registered with the MTB network.")
@click.option("--case", "case", required=True, help="The MTB case id.")
@click.option("--patient", required=True, help="Pseudonymous patient id (never a name, birth date or national ID).")
@click.option("--specimen-id", required=True)
@click.option("--specimen-type", type=click.Choice(["tissue", "plasma"]), required=True)
@click.option("--tumor-type", required=True, help="OncoTree code, e.g. LUAD, COADREAD, BRCA.")
@click.option("--assay", required=True, help="Assay name, e.g. 'TSO500'.")
@click.option("--genome-build", type=click.Choice(["GRCh37", "GRCh38"]), required=True)
@click.option("--panel-size-mb", type=float, required=True, help="Coding territory of the assay in Mb (for TMB).")
@click.option("--treating-site", required=True, help="Hospital whose MTB treats the patient (alerts go there).")
@click.option("--collected", type=click.DateTime(["%Y-%m-%d"]), help="Specimen collection date [default: today].")
@click.option("--result-id", help="Result id [default: derived from lab, specimen and the VCF checksum].")
@click.option("--result-version", type=int, default=1, show_default=True, help="Raise it to amend a result.")
@click.option("--tumor-normal", is_flag=True, help="The VCF comes from tumour/normal sequencing.")
@click.option("--msi", type=click.Choice(["MSI-H", "MSI-L", "MSS"]), help="MSI status as your assay reports it.")
@click.option("--tmb", type=float, help="TMB in mutations/Mb as your assay reports it.")
@click.option("--therapy", multiple=True, help="A drug the patient currently receives (repeatable).")
@click.option("--tumour-content", type=click.FloatRange(0, 1), help="QC: tumour cell content (purity), 0-1.")
@click.option("--median-depth", type=click.FloatRange(0), help="QC: median read depth over the target region.")
@click.option("--ctdna-fraction", type=click.FloatRange(0, 1), help="QC, plasma: ctDNA tumour fraction, 0-1.")
@click.option("--lod", type=click.FloatRange(0, 1, min_open=True), help="QC: the assay's limit of detection as "
              "an allele fraction (0.005 = 0.5%).")
@click.option("--lab-qc", type=click.Choice(["pass", "fail"]), help="QC: your pipeline's own QC verdict.")
@click.option("--amplification-min-cn", type=click.FloatRange(0, 1000, min_open=True), help="Your assay's copy "
              "number at or above which it calls an amplification [default: 6].")
@click.option("--deletion-max-cn", type=click.FloatRange(0, 2, max_open=True), help="Your assay's copy number at "
              "or below which it calls a deep deletion [default: 0.5].")
@click.option("--reference-url-prefix", help="Large VCFs are sent by reference: the URL prefix ingest can read "
              "them from [default: a file:// URI of the local path].")
@click.option("--purple-purity", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A Hartwig purple.purity.tsv: its purity, MSI status and TMB fill --tumour-content, --msi and "
              "--tmb where those are not given [default: the one beside a *.purple.somatic.vcf.gz].")
@click.option("--wait/--no-wait", default=False, help="Wait for the receipt and print it.")
@click.option("--timeout", type=float, default=120.0, show_default=True, help="Seconds to wait for the receipt.")
def publish_command(vcf: Path, **options) -> None:
    """Publish one VCF as a sequencing result (inline when small, by reference when large).

    Lab outputs read as they are: VEP/SnpEff-annotated VCFs, Illumina TSO500 (Pisces/Pepe, VF), Thermo Fisher
    Oncomine / Ion Reporter (FUNC, CNV and fusion records) and Hartwig PURPLE somatic VCFs (PAVE IMPACT, plain
    gzip, with purple.purity.tsv); see docs/lab-formats.md."""
    _lab_measures(vcf, options)
    meta = ResultMetadata(
        lab=options["lab"], case=options["case"], patient=options["patient"], specimen_id=options["specimen_id"],
        specimen_type=options["specimen_type"], tumor_type=options["tumor_type"], assay=options["assay"],
        genome_build=options["genome_build"], panel_size_mb=options["panel_size_mb"],
        treating_site=options["treating_site"],
        collected=options["collected"].date() if options["collected"] else date.today(),
        result_id=options["result_id"], result_version=options["result_version"],
        tumor_only=not options["tumor_normal"], msi_status=options["msi"], tmb=options["tmb"],
        qc={"tumour_cell_content": options["tumour_content"], "median_target_depth": options["median_depth"],
            "ctdna_tumour_fraction": options["ctdna_fraction"], "limit_of_detection_vaf": options["lod"],
            "lab_status": options["lab_qc"]},
        therapies=options["therapy"], amplification_min_copy_number=options["amplification_min_cn"],
        deletion_max_copy_number=options["deletion_max_cn"],
    )
    settings = load_settings()
    damaged = None
    try:
        if vcf.stat().st_size > settings.max_vcf_bytes:
            fail(Exit.TOO_LARGE, f"{vcf.name} is {vcf.stat().st_size / 1024**2:.0f} MiB; this network accepts VCFs "
                 f"up to {settings.max_vcf_bytes / 1024**2:.0f} MiB (compressed). Split the result or ask the "
                 "operator about ONCORELAY_MAX_VCF_BYTES.")
        with console.status(f"preparing {vcf.name}"):
            try:
                bgzf = as_bgzf(vcf, Path.home() / ".cache" / "oncorelay" / "spool")
            except DamagedFile as error:  # publish the lab's bytes: ingest rejects them with a receipt and a reason
                damaged, bgzf = str(error), vcf
            result = build_result(meta, bgzf, options["reference_url_prefix"])
    except OSError as error:
        fail(Exit.UNREADABLE_FILE, f"cannot read {vcf}: {error.strerror or error}. Check the path and that this "
             "user may read it.")
    except ValueError as error:
        fail(Exit.INVALID_METADATA, f"the result is not valid: {error}")
    if damaged:
        console.print(f"[yellow]warning:[/yellow] {damaged}. It is published as it is, so ingest records the "
                      "rejection and its reason; re-export or re-copy the file, then publish it again.")
    status = asyncio.run(_publish(settings, result, options["wait"], options["timeout"]))
    sys.exit(Exit.DAMAGED_FILE if damaged and status == Exit.PUBLISHED else status)


def _lab_measures(vcf: Path, options: dict) -> None:
    """Fill purity, MSI and TMB from a PURPLE purity file (given, or beside the VCF) where no option gave them."""
    path = options["purple_purity"] or purity_file_beside(vcf)
    if path is None:
        return
    try:
        summary = purity_summary(path)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        fail(Exit.INVALID_METADATA, f"cannot use {path.name}: {error}")
    for option, key in (("tumour_content", "tumour_cell_content"), ("msi", "msi_status"), ("tmb", "tmb")):
        if options[option] is None and key in summary:
            options[option] = summary[key]
    console.print(f"read {', '.join(f'{k} {v}' for k, v in summary.items())} from {path.name}")


def fail(status: Exit, message: str) -> NoReturn:
    """Say what went wrong and what to do, and exit with the status of its class."""
    console.print(f"[red]error:[/red] {message}")
    sys.exit(status)


async def _publish(settings: Settings, result, wait: bool, timeout: float) -> int:
    watcher = ReceiptWatcher(settings, result.lab_id) if wait else None
    try:
        if watcher:
            await watcher.start()
        with console.status(f"publishing result {result.result_id} ({result.vcf.kind} VCF)"):
            await publish(settings, [result])
        console.print(f"published result [bold]{result.result_id}[/bold] version {result.result_version}")
        if not watcher:
            return 0
        with console.status("waiting for the receipt"):
            receipt = await watcher.wait_for(result.result_id, result.result_version, timeout)
    except TimeoutError:
        console.print(f"[red]no receipt within {timeout:.0f} s[/red]: is the ingest service running? The result "
                      "was published; `--wait` again later shows nothing new, ask the operator.")
        return Exit.NO_RECEIPT
    except (OSError, KafkaError) as error:
        console.print(f"[red]cannot reach Kafka at {settings.kafka_bootstrap}[/red] ({type(error).__name__}): "
                      "nothing was published. Check ONCORELAY_KAFKA_BOOTSTRAP, the network and the broker, then "
                      "publish again.")
        return Exit.KAFKA_UNREACHABLE
    finally:
        if watcher:
            await watcher.stop()
    print(receipt.model_dump_json(indent=2))
    return Exit.PUBLISHED if receipt.status == "accepted" else Exit.REJECTED


@main.command("watch")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--interval", type=float, default=2.0, show_default=True, help="Seconds between scans.")
@click.option("--once", is_flag=True, help="Handle what is in the folder now, then exit.")
@click.option("--timeout", type=float, default=120.0, show_default=True, help="Seconds to wait for each receipt.")
def watch_command(folder: Path, interval: float, once: bool, timeout: float) -> None:
    """Publish every VCF dropped into FOLDER with a sidecar X.json; move it to done/ or rejected/."""
    handled = asyncio.run(watch_folder(load_settings(), folder, interval, once, timeout, console.print))
    console.print(f"{handled} file(s) handled")


main.add_command(kb_group)
main.add_command(rules_group)
main.add_command(case_group)
main.add_command(case_group, "cases")
main.add_command(labs_group)
main.add_command(results_group)
main.add_command(evaluate_command)
for command in cli_notify.COMMANDS:
    main.add_command(command)

if __name__ == "__main__":
    main()
