"""`oncorelay results`: a lab's results and receipts as ingest answered them (from the database, where the
operator runs the services; the lab-facing HTTP door that will serve the same to labs is not built yet)."""

import json

import click
from rich.console import Console
from rich.table import Table

from oncorelay.cli_clinical import run_with_db
from services.ingest.adapters.result_store import MongoResultStore


@click.group("results")
def results_group() -> None:
    """A lab's results: receipts, statuses and rejection reasons."""


@results_group.command("list")
@click.option("--lab", "lab_id", required=True, help="The lab whose results to list.")
@click.option("--status", type=click.Choice(["accepted", "rejected"]), help="Only these.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the receipts as JSON.")
def list_command(lab_id: str, status: str | None, limit: int, as_json: bool) -> None:
    """The lab's latest receipts, newest first, with the reasons of every rejection."""
    receipts = run_with_db(lambda db: MongoResultStore(db).receipts(lab_id, status, limit))
    if as_json:
        click.echo(json.dumps([_public(r) for r in receipts], indent=2, default=str))
        return
    if not receipts:
        raise click.ClickException(f"no {status + ' ' if status else ''}results of {lab_id} (is the lab id right? "
                                   "`oncorelay labs list`)")
    table = Table(title=f"results of {lab_id}")
    for column in ("received", "result", "version", "status", "reasons", "variants"):
        table.add_column(column)
    for r in receipts:
        table.add_row(str(r["received_at"])[:19], r["result_id"], str(r.get("result_version") or "—"), r["status"],
                      "; ".join(f"{x['code']}: {x['message']}" for x in r.get("reasons") or []) or "—",
                      str(r.get("variant_count") if r.get("variant_count") is not None else "—"))
    Console().print(table)


@results_group.command("show")
@click.argument("result_id")
def show_command(result_id: str) -> None:
    """Every receipt of one result (each version, each re-publication), oldest first, as JSON."""
    receipts = run_with_db(lambda db: MongoResultStore(db).receipts_of(result_id))
    if not receipts:
        raise click.ClickException(f"no result {result_id}: `oncorelay results list --lab LAB` lists a lab's results")
    click.echo(json.dumps([_public(r) for r in receipts], indent=2, default=str))


def _public(receipt: dict) -> dict:
    return {k: v for k, v in receipt.items() if k != "_id"}
