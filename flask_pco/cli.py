"""``flask pco ...``: a thin Click skin over ``sync/`` and ``jobs``.

Every failure a user can fix (bad arguments, missing configuration, PCO refusing the
credentials, a sync already running) ends as one line and exit code 1.
"""

from __future__ import annotations

import gc
import importlib
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

import click
from flask.cli import AppGroup
from sqlalchemy.exc import DBAPIError

from flask_pco.exceptions import PcoError
from flask_pco.jobs.run_status import counts_text, elapsed_seconds, progress_line, summary_line

if TYPE_CHECKING:
    from flask_pco.jobs.queue import Mode
    from flask_pco.models import Direction

__all__ = ["pco_cli"]

#: Commands that live in optional parts of the package, imported only when used.
LAZY_COMMANDS = {"sandbox": ("flask_pco.sandbox.cli", "sandbox_command")}
#: Seconds between two looks at the run row while a sync runs in this process.
POLL_SECONDS = 0.5


class PcoGroup(AppGroup):
    """The ``flask pco`` group; commands of optional parts load on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        lazy = [name for name in LAZY_COMMANDS if _lazy_command(name) is not None]
        return sorted({*super().list_commands(ctx), *lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or _lazy_command(name)

    def invoke(self, ctx: click.Context) -> Any:
        """Any command's flask-pco or database failure ends as one line, not a traceback."""
        try:
            return super().invoke(ctx)
        except DBAPIError as error:
            raise click.ClickException(_database_problem(error)) from None
        except PcoError as error:
            raise click.ClickException(_first_line(error)) from None


def _database_problem(error: DBAPIError) -> str:
    from flask_pco.database import describe_database_error
    from flask_pco.state import current_pco

    try:
        url: Any = current_pco().db.engine.url
    except Exception:  # the message still says what failed, only not where
        url = None
    return describe_database_error(error, url)


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _lazy_command(name: str) -> click.Command | None:
    if name not in LAZY_COMMANDS:
        return None
    module, attribute = LAZY_COMMANDS[name]
    try:
        command: click.Command = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError):
        return None
    return command


pco_cli = PcoGroup("pco", help="Sync this site with Planning Center Online.")


class NeedsApproval(click.ClickException):
    """The run ended, but its removals wait for an admin: exit code 3, so a cron job can tell."""

    exit_code = 3


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except PcoError as error:
        raise click.ClickException(str(error).splitlines()[0] if str(error) else "failed") from None


_SYNC_OPTIONS = [
    click.option("--dry-run", is_flag=True, help="Report what would change; write nothing."),
    click.option(
        "--enqueue",
        is_flag=True,
        help="Hand the run to the RQ workers (needs PCO_REDIS_URL) instead of running it here.",
    ),
]


def _sync_options(function: Any) -> Any:
    for option in reversed(_SYNC_OPTIONS):
        function = option(function)
    return function


@pco_cli.command("sync")
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
@_sync_options
def sync_command(
    sync_type: str,
    incremental: bool,
    list_ids: tuple[str, ...],
    group_id: str | None,
    dry_run: bool,
    enqueue: bool,
) -> None:
    """Pull from PCO: TYPE is people, families, groups, events, locations or full."""
    options: dict[str, Any] = {}
    if list_ids:
        options["list_ids"] = list(list_ids)
    if group_id is not None:
        options["group_id"] = group_id
    _run("pull", sync_type, enqueue, incremental=incremental, dry_run=dry_run, options=options)


@pco_cli.command("push")
@click.argument("sync_type", metavar="TYPE")
@_sync_options
def push_command(sync_type: str, dry_run: bool, enqueue: bool) -> None:
    """Push local changes to PCO: TYPE is people, families, group-memberships or full."""
    _run("push", sync_type, enqueue, dry_run=dry_run)


