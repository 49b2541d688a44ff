"""Operator commands for clinician notifications: MTB teams and their tokens, subscriptions, alerts.

They talk to MongoDB directly (ONCORELAY_MONGO_URI), so run them where the services run.
Register with: `for command in cli_notify.COMMANDS: main.add_command(command)`.
"""

import asyncio
import json
from datetime import date, datetime

import click

from services.common.mongo import connect, database
from services.common.netguard import AddressPolicy
from services.common.settings import load_settings
from services.notify.adapters import alert_store, team_directory
from services.notify.adapters.webhook import destination_problem
from services.notify.domain.fhir import case_bundle
from services.notify.domain.mailbox import addr_spec_problem
from services.notify.domain.routing import Channel, Team, public_subscription
from services.notify.domain.summary import case_summary
from services.notify.domain.tokens import SCOPES
from services.notify.handlers import subscriptions as subscription_service


def _print(data) -> None:
    click.echo(json.dumps(data, indent=2, default=lambda v: v.isoformat() if isinstance(v, datetime | date) else str(v)))


def _run(work):
    """Run `work(db)` against the configured database and return its result."""

    async def main():
        settings = load_settings()
        client = connect(settings)
        try:
            return await work(database(client, settings))
        finally:
            await client.close()

    return asyncio.run(main())


def _webhook_policy() -> AddressPolicy:
    return AddressPolicy.parse(load_settings().webhook_allowed_networks)


def _contact(spec: str, secret: str | None) -> Channel:
    kind, _, target = spec.partition(":")
    if kind == "email":
        if problem := addr_spec_problem(target):
            raise click.BadParameter(f"{spec!r}: {problem}", param_hint="--escalate")
        return Channel(kind="email", to=(target,))
    if kind == "webhook" and target.startswith(("http://", "https://")):
        if not secret:
            raise click.BadParameter("a webhook contact needs --escalate-secret", param_hint="--escalate")
        channel = Channel(kind="webhook", url=target, secret=secret)
        if problem := asyncio.run(destination_problem(channel, _webhook_policy())):
            raise click.BadParameter(f"{spec!r}: {problem} (an operator may allow a network with "
                                     "ONCORELAY_WEBHOOK_ALLOWED_NETWORKS)", param_hint="--escalate")
        return channel
    raise click.BadParameter(f"{spec!r}: use email:ADDRESS or webhook:URL", param_hint="--escalate")


@click.group("teams")
def teams() -> None:
    """MTB teams: which hospitals each serves, escalation contacts, API tokens."""


@teams.command("create")
@click.argument("team_id")
@click.option("--site", "sites", multiple=True, required=True, help="Hospital id the team serves (repeatable).")
@click.option("--name", default="", help="Readable team name.")
@click.option("--escalate", "contacts", multiple=True,
              help="Escalation contact in order, email:ADDRESS or webhook:URL (repeatable).")
@click.option("--escalate-secret", help="Signing secret for webhook escalation contacts.")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES), help="Scopes of the first token "
              "[default: all].")
def create_team(team_id: str, sites, name: str, contacts, escalate_secret, scopes) -> None:
    """Create (or update) a team and print a new API token once; only its hash is stored."""
    team = Team(team_id=team_id, site_ids=frozenset(sites), name=name,
                escalation_contacts=tuple(_contact(c, escalate_secret) for c in contacts))

    async def work(db):
        await team_directory.save_team(db, team)
        return await team_directory.issue_token(db, team_id, list(scopes or SCOPES), "created with the team")

    token = _run(work)
    _print({"team_id": team_id, "site_ids": sorted(sites), "scopes": sorted(scopes or SCOPES), "token": token})
    click.echo("Keep the token now: it cannot be shown again.", err=True)


@teams.command("token")
@click.argument("team_id")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES), required=True)
@click.option("--label", default="", help="What the token is for.")
@click.option("--member", help="The team member this personal token belongs to (as shown on decisions). Drafting "
              "and signing off a decision (four eyes) needs a personal token.")
@click.option("--revoke-others", is_flag=True, help="Revoke the team's existing tokens first.")
def new_token(team_id: str, scopes, label: str, member: str | None, revoke_others: bool) -> None:
    """Issue another token for a team: read-only for a dashboard, or a member's personal token."""
    if member is not None and not (1 <= len(member.strip()) <= 120 and member.isprintable()):
        raise click.BadParameter("a member's name: 1 to 120 printable characters", param_hint="--member")

    async def work(db):
        if await team_directory.get_team(db, team_id) is None:
            raise click.ClickException(f"no team {team_id}")
        if revoke_others:
            await team_directory.revoke_tokens(db, team_id)
        return await team_directory.issue_token(db, team_id, list(scopes), label, member and member.strip())

    _print({"team_id": team_id, "scopes": sorted(scopes), "member": member and member.strip(), "token": _run(work)})


