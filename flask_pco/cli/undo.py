"""``flask pco undo``: revert a finished run (or a webhook delivery) from its journal."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup

from flask_pco.cli.runs import run_and_report, sync_options
from flask_pco.jobs.queue import Mode

commands = AppGroup("pco")


@commands.command("undo")
@click.argument("run_id", type=int, required=False)
@click.option(
    "--delivery",
    "delivery_id",
    type=int,
    metavar="ID",
    help="Undo this webhook delivery's changes instead of a run's.",
)
@click.option(
    "--delete-created",
    is_flag=True,
    help="Also delete in PCO the records the run created there (they may have gained data "
    "since; without this they are kept and listed).",
)
@sync_options
def undo_command(
    run_id: int | None,
    delivery_id: int | None,
    delete_created: bool,
    dry_run: bool,
    enqueue: bool,
    **preview: Any,
) -> None:
    """Revert finished run RUN_ID from its journal, as a new run that can be undone in turn."""
    if (run_id is None) == (delivery_id is None):
        raise click.UsageError("give a RUN_ID or --delivery ID (one of them)")
    from flask_pco.jobs.undo import start_undo

    def start(mode: Mode) -> Any:
        return start_undo(
            run_id=run_id,
            delivery_id=delivery_id,
            delete_created=delete_created,
            dry_run=dry_run,
            trigger="cli",
            mode=mode,
        )

    run_and_report(start, enqueue, preview, dry_run)
