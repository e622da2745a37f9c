"""When a church's run gives its worker back: the RQ side of runs in slices (``sync.slices``).

PCO's budget is a moving window (100 requests per 20 s). A push spends it in a burst of a few
seconds and would then sleep most of the window; served in bursts, one every window, the church
still uses its whole budget, and the worker serves other churches meanwhile. So a run's slice
ends at a record boundary when

* its church's budget is spent (fewer than ``RESERVE`` requests left in the window, less
  ``DELIVERY_RESERVE`` kept for its webhook deliveries): the church rests (``fairness``)
  until ``BURST`` of its budget is free again, and no worker takes its runs until then, so
  the next slice is a burst again rather than a trickle of requests at the budget's pace
  that would hold a worker as an unsliced run does. Its deliveries are still taken, and find the
  requests the run left them (a burst of them costs a listing of two or three), unless
  they spend those too and rest the church's queues as any job about to wait does; or
* it has run ``PCO_RUN_SLICE`` seconds (20; a budget larger than the workers can spend),

and, either way, only if another church has a job waiting: alone, a run goes on, waiting for
its spent budget in short naps (``POLL``) so that it gives the worker back as soon as
another church's rest ends rather than after sleeping through the window in the limiter.
A slice also ends as soon as its own church's webhook deliveries wait: they go first, and
the run's next slice waits until they have been taken. A slice does not even begin
(``wait_first``) when its church's deliveries wait or its budget is already spent while
another church has work (its deliveries may have spent what its rest saved): it would begin
by sleeping for the budget, reading PCO's people for its index, in a worker another church
could use.
Only runs of a site of many churches are sliced; a single-church site's run is one job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, cast
from uuid import uuid4

from redis.exceptions import RedisError

from flask_pco.jobs.fairness import other_work_waiting, own_deliveries_waiting, rest_church
from flask_pco.jobs.queue import job_id_for, sync_queue
from flask_pco.jobs.run_jobs import enqueue_run_job
from flask_pco.sync.runs import finish_run

if TYPE_CHECKING:
    from flask_pco.client import PcoClient
    from flask_pco.state import PcoState

__all__ = [
    "BURST",
    "DELIVERY_RESERVE",
    "RESERVE",
    "BudgetSlicer",
    "continue_later",
    "slicer_for",
]

#: Requests a record may need (a person, an email, a phone, a lookup): fewer left is "spent".
RESERVE = 4
#: Requests of the window a sliced run leaves to its church's webhook deliveries, which a
#: resting church's workers still take (``fairness``).
DELIVERY_RESERVE = 5
#: The share of its budget a church rests for once spent, so its next slice is a burst.
BURST = 0.2
#: Seconds between looks at the other churches' queues while a slice alone on the site
#: waits for its spent budget.
POLL = 0.5
#: Redis key of what a run's slice carries to the next (``carry``), and how long it is kept
#: (a continuation waits seconds for its church's budget, rarely minutes).
CARRY_KEY = "flask_pco:carried:{organization}:{run}:{name}"
CARRY_TTL = 3600


class BudgetSlicer:
    """Ends a run's slice when its church's budget is spent or its time is up (see above)."""

    def __init__(
        self,
        state: PcoState,
        client: PcoClient,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        run_id: int | None = None,
    ) -> None:
        self.state, self.client, self.clock, self.sleep = state, client, clock, sleep
        self.run_id = run_id
        self.started = clock()
        #: How long the church rests after the slice (0: its budget was not spent).
        self.rest = 0.0
        #: Why the slice ended, for the log.
        self.reason = ""

    def due(self) -> bool:
        if own_deliveries_waiting(self.state):
            self.rest = self.rest_needed() if self.budget_spent() else 0.0
            self.reason = "its church's deliveries wait"
            return True  # they go first, on the church's budget too (``fairness``)
        spent = self.budget_spent()
        if not spent and self.clock() - self.started < self.state.config.run_slice:
            return False
        while other_work_waiting(self.state) is False:
            if not spent:
                return False  # alone: the slice goes on
            # Alone on a spent budget: wait for room here, a little at a time, rather than
            # in the limiter, which would hold the worker for the whole window while other
            # churches' rests end.
            room = self.client.limiter.wait_for_room(RESERVE + DELIVERY_RESERVE)
            self.sleep(min(POLL, max(room, self.client.limiter.blocked_for(), 0.01)))
            if own_deliveries_waiting(self.state):
                self.rest, self.reason = self.rest_needed(), "its church's deliveries wait"
                return True
            spent = self.budget_spent()
        self.rest = self.rest_needed() if spent else 0.0
        self.reason = "budget spent" if spent else "time up"
        return True

    def wait_first(self) -> bool:
        """Whether the slice should not begin at all (see the module); unlike ``due`` a young
        slice is no reason to wait, so every slice that begins does some work."""
        spent = self.budget_spent()
        if own_deliveries_waiting(self.state):
            self.rest = self.rest_needed() if spent else 0.0
            self.reason = "its church's deliveries wait"
            return True
        if spent and other_work_waiting(self.state):
            self.rest = self.rest_needed()
            self.reason = "budget spent before it began"
            return True
        return False

    def carry(self, name: str, text: str) -> None:
        connection = self.state.redis()
        if connection is not None and self.run_id is not None:
            with suppress(RedisError):  # best effort: the next slice then reads it again
                connection.set(self._carry_key(name), text, ex=CARRY_TTL)

    def carried(self, name: str) -> str | None:
        connection = self.state.redis()
        if connection is None or self.run_id is None:
            return None
        try:
            value = cast("bytes | None", connection.get(self._carry_key(name)))
        except RedisError:
            return None
        return value.decode() if value is not None else None

    def forget(self) -> None:
        """Drop what the run's slices carried (its run has ended); best effort, as the keys
        expire anyway."""
        connection = self.state.redis()
        if connection is None or self.run_id is None:
            return
        with suppress(RedisError):
            keys = list(connection.scan_iter(self._carry_key("*")))
            if keys:
                connection.delete(*keys)

    def _carry_key(self, name: str) -> str:
        return CARRY_KEY.format(organization=self.state.organization, run=self.run_id, name=name)

    def budget_spent(self) -> bool:
        """Fewer than ``RESERVE`` requests left in the church's window, past those kept for
        its deliveries (or a 429's wait)."""
        limiter = self.client.limiter
        left = limiter.window_stats()[1]
        return left < RESERVE + DELIVERY_RESERVE or limiter.blocked_for() > 0

    def rest_needed(self) -> float:
        """Seconds before the church's window has room for a burst of ``BURST`` of its
        budget: a slice that began with a few requests free would only trickle."""
        limiter = self.client.limiter
        return max(limiter.blocked_for(), limiter.wait_for_room(int(limiter.limit * BURST)))


def slicer_for(state: PcoState, run_id: int | None = None) -> BudgetSlicer | None:
    """The slicer of a church's run on a site of many churches (None: one job to the end)."""
    if state.organization is None or state.redis() is None:
        return None
    return BudgetSlicer(state, state.client(), run_id=run_id)


log = logging.getLogger(__name__)


def continue_later(
    state: PcoState, run_id: int, rest: float, reason: str = "", *, resume: bool = True
) -> str:
    """Queue the run's next slice at the back of its church's queue, under a job id of its own
    that only it may run the run under (``queue._claim``: a retry of this slice's job, should
    its worker die now, does nothing); the run keeps its slot, ``queued`` until it goes on.
    The church rests ``rest`` seconds. ``resume``: the run has begun (False: a first slice
    that waited before it began)."""
    run: Any = state.db.session.get(state.models.SyncRun, run_id)
    job_id = f"{job_id_for(run.organization, run.direction, run.sync_type)}-{uuid4().hex[:8]}"
    run.status, run.job_id = "queued", job_id
    state.db.session.commit()
    rest_church(state, rest, deliveries=False)  # the requests it left are theirs
    try:
        enqueue_run_job(state, sync_queue(state), run, job_id, resume=resume)
    except Exception as error:
        finish_run(state, run, "failed", f"could not queue the run's next slice: {error}")
        raise
    log.info(
        "flask-pco run %s: slice ended (%s), church rests %.1f s; goes on in %s",
        run_id,
        reason or "asked",
        rest,
        job_id,
    )
    return f"slice ended; the run goes on in job {job_id}"
