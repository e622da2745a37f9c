"""What changed, from the change journal: ``history`` of one person, ``changes`` of one run."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from flask_pco.cli.common import one_line_errors, positive_limit
from flask_pco.state import current_pco
from flask_pco.sync.history import (
    change_line,
    find_person,
    labels,
    person_history,
    run_changes,
    source,
)
from flask_pco.sync.preview import plan_changes, plan_names

commands = AppGroup("pco")


@commands.command("history")
@click.argument("person", metavar="PERSON_ID_OR_EMAIL")
def history_command(person: str) -> None:
    """What changed for one local person (and their emails and phones): when, on which side,
    and by which run or webhook delivery, oldest first."""
    state = current_pco()
    with one_line_errors():
        row = find_person(state, person)
    entries = person_history(state, row)
    names = labels(state, entries)
    if not entries:
        click.echo(f"no changes journaled for local person {row.id}")
    for entry in entries:
        when = entry.created_at.isoformat(" ", "seconds")
        click.echo(f"{when}  {source(entry)}  {change_line(entry, names)}")


@commands.command("changes")
@click.argument("run_id", type=int)
@click.option(
    "--limit", default=500, show_default=True, type=int, help="How many changes to print."
)
def changes_command(run_id: int, limit: int) -> None:
    """The changes run RUN_ID made (a full run: those of its steps), in the order made.

    For a dry run: the changes it planned (what the real run would make)."""
    positive_limit(limit)
    state = current_pco()
    with one_line_errors():
        found = run_changes(state, run_id, limit)
    run = found.run
    entries, total, names = found.entries, found.total, labels(state, found.entries)
    if run.dry_run and run.parent_id is None:  # it journaled nothing: show what it planned
        plan = plan_changes(state, run_id, limit)
        entries, total, names = plan.entries, plan.total, plan_names(plan.entries)
    what = "changes planned (dry run)" if run.dry_run else "changes"
    click.echo(f"run {run.id}: {run.direction} {run.sync_type}, {run.status}; {total} {what}")
    for entry in entries:
        click.echo(change_line(entry, names))
    if total > len(entries):
        click.echo(f"... and {total - len(entries)} more (--limit)")