def _run(direction: Direction, sync_type: str, enqueue: bool, **kwargs: Any) -> None:
    from flask_pco.jobs.queue import start_sync
    from flask_pco.state import current_pco

    with _one_line_errors():
        if not enqueue:
            current_pco().client()  # missing credentials: say so before a run row exists
            # This process ends with the run: leave the loaded app out of the collector's full
            # passes, as the work horse does (AppWorker.main_work_horse); ~5 s of a 50,000
            # people pull on PostgreSQL went on re-reading it.
            gc.freeze()
        mode: Mode = "enqueue" if enqueue else "thread"
        run = start_sync(direction, sync_type, trigger="cli", mode=mode, **kwargs)
    if enqueue:
        click.echo(f"queued run {run.id} ({direction} {sync_type}) as RQ job {run.job_id}")
        click.echo("follow it with `flask pco status`")
        return
    run = _watch(run.id)
    click.echo(summary_line(run))
    if run.status == "needs_approval":
        raise NeedsApproval(
            f"run {run.id} waits for approval: {run.error_message}; see `flask pco status`, "
            f"then `flask pco approve {run.id}` (or --refuse)"
        )
    if run.status != "succeeded":
        raise click.ClickException(f"run {run.id} {run.status}: {run.error_message or ''}".strip())


def _watch(run_id: int) -> Any:
    """Wait for a run of this process to end, with a progress bar per step on a terminal.

    Ctrl-C asks the run to stop at its next batch boundary, then keeps waiting for it.
    """
    from flask_pco.jobs.queue import cancel_run

    bars = _StepBars() if sys.stdout.isatty() else None
    while True:
        try:
            run = _fresh_run(run_id)
            while run.status in ("queued", "running"):
                if bars is not None:
                    bars.show(_live_view(run))
                time.sleep(POLL_SECONDS)
                run = _fresh_run(run_id)
        except KeyboardInterrupt:
            cancel_run(run_id)
            click.echo("\ncancelling: the run stops at its next batch boundary", err=True)
            continue
        if bars is not None:
            bars.finish(_live_view(run))
        return run


def _live_view(run: Any) -> Any:
    from flask_pco.state import current_pco
    from flask_pco.web.admin_data import run_view

    return run_view(current_pco(), run)


class _StepBars:
    """A click progress bar for each step of the watched run, sized by the records PCO (or the
    push's work list) says the step will go through; a status line while that is not known."""

    def __init__(self) -> None:
        self._drawing = ExitStack()
        self._bar: Any = None
        self._step: str | None = None
        self._status_line = False

    def show(self, view: Any) -> None:
        step = view.current_step or view.sync_type
        if step != self._step:
            self._close(completed=True)  # the run went on, so the step before it ended
            self._step = step
        if not view.progress_total:
            click.echo("\r\033[K" + progress_line(view), nl=False)
            self._status_line = True
            return
        if self._bar is None:
            if self._status_line:
                click.echo("\r\033[K", nl=False)
            label = f"{view.direction} {view.sync_type}"
            self._bar = self._drawing.enter_context(
                click.progressbar(
                    length=view.progress_total,
                    label=label if step == view.sync_type else f"{label} [{step}]",
                    show_pos=True,
                    item_show_func=lambda counts: counts,
                )
            )
        if view.progress_total > (self._bar.length or 0):  # a later listing of the same step
            self._bar.length = view.progress_total
            self._bar.finished = False
        counts = counts_text(view)
        self._bar.update(max(view.progress_done - self._bar.pos, 0), current_item=counts)

    def finish(self, view: Any) -> None:
        """The run ended: a run that succeeded went through all of its last step."""
        if self._bar is None and view.status == "succeeded" and view.progress_total:
            self.show(view)  # a run quicker than a look still ends on its full bar
        if self._bar is not None and view.status == "succeeded":
            left = max((self._bar.length or 0) - self._bar.pos, 0)
            self._bar.update(left, current_item=counts_text(view))
        self._close(completed=False)
        click.echo("\r\033[K", nl=False)

    def _close(self, *, completed: bool) -> None:
        if self._bar is None:
            return
        if completed:
            self._bar.update(max((self._bar.length or 0) - self._bar.pos, 0))
        self._drawing.close()  # the bar's last line, and the cursor back
        self._bar = None


