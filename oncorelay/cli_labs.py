"""`oncorelay labs` and `oncorelay cases transfer`: operator commands for who may send what.

Labs are closed by default: ingest accepts results only from a registered lab, for the hospitals it
is registered for. They talk to MongoDB directly (ONCORELAY_MONGO_URI), so run them where the
services run.
"""

import getpass
import json
import shlex
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import click
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from contracts import topics
from contracts.registry import Lab
from oncorelay.cli_clinical import case_group, run_with_db
from oncorelay.lab_report import lab_report
from services.common import packed
from services.common.adapters.case_record import MongoCaseRecord
from services.common.kafka_acls import lab_acls
from services.common.labs import find_lab, list_labs, remove_lab, save_lab
from services.ingest.adapters.lab_tokens import MongoLabTokens


def _source(prefix: str) -> str:
    """A reference source as stored: an https:// (or http://) URL prefix with a host, or a file:/// directory."""
    parts = urlsplit(prefix)
    if parts.scheme in ("https", "http") and parts.hostname and not parts.username and not parts.password:
        return prefix if prefix.endswith("/") else prefix + "/"
    if parts.scheme == "file" and not parts.netloc and parts.path.startswith("/"):
        return prefix if prefix.endswith("/") else prefix + "/"
    raise click.BadParameter(f"{prefix!r}: use https://HOST[:PORT]/PATH/ or file:///DIRECTORY/ "
                             "(no user or password in the URL)", param_hint="--reference-source")


@click.group("labs")
def labs_group() -> None:
    """Labs that may publish results, and the hospitals each sends results for."""


@labs_group.command("create")
@click.argument("lab_id")
@click.option("--site", "sites", multiple=True, help="Hospital the lab sends results for (repeatable).")
@click.option("--any-site", is_flag=True, help="A network reference lab: results for every hospital.")
@click.option("--principal", help="The Kafka SASL principal the lab authenticates as [default: User:LAB_ID].")
@click.option("--reference-source", "sources", multiple=True,
              help="URL prefix the lab's by-reference VCFs may be read from, https://HOST/PATH/ or "
                   "file:///DIRECTORY/ (repeatable).")
@click.option("--name", default="", help="Readable lab name.")
def create_lab(lab_id: str, sites, any_site: bool, principal, sources, name: str) -> None:
    """Register a lab (or replace its registration)."""
    if not sites and not any_site:
        raise click.UsageError("name the hospitals with --site HOSPITAL (repeatable), or use --any-site")
    try:
        lab = Lab(lab_id=lab_id, site_ids=sorted(set(sites)), any_site=any_site, kafka_principal=principal,
                  reference_sources=[_source(s) for s in sources], name=name)
    except ValidationError as error:
        raise click.BadParameter(error.errors()[0]["msg"], param_hint="LAB_ID") from error
    run_with_db(lambda db: save_lab(db, lab))
    click.echo(json.dumps(lab.model_dump(), indent=2))


@labs_group.command("list")
def list_command() -> None:
    """Every registered lab with its hospitals, principal and reference sources."""
    click.echo(json.dumps([lab.model_dump() for lab in run_with_db(list_labs)], indent=2))


@labs_group.command("token")
@click.argument("lab_id")
@click.option("--label", default="", help="What the token is for (e.g. the pipeline host).")
def token_command(lab_id: str, label: str) -> None:
    """Issue an API token for a lab's HTTP publishing (printed once; only its hash is stored)."""

    async def issue(db):
        if await find_lab(db, lab_id) is None:
            raise click.ClickException(f"no registered lab {lab_id}; `oncorelay labs create` first")
        return await MongoLabTokens(db).issue(lab_id, label)

    click.echo(json.dumps({"lab_id": lab_id, "token": run_with_db(issue)}))
    click.echo("Keep the token now: it cannot be shown again.", err=True)


