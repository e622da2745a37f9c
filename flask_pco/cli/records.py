"""Decisions a run left to a person: ``issues``, ``resolve`` a held match, ``approve`` removals."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup

from flask_pco.cli.common import one_line_errors, positive_limit
from flask_pco.state import current_pco
from flask_pco.sync import holds
from flask_pco.sync.approvals import approve_run, refuse_run
from flask_pco.sync.merges import merge_held
from flask_pco.web.admin_data import held_matches, held_merges, recent_issues

commands = AppGroup("pco")


@commands.command("issues")
@click.option(
    "--limit", default=20, show_default=True, help="How many recent records to list.", type=int
)
def issues_command(limit: int) -> None:
    """List held matches waiting for a decision, then the latest records a sync or webhook
    skipped or could not write, and why."""
    positive_limit(limit)
    state = current_pco()
    held = held_matches(state, limit)
    for issue in held:
        side = "local" if issue.local_id is None else "PCO"
        offered = ", ".join(str(c) for c in issue.candidates or ()) or "none"
        click.echo(f"held: {_issue_line(issue)}")
        click.echo(f"  {side} candidates: {offered}")
        click.echo(f"  settle: `flask pco resolve {issue.id} --link ID` or `--create-new`")
    merges = held_merges(state, limit)
    for issue in merges:
        click.echo(f"held merge: {_issue_line(issue)}")
        click.echo(f"  carry it out: `flask pco merge {issue.id}`")
    issues = recent_issues(state, limit)
    if not issues and not held and not merges:
        click.echo("nothing skipped or held")
    for issue in issues:
        click.echo(_issue_line(issue))


def _issue_line(issue: Any) -> str:
    when = issue.created_at.isoformat(" ", "seconds") if issue.created_at else ""
    run = f"run {issue.run_id}" if issue.run_id else "webhook"
    record = issue.resource_type + (f" #{issue.local_id}" if issue.local_id else "")
    record += f" (PCO {issue.pco_id})" if issue.pco_id else ""
    return f"{when}  {run}  {issue.kind}  {record}: {issue.reason} [issue {issue.id}]"


@commands.command("resolve")
@click.argument("issue_id", type=int)
@click.option("--link", "link_to", metavar="ID", help="Link the held person to this candidate.")
@click.option(
    "--create-new", is_flag=True, help="None of the candidates is this person: create a new one."
)
def resolve_command(issue_id: int, link_to: str | None, create_new: bool) -> None:
    """Settle a held person match (see `flask pco issues`): link a candidate, or create new."""
    if bool(link_to) == create_new:
        raise click.ClickException("give exactly one of --link ID or --create-new")
    with one_line_errors():
        state = current_pco()
        if link_to:
            message = holds.link_held(state, issue_id, link_to)
        else:
            message = holds.create_new(state, issue_id)
    click.echo(message)


@commands.command("merge")
@click.argument("issue_id", type=int)
def merge_command(issue_id: int) -> None:
    """Carry out a merge held for an admin (PCO_AUTO_MERGE off; see `flask pco issues`): the
    site's data moves to the person PCO kept, the other is deactivated and points at them."""
    with one_line_errors():
        message = merge_held(current_pco(), issue_id)
    click.echo(message)


@commands.command("approve")
@click.argument("run_id", type=int)
@click.option("--refuse", is_flag=True, help="Make none of the removals the run holds.")
def approve_command(run_id: int, refuse: bool) -> None:
    """Make the removals RUN_ID holds for approval (or refuse them with --refuse)."""
    with one_line_errors():
        state = current_pco()
        message = refuse_run(state, run_id) if refuse else approve_run(state, run_id)
    click.echo(message)