def _fresh_run(run_id: int) -> Any:
    from flask_pco.state import current_pco

    state = current_pco()
    state.db.session.rollback()  # end the read, so the next look sees the worker's commits
    return state.db.session.get(state.models.SyncRun, run_id)


@pco_cli.command("status")
@click.option(
    "--limit", default=20, show_default=True, help="How many recent runs to list.", type=int
)
def status_command(limit: int) -> None:
    """Show the sync in progress and the latest runs."""
    from flask_pco.jobs.queue import current_run, get_schedule, recent_runs
    from flask_pco.state import current_pco
    from flask_pco.sync.approvals import waiting_runs

    if limit < 1:
        raise click.ClickException(f"--limit must be at least 1, got {limit}")
    current = current_run()
    if current is None:
        click.echo("no sync is running")
    else:
        beat = current.heartbeat_at.isoformat(" ", "seconds") if current.heartbeat_at else "none"
        click.echo(f"run {current.id} {current.status}: {progress_line(current)}")
        view = _live_view(current)
        if view.progress_total:
            step = f" ({view.current_step})" if view.current_step else ""
            click.echo(f"progress: {view.progress_done:,} of {view.progress_total:,} records{step}")
        click.echo(f"last heartbeat (UTC): {beat}")
        if current.runner_host:
            job = f", RQ job {current.job_id}" if current.job_id else ""
            who = "run by" if current.status == "running" else "queued by"
            click.echo(f"{who}: {current.runner_host}, pid {current.runner_pid}{job}")
    for waiting in waiting_runs(current_pco(), sample=5):
        click.echo(f"run {waiting.run.id} waits for approval: {waiting.run.error_message}")
        for removal in waiting.sample:
            click.echo(f"  {removal.action} {removal.label}: {removal.reason}")
        if waiting.count > len(waiting.sample):
            click.echo(f"  ... and {waiting.count - len(waiting.sample)} more")
        click.echo(f"  `flask pco approve {waiting.run.id}` makes them, `--refuse` makes none")
    click.echo(get_schedule().describe())
    runs = recent_runs(limit)
    if runs:
        click.echo()
        click.echo(_table(runs))


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


@pco_cli.command("issues")
@click.option(
    "--limit", default=20, show_default=True, help="How many recent records to list.", type=int
)
def issues_command(limit: int) -> None:
    """List held matches waiting for a decision, then the latest records a sync or webhook
    skipped or could not write, and why."""
    from flask_pco.state import current_pco
    from flask_pco.web.admin_data import held_matches, recent_issues

    if limit < 1:
        raise click.ClickException(f"--limit must be at least 1, got {limit}")
    state = current_pco()
    held = held_matches(state, limit)
    for issue in held:
        side = "local" if issue.local_id is None else "PCO"
        offered = ", ".join(str(c) for c in issue.candidates or ()) or "none"
        click.echo(f"held: {_issue_line(issue)}")
        click.echo(f"  {side} candidates: {offered}")
        click.echo(f"  settle: `flask pco resolve {issue.id} --link ID` or `--create-new`")
    issues = recent_issues(state, limit)
    if not issues and not held:
        click.echo("nothing skipped or held")
    for issue in issues:
        click.echo(_issue_line(issue))


def _issue_line(issue: Any) -> str:
    when = issue.created_at.isoformat(" ", "seconds") if issue.created_at else ""
    run = f"run {issue.run_id}" if issue.run_id else "webhook"
    record = issue.resource_type + (f" #{issue.local_id}" if issue.local_id else "")
    record += f" (PCO {issue.pco_id})" if issue.pco_id else ""
    return f"{when}  {run}  {issue.kind}  {record}: {issue.reason} [issue {issue.id}]"


