"""Following a run of this process on a terminal: a progress bar per step, Ctrl-C to cancel."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import click
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_fixed

from flask_pco.jobs.run_status import cancel_run, counts_text, progress_line
from flask_pco.jobs.threads import wait_for_run
from flask_pco.state import current_pco

if TYPE_CHECKING:
    from flask_pco.web.run_views import RunView

#: Seconds between two redraws of the progress bars while a sync runs in this process.
DRAW_SECONDS = 0.5
#: Seconds between two looks at the run row with nothing to draw: the run's thread says at
#: once when it ends, so this only bounds how long a run of another process goes unseen.
LOOK_SECONDS = 5.0


def watch(run_id: int) -> Any:
    """Wait for a run of this process to end, drawing its steps when stdout is a terminal.

    Ctrl-C asks the run to stop at its next batch boundary, then keeps waiting for it, so the
    batches it committed stay and the run row says how it ended.
    """
    bars = StepBars() if sys.stdout.isatty() else None
    while True:
        try:
            run = fresh_run(run_id)
            while run.status in ("queued", "running"):
                if bars is not None:
                    bars.show(live_view(run))
                wait_for_run(run_id, DRAW_SECONDS if bars is not None else LOOK_SECONDS)
                run = fresh_run(run_id)
        except KeyboardInterrupt:
            cancel_run(run_id)
            click.echo("\ncancelling: the run stops at its next batch boundary", err=True)
            continue
        if bars is not None:
            bars.finish(live_view(run))
        return run


def live_view(run: Any) -> RunView:
    """The run as the admin page shows it: the current step and its records done of total."""
    from flask_pco.web.run_views import run_view  # only to draw: a sync need not load it

    return run_view(current_pco(), run)


@retry(
    retry=retry_if_exception(lambda error: getattr(error, "connection_invalidated", False)),
    stop=stop_after_attempt(10),
    wait=wait_fixed(0.5),
    reraise=True,
)
def fresh_run(run_id: int) -> Any:
    """Re-read the run row, ending the last read so the worker's commits are seen.

    A connection the database dropped (a restart, a failover, an admin's kill) is replaced on
    the next try: the run goes on in its own thread, and this process must wait for its end
    rather than exit and leave it half-done.
    """
    state = current_pco()
    state.db.session.rollback()
    return state.db.session.get(state.models.SyncRun, run_id)


class StepBars:
    """A click progress bar for each step of the watched run, sized by the records PCO (or the
    push's work list) says the step will go through; a status line while that is not known."""

    def __init__(self) -> None:
        self._drawing = ExitStack()
        self._bar: Any = None
        self._step: str | None = None
        self._status_line = False

    def show(self, view: RunView) -> None:
        step = view.current_step or view.sync_type
        if step != self._step:
            self._close(completed=True)  # the run went on, so the step before it ended
            self._step = step
        if not view.progress_total:
            click.echo("\r\033[K" + progress_line(view), nl=False)
            self._status_line = True
            return
        if self._bar is None:
            self._open(view, step)
        if view.progress_total > (self._bar.length or 0):  # a later listing of the same step
            self._bar.length = view.progress_total
            self._bar.finished = False
        counts = counts_text(view)
        self._bar.update(max(view.progress_done - self._bar.pos, 0), current_item=counts)

    def finish(self, view: RunView) -> None:
        """The run ended: a run that succeeded went through all of its last step."""
        if self._bar is None and view.status == "succeeded" and view.progress_total:
            self.show(view)  # a run quicker than a look still ends on its full bar
        if self._bar is not None and view.status == "succeeded":
            left = max((self._bar.length or 0) - self._bar.pos, 0)
            self._bar.update(left, current_item=counts_text(view))
        self._close(completed=False)
        click.echo("\r\033[K", nl=False)

    def _open(self, view: RunView, step: str) -> None:
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

    def _close(self, *, completed: bool) -> None:
        if self._bar is None:
            return
        if completed:
            self._bar.update(max((self._bar.length or 0) - self._bar.pos, 0))
        self._drawing.close()  # the bar's last line, and the cursor back
        self._bar = None
