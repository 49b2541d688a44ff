"""`oncorelay kb`, `oncorelay rules` and `oncorelay case`: commands for MTB staff and operators."""

import asyncio
import json
import tempfile
from datetime import date
from pathlib import Path

import click
from pymongo import AsyncMongoClient
from pymongo.errors import ServerSelectionTimeoutError
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from contracts.findings import reportable
from services.annotate.adapters import civic_download
from services.annotate.adapters.knowledge_store import MongoKnowledgeStore
from services.annotate.domain import civic
from services.annotate.domain.disease_mapping import SHIPPED_MAPPING, DiseaseMapping
from services.annotate.domain.knowledge import KnowledgeBase
from services.annotate.domain.triage import CaseFacts, RuleSet, replay
from services.annotate.handlers import load_rules
from services.common import packed
from services.common.mongo import connect, database
from services.common.settings import load_settings

console = Console(stderr=True)


def run_with_db(coroutine_function):
    """Run an async command body with a database handle, closing the client afterwards."""

    async def main():
        settings = load_settings()
        client: AsyncMongoClient = connect(settings)
        try:
            return await coroutine_function(database(client, settings))
        except ServerSelectionTimeoutError as error:
            raise click.ClickException(
                "cannot reach MongoDB (ONCORELAY_MONGO_URI); is the stack running? (`make up`)"
            ) from error
        finally:
            await client.close()

    return asyncio.run(main())


@click.group("kb")
def kb_group() -> None:
    """The knowledge base used by annotate (built-in biomarkers + CIViC)."""


@kb_group.command("import-civic")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_civic(directory: Path) -> None:
    """Import a CIViC TSV export (DIRECTORY with *-ClinicalEvidenceSummaries.tsv etc.) and report what changed."""
    _import_release(directory)


@kb_group.command("update")
@click.option("--release", default="nightly", show_default=True,
              help="The CIViC release: nightly, or a monthly one such as 01-Nov-2026.")
def update_civic(release: str) -> None:
    """Download a CIViC release (ONCORELAY_CIVIC_DOWNLOADS_URL, default CIViC's own downloads), check it,
    import it and report what changed. Offline sites copy a release and use `oncorelay kb import-civic DIR`."""
    settings = load_settings()
    saved_as = f"nightly-{date.today().isoformat()}" if release == "nightly" else release
    with tempfile.TemporaryDirectory(prefix="oncorelay-civic-") as tmp:
        with Progress(TextColumn("downloading {task.fields[kind]}"), BarColumn(), DownloadColumn(),
                      TransferSpeedColumn(), console=console, transient=True) as bar:
            task = bar.add_task("download", total=None, kind="")

            def shown(kind: str, done: int, total: int | None) -> None:
                bar.update(task, completed=done, total=total, kind=kind)

            try:
                files = civic_download.download_release(settings.civic_downloads_url, release, Path(tmp),
                                                        settings.civic_download_max_bytes, 120.0, saved_as, shown)
            except civic_download.DownloadFailed as error:
                raise click.ClickException(f"{error} (the knowledge base is unchanged)") from error
        console.print(f"downloaded CIViC {release}: " + ", ".join(f"{f.name} ({f.stat().st_size:,} bytes)" for f in files))
        _import_release(Path(tmp))