@pco_cli.command("resolve")
@click.argument("issue_id", type=int)
@click.option("--link", "link_to", metavar="ID", help="Link the held person to this candidate.")
@click.option(
    "--create-new", is_flag=True, help="None of the candidates is this person: create a new one."
)
def resolve_command(issue_id: int, link_to: str | None, create_new: bool) -> None:
    """Settle a held person match (see `flask pco issues`): link a candidate, or create new."""
    from flask_pco.state import current_pco
    from flask_pco.sync import holds

    if bool(link_to) == create_new:
        raise click.ClickException("give exactly one of --link ID or --create-new")
    with _one_line_errors():
        state = current_pco()
        if link_to:
            message = holds.link_held(state, issue_id, link_to)
        else:
            message = holds.create_new(state, issue_id)
    click.echo(message)


@pco_cli.command("approve")
@click.argument("run_id", type=int)
@click.option("--refuse", is_flag=True, help="Make none of the removals the run holds.")
def approve_command(run_id: int, refuse: bool) -> None:
    """Make the removals RUN_ID holds for approval (or refuse them with --refuse)."""
    from flask_pco.state import current_pco
    from flask_pco.sync.approvals import approve_run, refuse_run

    with _one_line_errors():
        state = current_pco()
        message = refuse_run(state, run_id) if refuse else approve_run(state, run_id)
    click.echo(message)


@pco_cli.command("cancel")
@click.argument("run_id", type=int, required=False)
def cancel_command(run_id: int | None) -> None:
    """Cancel RUN_ID (default: the sync in progress); it stops at its next batch boundary."""
    from flask_pco.jobs.queue import cancel_run

    if not cancel_run(run_id):
        if run_id is None:
            raise click.ClickException("no sync is queued or running")
        raise click.ClickException(f"run {run_id} is not queued or running")
    click.echo(f"cancel requested for {'the current run' if run_id is None else f'run {run_id}'}")


@pco_cli.command("test-connection")
def test_connection_command() -> None:
    """Check the PCO credentials: print the organisation and the rate-limit budget."""
    from flask_pco.client import test_connection
    from flask_pco.state import current_pco

    with _one_line_errors():
        info = test_connection(current_pco().client())
    click.echo(f"connected to {info.organization_name} (time zone {info.time_zone or 'unknown'})")
    if info.rate_limit:
        click.echo(
            f"rate limit: {info.rate_count or 0} of {info.rate_limit} requests used "
            f"in the current {info.rate_period}s window"
        )


@pco_cli.command("schedule")
@click.option(
    "--enable/--disable",
    "enabled",
    default=None,
    help="Switch the nightly incremental full pull on or off.",
)
@click.option("--hour", type=int, help="Hour of the nightly sync, 0-23, in PCO_TIME_ZONE.")
def schedule_command(enabled: bool | None, hour: int | None) -> None:
    """Show or set the nightly sync (run by `flask pco scheduler`)."""
    from flask_pco.jobs.queue import get_schedule, set_schedule

    with _one_line_errors():
        schedule = (
            get_schedule() if enabled is None and hour is None else set_schedule(enabled, hour)
        )
    click.echo(schedule.describe())
    if schedule.enabled:
        click.echo(f"next run: {schedule.next_run().isoformat(' ', 'minutes')}")
        click.echo(f"note: {schedule.quiet_note}")


@pco_cli.command("worker")
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
    """Run an RQ worker for flask-pco's jobs inside this app (PCO_REDIS_URL, PCO_QUEUE)."""
    from flask_pco.database import check_tables
    from flask_pco.jobs.workers import make_worker
    from flask_pco.state import current_pco

    with _one_line_errors():
        check_tables(current_pco())  # a site that did not migrate hears it now, not per job
        worker = make_worker(simple=simple)
    # with_scheduler: retries wait in RQ's scheduled registry; some worker must move them.
    worker.work(burst=burst, with_scheduler=True)