@teams.command("list")
def list_teams() -> None:
    """Every team with its sites and escalation contacts (no secrets)."""

    async def work(db):
        return [{"team_id": d["_id"], "name": d.get("name"), "site_ids": d.get("site_ids"),
                 "escalation_contacts": [{k: v for k, v in c.items() if k != "secret"}
                                         for c in d.get("escalation_contacts") or []]}
                async for d in db.teams.find().sort("_id", 1)]

    _print(_run(work))


@click.group("subscriptions")
def subscriptions() -> None:
    """Which alerts each team receives, and on which channel."""


@subscriptions.command("add")
@click.option("--team", "team_id", required=True)
@click.option("--site", "sites", multiple=True, help="Hospital id [default: every site the team serves].")
@click.option("--tumor-type", "tumor_types", multiple=True, help="OncoTree code; an ancestor (NSCLC) covers "
              "its descendants when ONCORELAY_ONCOTREE_FILE is set [default: all].")
@click.option("--priority", "priorities", multiple=True, type=click.Choice(["urgent", "routine", "info"]),
              help="[default: all]")
@click.option("--webhook", help="Deliver as a signed JSON POST to this URL.")
@click.option("--secret", help="The webhook's signing secret (at least 16 characters).")
@click.option("--fhir", is_flag=True, help="Webhook body as a FHIR Subscriptions notification Bundle.")
@click.option("--email", "emails", multiple=True, help="Deliver by e-mail to this address (repeatable).")
@click.option("--stream", is_flag=True, help="Deliver to the team's live stream (SSE).")
def add_subscription(team_id, sites, tumor_types, priorities, webhook, secret, fhir, emails, stream) -> None:
    """Subscribe a team to alerts on one channel."""
    if sum(bool(x) for x in (webhook, emails, stream)) != 1:
        raise click.UsageError("choose exactly one channel: --webhook URL, --email ADDRESS or --stream")
    kind = "webhook" if webhook else "email" if emails else "stream"
    try:
        request = subscription_service.SubscriptionInput(
            site_ids=list(sites), tumor_types=list(tumor_types), priorities=list(priorities),
            channel=subscription_service.ChannelInput(kind=kind, url=webhook, secret=secret, to=list(emails),
                                                      payload="fhir" if fhir else "json"),
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from error

    async def work(db):
        team = await team_directory.get_team(db, team_id)
        if team is None:
            raise click.ClickException(f"no team {team_id}: create it with `oncorelay teams create`")
        return await subscription_service.create(team_directory.MongoTeamDirectory(db), team, request,
                                                lambda channel: destination_problem(channel, _webhook_policy()))

    doc, why = _run(work)
    if why:
        raise click.ClickException(why)
    _print(public_subscription(doc))


@subscriptions.command("list")
@click.option("--team", "team_id", help="Only this team's subscriptions.")
def list_subscriptions(team_id) -> None:
    """Subscriptions with their event counters (secrets are not shown)."""
    docs = _run(lambda db: team_directory.list_subscriptions(db, team_id))
    _print([public_subscription(d) for d in docs])


@subscriptions.command("remove")
@click.argument("subscription_id")
def remove_subscription(subscription_id: str) -> None:
    """Stop a subscription (its delivery history is kept)."""
    if not _run(lambda db: team_directory.remove_subscription(db, subscription_id)):
        raise click.ClickException(f"no active subscription {subscription_id}")
    _print({"subscription_id": subscription_id, "status": "removed"})


@click.group("alerts")
def alerts() -> None:
    """MTB-review alerts and cases, as notify holds them."""


@alerts.command("list")
@click.option("--site", "sites", multiple=True, required=True, help="Hospital id (repeatable).")
@click.option("--status", type=click.Choice(["open", "acknowledged", "decided", "all"]), default="open",
              show_default=True)
def list_alerts(sites, status: str) -> None:
    """Alerts of some hospitals with their review and delivery status."""
    statuses = ["open", "acknowledged", "decided"] if status == "all" else [status]
    docs = _run(lambda db: alert_store.alerts_for_sites(db, list(sites), statuses))
    _print([{k: d.get(k) for k in ("_id", "case_id", "treating_site", "priority", "status", "delivery_status",
                                   "raised_at", "escalation_level")} for d in docs])


@alerts.command("case")
@click.argument("case_id")
@click.option("--fhir", is_flag=True, help="Print the FHIR R4 Bundle (Genomics Reporting IG) instead.")
def show_case(case_id: str, fhir: bool) -> None:
    """A case's summary (findings, history, turnaround) or its FHIR export."""
    docs = _run(lambda db: alert_store.case_documents(db, case_id))
    if not docs["case"] and not docs["alerts"]:
        raise click.ClickException(f"no case {case_id}")
    _print(case_bundle(docs) if fhir else case_summary(docs))


COMMANDS = (teams, subscriptions, alerts)


@click.group()
def main() -> None:
    """Notification commands (until they are registered in `oncorelay`)."""


for _command in COMMANDS:
    main.add_command(_command)

if __name__ == "__main__":
    main()
