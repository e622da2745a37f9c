"""When a church's run gives its worker back: the RQ side of runs in slices (``sync.slices``).

PCO's budget is a moving window (100 requests per 20 s). A push spends it in a burst of a few
seconds and would then sleep most of the window; served in bursts, one every window, the church
still uses its whole budget, and the worker serves other churches meanwhile. So a run's slice
ends at a record boundary when

* its church's budget is spent for longer than ``MIN_REST`` (fewer than ``RESERVE`` requests
  left, the next freed at least that far away): the church rests that long (``fairness``),
  and no worker takes its jobs until then; or
* it has run ``PCO_RUN_SLICE`` seconds (20; a budget larger than the workers can spend),

and, either way, only if another church has a job waiting: alone, a run goes on as before.
Only runs of a site of many churches are sliced; a single-church site's run is one job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from flask_pco.jobs.churches import job_meta
from flask_pco.jobs.fairness import other_work_waiting, rest_church
from flask_pco.jobs.queue import SYNC_JOB_TIMEOUT, _retry, job_id_for, sync_queue
from flask_pco.sync.runs import finish_run

if TYPE_CHECKING:
    from flask_pco.client import PcoClient
    from flask_pco.state import PcoState

__all__ = [
    "MIN_REST",
    "RESERVE",
    "BudgetSlicer",
    "continue_later",
    "slicer_for",
]

#: Requests a record may need (a person, an email, a phone, a lookup): fewer left is "spent".
RESERVE = 4
#: A wait for the budget shorter than this is slept through: ending the slice costs more.
MIN_REST = 1.0


class BudgetSlicer:
    """Ends a run's slice when its church's budget is spent or its time is up (see above)."""

    def __init__(
        self, state: PcoState, client: PcoClient, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.state, self.client, self.clock = state, client, clock
        self.started = clock()
        #: How long the church rests after the slice (0: its budget was not spent).
        self.rest = 0.0

    def due(self) -> bool:
        rest = self.budget_wait()
        if rest == 0 and self.clock() - self.started < self.state.config.run_slice:
            return False
        if not other_work_waiting(self.state):
            return False
        self.rest = rest
        return True

    def budget_wait(self) -> float:
        """Seconds before the church's budget has room again, if longer than ``MIN_REST``."""
        limiter = self.client.limiter
        reset, remaining = limiter.window_stats()
        wait = max(limiter.blocked_for(), reset - time.time() if remaining < RESERVE else 0.0)
        return wait if wait > MIN_REST else 0.0


def slicer_for(state: PcoState) -> BudgetSlicer | None:
    """The slicer of a church's run on a site of many churches (None: one job to the end)."""
    if state.organization is None or state.redis() is None:
        return None
    return BudgetSlicer(state, state.client())


def continue_later(state: PcoState, run_id: int, rest: float) -> str:
    """Queue the run's next slice at the back of its church's queue, under a job id of its own
    that only it may run the run under (``queue._claim``: a retry of this slice's job, should
    its worker die now, does nothing); the run keeps its slot, ``queued`` until it goes on.
    The church rests ``rest`` seconds."""
    run: Any = state.db.session.get(state.models.SyncRun, run_id)
    job_id = f"{job_id_for(run.organization, run.direction, run.sync_type)}-{uuid4().hex[:8]}"
    run.status, run.job_id = "queued", job_id
    state.db.session.commit()
    rest_church(state, rest)
    try:
        sync_queue(state).enqueue(
            "flask_pco.jobs.queue.run_sync_job",  # by name: that module imports this one
            run_id,
            True,
            job_id=job_id,
            retry=_retry(),
            job_timeout=SYNC_JOB_TIMEOUT,
            description=f"flask-pco {run.direction} {run.sync_type} (run {run_id}, continued)",
            meta=job_meta(state),
        )
    except Exception as error:
        finish_run(state, run, "failed", f"could not queue the run's next slice: {error}")
        raise
    return f"slice ended; the run goes on in job {job_id}"