@pco_cli.command("scheduler")
def scheduler_command() -> None:
    """Run RQ's cron scheduler for the nightly sync set by `flask pco schedule`."""
    from flask_pco.database import check_tables
    from flask_pco.jobs.queue import sync_queue
    from flask_pco.jobs.workers import NightlyScheduler
    from flask_pco.state import current_pco

    with _one_line_errors():
        check_tables(current_pco())
        queue = sync_queue()
    scheduler = NightlyScheduler(queue.connection, queue.name)
    scheduler.refresh()
    scheduler.start()  # type: ignore[no-untyped-call]


@pco_cli.command("config")
def config_command() -> None:
    """Show the effective flask-pco configuration, without secrets."""
    from flask_pco.state import current_pco

    config = current_pco().config
    click.echo(f"PCO_API_URL      {config.api_url}")
    click.echo(f"credentials      {'configured' if config.has_credentials else 'not configured'}")
    click.echo(f"webhook secrets  {len(config.webhook_secrets)}")
    click.echo(f"PCO_REDIS_URL    {config.redis_url or '(none: jobs run inline)'}")


# --- webhooks (owned by the webhook helper; kept as one block at the end) -------------------


@pco_cli.group("webhooks")
def webhooks_group() -> None:
    """PCO webhook subscriptions for this site."""


@webhooks_group.command("install")
def webhooks_install_command() -> None:
    """Create the missing PCO subscriptions for PCO_PUBLIC_URL and store their secrets."""
    from flask_pco.exceptions import PcoError
    from flask_pco.state import current_pco
    from flask_pco.sync.webhooks.subscriptions import install_subscriptions, webhook_url

    state = current_pco()
    try:
        result = install_subscriptions(state)
    except PcoError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"webhook URL  {webhook_url(state)}")
    for label, names in (
        ("created", result.created),
        ("reactivated", result.reactivated),
        ("already installed", result.existing),
        ("not offered by PCO", result.unavailable),
    ):
        for name in names:
            click.echo(f"{label:<19}{name}")


@webhooks_group.command("status")
@click.option(
    "--refresh/--no-refresh",
    default=True,
    help="Ask PCO which subscriptions are still active (PCO disables failing ones silently).",
)
def webhooks_status_command(refresh: bool) -> None:
    """List the subscriptions, whether each is active and its last delivery; warn of a gap."""
    from flask_pco.exceptions import PcoError
    from flask_pco.state import current_pco
    from flask_pco.sync.webhooks.subscriptions import (
        refresh_subscriptions,
        subscription_statuses,
        webhook_gap_due,
        webhook_overview,
    )

    state = current_pco()
    if refresh and state.config.has_credentials:
        try:
            refresh_subscriptions(state)
        except PcoError as error:
            click.echo(f"warning: could not ask PCO for the subscriptions ({error})", err=True)
    statuses = subscription_statuses(state)
    if not statuses:
        click.echo("no subscriptions installed: run `flask pco webhooks install`")
    for status in statuses:
        last = (
            status.last_delivery_at.isoformat(" ", "seconds")
            if status.last_delivery_at
            else "never"
        )
        click.echo(f"{status.name:<46}{'active' if status.active else 'INACTIVE':<10}{last}")
    overview = webhook_overview(state)
    last_any = (
        overview.last_delivery_at.isoformat(" ", "seconds")
        if overview.last_delivery_at
        else "never"
    )
    click.echo(f"last delivery (UTC): {last_any}")
    if webhook_gap_due(state):
        click.echo(
            "warning: no delivery for longer than PCO_WEBHOOK_GAP; the hourly housekeeping "
            "(`flask pco scheduler`) catches up, or run `flask pco sync people --incremental`",
            err=True,
        )
