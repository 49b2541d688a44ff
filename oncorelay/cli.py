"""The `oncorelay` command: publish lab results, watch a folder, and (for MTB staff and
operators) inspect cases, the knowledge base and triage rules."""

import asyncio
import sys
from datetime import date
from pathlib import Path

import click
from rich.console import Console

from oncorelay import cli_notify
from oncorelay.cli_clinical import case_group, kb_group, rules_group
from oncorelay.cli_evaluate import evaluate_command
from oncorelay.cli_labs import labs_group
from oncorelay.labclient import ReceiptWatcher, ResultMetadata, as_bgzf, build_result, publish
from oncorelay.watch import watch_folder
from services.common.settings import load_settings

console = Console(stderr=True)


@click.group(help=__doc__, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Entry point of the oncorelay command."""


@main.command("publish")
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
@click.option("--wait/--no-wait", default=False, help="Wait for the receipt and print it.")
@click.option("--timeout", type=float, default=120.0, show_default=True, help="Seconds to wait for the receipt.")
def publish_command(vcf: Path, **options) -> None:
    """Publish one VCF as a sequencing result (inline when small, by reference when large)."""
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
    try:
        with console.status(f"preparing {vcf.name}"):
            result = build_result(meta, as_bgzf(vcf, Path.home() / ".cache" / "oncorelay" / "spool"),
                                  options["reference_url_prefix"])
    except ValueError as error:
        raise click.ClickException(f"the result is not valid: {error}") from error
    status = asyncio.run(_publish(result, options["wait"], options["timeout"]))
    sys.exit(status)


async def _publish(result, wait: bool, timeout: float) -> int:
    settings = load_settings()
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
        console.print(f"[red]no receipt within {timeout:.0f} s[/red]: is the ingest service running?")
        return 3
    except OSError as error:
        console.print(f"[red]cannot reach Kafka at {settings.kafka_bootstrap}: {error}[/red]")
        return 2
    finally:
        if watcher:
            await watcher.stop()
    print(receipt.model_dump_json(indent=2))
    return 0 if receipt.status == "accepted" else 1


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
main.add_command(evaluate_command)
for command in cli_notify.COMMANDS:
    main.add_command(command)

if __name__ == "__main__":
    main()
