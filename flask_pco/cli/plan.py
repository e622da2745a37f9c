"""A dry run's plan on the terminal: ``sync``/``push --dry-run`` print the first changes as
diffs, worded as ``flask pco changes`` words the real run's, and ``--plan PATH`` writes them all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from flask_pco.state import current_pco
from flask_pco.sync.history import change_line
from flask_pco.sync.preview import plan_changes, plan_names, plan_record

if TYPE_CHECKING:
    from flask_pco.state import PcoState

__all__ = ["check_preview_options", "show_plan"]


def check_preview_options(dry_run: bool, enqueue: bool, plan_path: str | None) -> None:
    """Refuse a ``--plan`` that could not be written, before a run starts."""
    if plan_path is None:
        return
    if not dry_run:
        raise click.UsageError("--plan writes a dry run's plan: add --dry-run")
    if enqueue:
        raise click.UsageError(
            "--plan needs the dry run to finish here: drop --enqueue (a queued dry run's plan "
            "shows on the admin page)"
        )


def show_plan(run_id: int, show: int, plan_path: str | None) -> None:
    """Print the first ``show`` planned changes of dry run ``run_id``; write all to the file."""
    state = current_pco()
    plan = plan_changes(state, run_id, limit=show)
    entries = plan.entries
    if plan.total == 0:
        click.echo("no changes planned")
    elif show:
        click.echo(f"planned changes ({plan.total}):")
    names = plan_names(entries)
    for entry in entries:
        click.echo(f"  {change_line(entry, names)}")
    if plan.total > len(entries):
        more = "--plan PATH writes them all" if plan_path is None else f"all in {plan_path}"
        click.echo(f"  ... and {plan.total - len(entries)} more ({more})")
    if plan_path is not None:
        _write_plan(state, run_id, Path(plan_path))


def _write_plan(state: PcoState, run_id: int, path: Path) -> None:
    plan = plan_changes(state, run_id)
    document = {
        "run_id": run_id,
        "direction": plan.run.direction,
        "sync_type": plan.run.sync_type,
        "total": plan.total,
        "changes": [plan_record(entry) for entry in plan.entries],
    }
    with path.open("w", encoding="utf-8") as file:
        json.dump(document, file, ensure_ascii=False, indent=1, default=str)
        file.write("\n")
    click.echo(f"wrote {plan.total} planned changes to {path}")
