"""Running the service: the nightly ``schedule``, the RQ ``worker`` and the ``scheduler``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from flask_pco.cli.common import one_line_errors
from flask_pco.database import check_tables
from flask_pco.jobs.queue import get_schedule, set_schedule, sync_queue
from flask_pco.jobs.workers import NightlyScheduler, run_worker
from flask_pco.state import current_pco

commands = AppGroup("pco")


@commands.command("schedule")
@click.option(
    "--enable/--disable",
    "enabled",
    default=None,
    help="Switch the nightly incremental full pull on or off.",
)
@click.option("--hour", type=int, help="Hour of the nightly sync, 0-23, in PCO_TIME_ZONE.")
def schedule_command(enabled: bool | None, hour: int | None) -> None:
    """Show or set the nightly sync (run by `flask pco scheduler`)."""
    with one_line_errors():
        schedule = (
            get_schedule() if enabled is None and hour is None else set_schedule(enabled, hour)
        )
    click.echo(schedule.describe())
    if schedule.enabled:
        click.echo(f"next run: {schedule.next_run().isoformat(' ', 'minutes')}")
        click.echo(f"note: {schedule.quiet_note}")


@commands.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty instead of waiting.")
@click.option(
    "--simple",
    is_flag=True,
    help=(
        "Run jobs in this process instead of a forked child: saves the fork per job (webhook "
        "bursts already share one per PCO_WEBHOOK_BATCH deliveries), but a crashing job takes "
        "the worker with it."
    ),
)
def worker_command(burst: bool, simple: bool) -> None:
    """Run an RQ worker for flask-pco's jobs inside this app (PCO_REDIS_URL, PCO_QUEUE).

    Run any number, on any machines sharing Redis and the database. On a site of many
    churches each worker serves every church's queue, taking their jobs in turn.
    """
    with one_line_errors():
        check_tables(current_pco())  # a site that did not migrate hears it now, not per job
        # Redis down, at start-up or later: a long-running worker waits for it (one log line
        # per attempt); a --burst worker ends with one line (PcoGroup).
        run_worker(burst=burst, simple=simple)


@commands.command("scheduler")
def scheduler_command() -> None:
    """Run RQ's cron scheduler for the nightly sync set by `flask pco schedule`."""
    with one_line_errors():
        check_tables(current_pco())
        queue = sync_queue()
    scheduler = NightlyScheduler(queue.connection, queue.name)
    scheduler.refresh()
    scheduler.start()  # type: ignore[no-untyped-call]