@labs_group.command("report")
@click.argument("lab_id")
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True, help="The period looked at.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
def report_command(lab_id: str, days: int, as_json: bool) -> None:
    """A lab's results per assay: accepted, rejected and why, variants per result, median TMB and allele
    fraction, tumour content, non-informative share (what the drift alerts watch)."""

    async def gather(db):
        since = datetime.now(UTC) - timedelta(days=days)
        results = [d async for d in db.results.find({"lab_id": lab_id, "status": "accepted", "ingested_at": {"$gte": since}},
                                                     {"result_id": 1, "result_version": 1, "assay": 1, "variant_count": 1,
                                                      "qc": 1})]
        rejections = [d["detail"] async for d in db.audit.find({"action": "result_rejected", "detail.lab_id": lab_id,
                                                                 "at": {"$gte": since}})]
        keys = [f"{r['result_id']}@{r['result_version']}" for r in results]
        interpretations = {d["_id"]: packed.unpack(d["interpretation"], d["encoding"])
                           async for d in db.interpretations.find({"_id": {"$in": keys}})} if keys else {}
        return lab_report(results, rejections, interpretations)

    rows = run_with_db(gather)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        raise click.ClickException(f"no results of {lab_id} in the last {days} days (is the lab id right? "
                                   "`oncorelay labs list`)")
    table = Table(title=f"{lab_id}, last {days} days")
    for column in ("assay", "accepted", "rejected", "rate", "top reasons", "variants/result", "median TMB (/Mb)",
                   "median VAF", "tumour content", "non-informative"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["assay"], str(row["accepted"]), str(row["rejected"]), _shown(row["rejection_rate"]),
                      ", ".join(f"{code} ×{n}" for code, n in row["top_reasons"]) or "—",
                      _shown(row["median_variants"]), _shown(row["median_tmb_per_mb"]), _shown(row["median_vaf"]),
                      _shown(row["median_tumour_content"]), _shown(row["non_informative_share"]))
    Console().print(table)


def _shown(value) -> str:
    return "—" if value is None else f"{value:g}"


@labs_group.command("remove")
@click.argument("lab_id")
def remove_command(lab_id: str) -> None:
    """Unregister a lab: its further results are refused (its stored results stay)."""
    if not run_with_db(lambda db: remove_lab(db, lab_id)):
        raise click.ClickException(f"no registered lab {lab_id}; `oncorelay labs list` shows the registered ones")
    click.echo(json.dumps({"lab_id": lab_id, "status": "removed"}))


@labs_group.command("acls")
@click.argument("lab_id")
@click.option("--bootstrap-server", default="$BOOTSTRAP", show_default=True, help="The broker, as kafka-acls.sh takes it.")
@click.option("--command-config", default="admin.properties", show_default=True,
              help="The admin client's properties file (SASL credentials of an operator).")
def acls_command(lab_id: str, bootstrap_server: str, command_config: str) -> None:
    """Print the kafka-acls.sh commands that give a lab its own topics (see ONCORELAY_LAB_TOPICS)."""
    lab = run_with_db(lambda db: find_lab(db, lab_id))
    if lab is None:
        raise click.ClickException(f"no registered lab {lab_id}; register it first (`oncorelay labs create`)")
    if not topics.LAB_TOPIC_ID.fullmatch(lab_id):
        raise click.ClickException(f"{lab_id!r} cannot name a Kafka topic, so it cannot have topics of its own")
    prefix = f"kafka-acls.sh --bootstrap-server {shlex.quote(bootstrap_server)} --command-config {shlex.quote(command_config)}"
    for arguments in lab_acls(lab):
        click.echo(f"{prefix} {shlex.join(arguments)}")


@case_group.command("transfer")
@click.argument("case_id")
@click.option("--to", "site_id", required=True, help="The hospital that treats the patient from now on.")
@click.option("--note", default="", help="Why (kept in the audit trail).")
def transfer_command(case_id: str, site_id: str, note: str) -> None:
    """Move a case (and its alerts) to another treating hospital, audited."""
    actor = f"operator:{getpass.getuser()}"
    previous = run_with_db(lambda db: MongoCaseRecord(db).transfer(case_id, site_id, actor, note))
    if previous is None:
        raise click.ClickException(f"no case {case_id}")
    click.echo(json.dumps({"case_id": case_id, "from_site": previous, "to_site": site_id}))
