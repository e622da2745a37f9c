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
    """The changes run RUN_ID made (a full run: those of its steps), in the order made."""
    positive_limit(limit)
    state = current_pco()
    with one_line_errors():
        found = run_changes(state, run_id, limit)
    run = found.run
    click.echo(
        f"run {run.id}: {run.direction} {run.sync_type}, {run.status}; {found.total} changes"
    )
    names = labels(state, found.entries)
    for entry in found.entries:
        click.echo(change_line(entry, names))
    if found.total > len(found.entries):
        click.echo(f"... and {found.total - len(found.entries)} more (--limit)")