def _import_release(directory: Path) -> None:
    with console.status(f"reading CIViC export in {directory}"):
        try:
            imported = civic.import_release(directory, DiseaseMapping.load(SHIPPED_MAPPING))
        except (OSError, UnicodeDecodeError) as error:
            raise click.ClickException(f"cannot read the CIViC export in {directory}: {error}") from error
    for warning in imported.warnings[:10]:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    kb = KnowledgeBase.build(civic_records=imported.records, civic_release=imported.release)

    with Progress(TextColumn("storing CIViC records"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("store", total=None)

        async def store(db):
            before = await MongoKnowledgeStore(db).stored_civic_records()
            await MongoKnowledgeStore(db).save(kb, lambda done, total: bar.update(task, completed=done, total=total))
            return before

        before = run_with_db(store)
    changes = civic.diff(before, imported.records)
    table = Table(title=f"CIViC release {imported.release} -> knowledge base {kb.version}")
    for column in ("record type", "in release", "added", "removed", "changed"):
        table.add_column(column)
    for record_type, count in sorted(imported.counts.items()):
        table.add_row(record_type, str(count), str(changes.added.get(record_type, 0)),
                      str(changes.removed.get(record_type, 0)), str(changes.changed.get(record_type, 0)))
    console.print(table)
    console.print(f"unchanged records: {changes.unchanged}; annotate picks the new version up within 30 s")


@kb_group.command("version")
def kb_version() -> None:
    """Print the knowledge-base version annotate uses."""
    version = run_with_db(lambda db: MongoKnowledgeStore(db).stored_version())
    print(version or KnowledgeBase.build().version)


@click.group("rules")
def rules_group() -> None:
    """The MTB triage rule set."""


@rules_group.command("replay")
@click.argument("new_rules", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
def rules_replay(new_rules: Path, as_json: bool) -> None:
    """Re-run every stored case through NEW_RULES and show which alerts would change."""
    current, candidate = load_rules(load_settings()), RuleSet.load(new_rules)

    async def facts(db):
        return [CaseFacts.model_validate(doc["facts"]) async for doc in db.interpretations.find({}, {"facts": 1})]

    cases = run_with_db(facts)
    changes = replay(cases, current, candidate)
    if as_json:
        print(json.dumps([c.model_dump(mode="json") for c in changes], indent=2))
        return
    table = Table(title=f"rules {current.version} -> {candidate.version}: {len(changes)} of {len(cases)} decisions change")
    for column in ("case", "result", "change"):
        table.add_column(column)
    for change in changes:
        table.add_row(change.case_id, change.result_key or "", change.change)
    console.print(table)


@click.group("case")
def case_group() -> None:
    """Cases as the MTB sees them."""


@case_group.command("show")
@click.argument("case_id")
@click.option("--json", "as_json", is_flag=True, help="Print the full case as JSON.")
def case_show(case_id: str, as_json: bool) -> None:
    """Show a case: findings with tiers, evidence and citations, TMB/MSI, germline flags, trends, triage."""

    async def load(db):
        case = await db.cases.find_one({"_id": case_id})
        if case is None:
            return None
        interpretations = [packed.unpacked(d, "interpretation")
                           async for d in db.interpretations.find({"case_id": case_id}).sort("annotated_at", 1)]
        alerts = [d async for d in db.alerts.find({"case_id": case_id})]
        return case, interpretations, alerts

    loaded = run_with_db(load)
    if loaded is None:
        raise click.ClickException(f"no case {case_id!r}")
    case, interpretations, alerts = loaded
    view = case_view(case, interpretations, alerts)
    if as_json:
        print(json.dumps(view, indent=2, default=str))
        return
    _print_case(view)


def case_view(case: dict, interpretations: list[dict], alerts: list[dict]) -> dict:
    """The case as the MTB sees it, built from stored documents (no patient identifiers beyond the pseudonym)."""
    results = []
    for document in interpretations:
        interp = document["interpretation"]
        results.append({
            "result_key": interp["result_key"],
            "specimen": interp["current_specimen"]["specimen_id"],
            "specimen_type": interp["current_specimen"]["type"],
            "collected_on": interp["current_specimen"]["collected_on"],
            "findings": [f for f in interp["signature_findings"] + interp["findings"] if reportable(f)],
            "vus_count": interp["vus_count"],
            "tmb": interp["tmb"],
            "msi_status": interp["msi_status"],
            "qc": interp.get("qc") or {"informative": True, "not_reported": True, "reasons": []},
            "germline_flags": interp["germline_flags"],
            "trends": interp["longitudinal_events"],
            "amendment": interp["amendment"],
            "triage": interp["triage"],
            "kb_version": interp["kb_version"],
            "ruleset_version": interp["ruleset_version"],
        })
    return {
        "case_id": case["_id"],
        "state": case.get("state"),
        "tumor_type": case.get("tumor_type"),
        "treating_site": case.get("treating_site"),
        "patient_pseudonym": case.get("patient_pseudonym"),
        "timeline": case.get("timeline", []),
        "results": results,
        "alerts": [{"alert_id": a["_id"], "priority": a["priority"], "status": a.get("status"),
                    "result_key": a["result_key"], "reasons": a["reasons"]} for a in alerts],
    }


def _tmb_text(tmb: dict) -> str:
    if tmb.get("tmb_per_mb") is None:
        return f"not computable ({tmb.get('not_computable')})"
    return f"{tmb['tmb_per_mb']:g} mut/Mb" + (" (TMB-high)" if tmb.get("tmb_high") else "")


def _qc_text(qc: dict) -> str:
    if qc.get("not_reported"):
        return "QC: not reported by the lab"
    if not qc.get("informative", True):
        return f"[red]QC: NON-INFORMATIVE[/red] - {'; '.join(qc.get('reasons', []))}"
    lod = qc.get("limit_of_detection_vaf")
    return "QC: passed" + (f" (limit of detection {100 * lod:g}%)" if lod else "")


def _print_case(view: dict) -> None:
    out = Console()
    out.rule(f"case {view['case_id']} ({view['tumor_type']}) - {view['state']}")
    for result in view["results"]:
        out.print(f"[bold]{result['result_key']}[/bold] {result['specimen_type']} {result['specimen']} "
                  f"collected {result['collected_on']}; TMB {_tmb_text(result['tmb'])}; "
                  f"MSI {result['msi_status'] or 'not reported'}; {result['vus_count']} VUS")
        out.print(_qc_text(result["qc"]))
        table = Table(show_header=True)
        for column in ("gene", "alteration", "AMP", "ESCAT", "EU", "oncogenicity", "therapies", "citations"):
            table.add_column(column)
        for f in result["findings"]:
            therapies = ", ".join(f["therapies_sensitive"] + [f"{t} (resistance)" for t in f["therapies_resistant"]])
            table.add_row(f["gene"], f["alteration"], f["amp_label"], f.get("escat_tier") or "", f.get("eu_status") or "",
                          f.get("oncogenicity") or "", therapies, "; ".join(f["citations"][:3]))
        out.print(table)
        for flag in result["germline_flags"]:
            out.print(f"[magenta]germline:[/magenta] {flag.get('summary', flag)}")
        for event in result["trends"]:
            out.print(f"[red]trend:[/red] {event['summary']}")
        triage = result["triage"]
        out.print(f"triage: {triage['status']} {triage.get('priority') or ''} (rules {result['ruleset_version']}, "
                  f"kb {result['kb_version']})")
        for reason in triage["reasons"]:
            out.print(f"  - {reason['summary']}")
