"""Starting, following and stopping runs: ``sync``, ``push``, ``status``, ``cancel``."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
from flask.cli import AppGroup

from flask_pco.cli.common import NeedsApproval, RecordsLeft, one_line_errors, positive_limit
from flask_pco.cli.plan import check_preview_options, show_plan
from flask_pco.cli.progress import live_view, watch
from flask_pco.jobs.outage import redis_problem
from flask_pco.jobs.run_status import (
    cancel_run,
    current_run,
    elapsed_seconds,
    progress_line,
    recent_runs,
    summary_line,
)
from flask_pco.jobs.schedule import get_schedule
from flask_pco.models import Direction
from flask_pco.state import current_pco
from flask_pco.sync.approvals import waiting_runs
from flask_pco.sync.webhooks.repair import webhook_warning

if TYPE_CHECKING:
    from flask_pco.jobs.queue import Mode

commands = AppGroup("pco")

_SYNC_OPTIONS = [
    click.option("--dry-run", is_flag=True, help="Report what would change; write nothing."),
    click.option(
        "--show",
        default=20,
        show_default=True,
        type=click.IntRange(min=0),
        help="With --dry-run: how many of the planned changes to print as diffs.",
    ),
    click.option(
        "--plan",
        "plan_path",
        type=click.Path(dir_okay=False, writable=True),
        help="With --dry-run: write every planned change to this file as JSON.",
    ),
    click.option(
        "--enqueue",
        is_flag=True,
        help="Hand the run to the RQ workers (needs PCO_REDIS_URL) instead of running it here.",
    ),
]


def sync_options(function: Any) -> Any:
    for option in reversed(_SYNC_OPTIONS):
        function = option(function)
    return function


@commands.command("sync")
@click.argument("sync_type", metavar="TYPE")
@click.option(
    "--incremental", is_flag=True, help="Only records changed in PCO since the last full run."
)
@click.option(
    "--list",
    "list_ids",
    multiple=True,
    metavar="ID",
    help="With `sync people`: only the people on this PCO list (its id); repeat for several.",
)
@click.option(
    "--group",
    "group_id",
    metavar="ID",
    help="With `sync groups`: only this PCO group (its id) and its members.",
)
@sync_options
def sync_command(
    sync_type: str,
    incremental: bool,
    list_ids: tuple[str, ...],
    group_id: str | None,
    dry_run: bool,
    enqueue: bool,
    **preview: Any,
) -> None:
    """Pull from PCO: TYPE is campuses, people, families, groups, events, locations or full."""
    options: dict[str, Any] = {}
    if list_ids:
        options["list_ids"] = list(list_ids)
    if group_id is not None:
        options["group_id"] = group_id
    _run(
        "pull",
        sync_type,
        enqueue,
        preview,
        incremental=incremental,
        dry_run=dry_run,
        options=options,
    )


@commands.command("push")
@click.argument("sync_type", metavar="TYPE")
@sync_options
def push_command(sync_type: str, dry_run: bool, enqueue: bool, **preview: Any) -> None:
    """Push local changes to PCO: TYPE is people, families, group-memberships or full."""
    _run("push", sync_type, enqueue, preview, dry_run=dry_run)


def _run(
    direction: Direction, sync_type: str, enqueue: bool, preview: dict[str, Any], **kwargs: Any
) -> None:
    # The queue loads the sync engine and the PCO client: `flask pco status` has no use for them.
    from flask_pco.jobs.queue import start_sync

    def start(mode: Mode) -> Any:
        return start_sync(direction, sync_type, trigger="cli", mode=mode, **kwargs)

    run_and_report(start, enqueue, preview, kwargs["dry_run"])


def run_and_report(
    start: Callable[[Mode], Any], enqueue: bool, preview: dict[str, Any], dry_run: bool
) -> None:
    """Start a run with ``start(mode)``, follow it, print its summary (a dry run's plan
    too), and exit as ``exit_for`` says; with ``enqueue``, only say it was queued."""
    check_preview_options(dry_run, enqueue, preview["plan_path"])
    with one_line_errors():
        if not enqueue:
            current_pco().client()  # missing credentials: say so before a run row exists
            # This process ends with the run: leave the loaded app out of the collector's full
            # passes, as the work horse does (AppWorker.main_work_horse); ~5 s of a 50,000
            # people pull on PostgreSQL went on re-reading it.
            gc.freeze()
        run = start("enqueue" if enqueue else "thread")
    if enqueue:
        what = f"{run.direction} {run.sync_type}"
        click.echo(f"queued run {run.id} ({what}) as RQ job {run.job_id}")
        click.echo("follow it with `flask pco status`")
        return
    run = watch(run.id)
    click.echo(summary_line(run))
    if run.dry_run and run.status == "succeeded":
        show_plan(run.id, preview["show"], preview["plan_path"])
    exit_for(run)


def exit_for(run: Any) -> None:
    """Exit 0 only when every record went through: a failed run is 1, one waiting for approval
    3 (whatever else it left), one that left records failed or held 4. Skipped records are
    ones a sync leaves on purpose (a person without a name) and do not change the code."""
    if run.status == "needs_approval":
        raise NeedsApproval(
            f"run {run.id} waits for approval: {run.error_message}; see `flask pco status`, "
            f"then `flask pco approve {run.id}` (or --refuse)"
        )
    if run.status != "succeeded":
        raise click.ClickException(f"run {run.id} {run.status}: {run.error_message or ''}".strip())
    left = run.failed + run.held
    if left:
        raise RecordsLeft(
            f"run {run.id} finished, but left {left} record{'s' if left != 1 else ''}: "
            f"{run.failed} failed, {run.held} held; `flask pco issues` says which and why"
        )


@commands.command("status")
@click.option(
    "--limit", default=20, show_default=True, help="How many recent runs to list.", type=int
)
def status_command(limit: int) -> None:
    """Show the sync in progress and the latest runs."""
    positive_limit(limit)
    current = current_run()
    if current is None:
        click.echo("no sync is running")
    else:
        _describe_current(current)
    _describe_waiting()
    click.echo(get_schedule().describe())
    warning = webhook_warning(current_pco())
    if warning is not None:
        click.echo(f"warning: {warning.text}")
    runs = recent_runs(limit)
    if runs:
        click.echo()
        click.echo(_table(runs))
    problem = redis_problem(current_pco())
    if problem:  # what the database says is shown; a monitor still learns that work waits
        raise click.ClickException(problem)


def _describe_current(current: Any) -> None:
    beat = current.heartbeat_at.isoformat(" ", "seconds") if current.heartbeat_at else "none"
    click.echo(f"run {current.id} {current.status}: {progress_line(current)}")
    view = live_view(current)
    if view.progress_total:
        step = f" ({view.current_step})" if view.current_step else ""
        click.echo(f"progress: {view.progress_done:,} of {view.progress_total:,} records{step}")
    click.echo(f"last heartbeat (UTC): {beat}")
    if current.runner_host:
        job = f", RQ job {current.job_id}" if current.job_id else ""
        who = "run by" if current.status == "running" else "queued by"
        click.echo(f"{who}: {current.runner_host}, pid {current.runner_pid}{job}")


def _describe_waiting() -> None:
    for waiting in waiting_runs(current_pco(), sample=5):
        click.echo(f"run {waiting.run.id} waits for approval: {waiting.run.error_message}")
        for removal in waiting.sample:
            click.echo(f"  {removal.action} {removal.label}: {removal.reason}")
        if waiting.count > len(waiting.sample):
            click.echo(f"  ... and {waiting.count - len(waiting.sample)} more")
        click.echo(f"  `flask pco approve {waiting.run.id}` makes them, `--refuse` makes none")


_COLUMNS: tuple[tuple[str, Callable[[Any], str]], ...] = (
    ("ID", lambda r: str(r.id)),
    ("QUEUED (UTC)", lambda r: r.queued_at.isoformat(" ", "minutes") if r.queued_at else ""),
    ("SYNC", lambda r: f"{r.direction} {r.sync_type}{' (dry)' if r.dry_run else ''}"),
    ("STATUS", lambda r: r.status),
    ("BY", lambda r: r.trigger),
    ("CREATED", lambda r: str(r.created)),
    ("UPDATED", lambda r: str(r.updated)),
    ("REMOVED", lambda r: str(r.removed)),
    ("SKIPPED", lambda r: str(r.skipped)),
    ("HELD", lambda r: str(r.held)),
    ("FAILED", lambda r: str(r.failed)),
    ("REQUESTS", lambda r: str(r.requests_used)),
    ("SECONDS", lambda r: f"{elapsed_seconds(r):.0f}"),
    ("MESSAGE", lambda r: (r.error_message or "")[:60]),
)


def _table(runs: list[Any]) -> str:
    rows = [[header for header, _ in _COLUMNS]]
    rows += [[cell(run) for _, cell in _COLUMNS] for run in runs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


@commands.command("cancel")
@click.argument("run_id", type=int, required=False)
def cancel_command(run_id: int | None) -> None:
    """Cancel RUN_ID (default: the sync in progress); it stops at its next batch boundary."""
    if not cancel_run(run_id):
        if run_id is None:
            raise click.ClickException("no sync is queued or running")
        raise click.ClickException(f"run {run_id} is not queued or running")
    click.echo(f"cancel requested for {'the current run' if run_id is None else f'run {run_id}'}")
    problem = redis_problem(current_pco())
    if problem:  # the run is cancelled in the database; a worker skips its job when it runs
        click.echo(f"note: {problem}", err=True)
