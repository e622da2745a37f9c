"""Fair shares of a few shared workers between many churches.

Three things keep a pool of workers spread over every church that has work
(``church_queues`` gives each church its queues, served in turn):

* **Resting churches are skipped.** A church's job that is about to wait a second or more
  for its church's rate budget says for how long under a Redis key; until then workers take
  nothing from that church's queues (``FairQueue``), since its job would only sleep for the
  budget while other churches' budgets idle. A run's slice that ends because the budget is
  spent (``jobs.slices``) rests only the church's runs: a sliced run leaves its deliveries a
  few requests of the window, and a burst of them needs only a listing or two.
* **Workers start their round-robin at different churches** (``stagger``): workers that all
  rotated the same way would all land on one church's queue at once.
* **A church's deliveries go before its runs, on its budget too.** While a church's
  webhook queue holds jobs, workers leave its run queue alone, and its running slice ends
  (``jobs.slices``): deliveries and runs share the church's rate budget, and a push that
  kept spending it would leave its deliveries waiting for the budget in a worker. Once a
  worker applies one of them, the run may go on beside it: that job takes the rest.
* **"Is other work waiting?"** (``other_work_waiting``): a run's slice and a webhook batch
  give their worker back only when another church (not resting) has a job waiting, so a
  church alone on the site is served as before, in one go.
"""

from __future__ import annotations

import logging
import math
import time
import zlib
from typing import TYPE_CHECKING, Any, cast

from rq import Queue
from rq.exceptions import DequeueTimeout
from rq.registry import StartedJobRegistry

from flask_pco.jobs.church_queues import WEBHOOK_SUFFIX, church_queue_names, queue_name
from flask_pco.state import current_pco

if TYPE_CHECKING:
    from collections.abc import Iterable

    from redis import Redis

    from flask_pco.state import PcoState

__all__ = [
    "FairQueue",
    "other_work_waiting",
    "own_deliveries_waiting",
    "rest_church",
    "rest_while_spent",
    "resting",
    "stagger",
]

log = logging.getLogger(__name__)

#: Redis key of a resting queue of a church, by its name; the value is when the rest ends.
RESTING_KEY = "flask_pco:resting:{queue}"
#: A rest only ever grows: a job's short wait for its budget must not cut short the rest a
#: spent slice asked for (its next slice would start with no budget, end at once, and rest).
_EXTEND_SCRIPT = """
for _, key in ipairs(KEYS) do
  local current = tonumber(redis.call('get', key) or '0')
  if tonumber(ARGV[1]) > current then
    redis.call('set', key, ARGV[1], 'PX', ARGV[2])
  end
end
"""


def rest_church(state: PcoState, seconds: float, *, deliveries: bool = True) -> None:
    """Let workers leave the church's queues alone for ``seconds`` (its budget is spent), or
    longer if they already rest longer; ``deliveries``: its webhook queue too (not when the
    requests left are theirs)."""
    connection = state.redis()
    if connection is None or seconds <= 0:
        return
    runs = queue_name(state)
    names = (runs, f"{runs}{WEBHOOK_SUFFIX}") if deliveries else (runs,)
    keys = [RESTING_KEY.format(queue=name) for name in names]
    connection.register_script(_EXTEND_SCRIPT)(keys, [time.time() + seconds, max(1, int(seconds * 1000))])  # fmt: skip


def rest_while_spent(state: PcoState) -> None:
    """Let the church rest whenever its client is about to wait for its budget (a job of
    another church then gets the worker that would have started one more of its jobs)."""
    if state.organization is None or state.redis() is None:
        return
    try:
        limiter = state.client().limiter
    except Exception as error:  # not connected, or the database is down: the job says so
        log.debug("flask-pco: no budget to watch for church %s: %s", state.organization, error)
        state.db.session.rollback()
        return
    limiter.on_wait = lambda seconds: rest_church(state, seconds)


def resting(connection: Redis, names: list[str]) -> dict[str, float]:
    """The queues among ``names`` that rest now, with the seconds left."""
    if not names:
        return {}
    keys = [RESTING_KEY.format(queue=name) for name in names]
    values = cast("list[Any]", connection.mget(keys))
    now = time.time()
    left = {name: float(value) - now for name, value in zip(names, values, strict=True) if value}
    return {name: seconds for name, seconds in left.items() if seconds > 0}


def other_work_waiting(state: PcoState, *, webhooks_only: bool = False) -> bool:
    """Whether a job waits in another church's queue (or the site's), leaving out resting
    churches; ``webhooks_only``: in another church's webhook queue."""
    connection = state.redis()
    if connection is None:
        return False
    base, own = state.config.queue, queue_name(state)
    names = {base, f"{base}{WEBHOOK_SUFFIX}", *church_queue_names(connection, base)}
    if webhooks_only:
        names = {name for name in names if name.endswith(WEBHOOK_SUFFIX)}
    names -= {own, f"{own}{WEBHOOK_SUFFIX}"}
    ready = sorted(names - resting(connection, sorted(names)).keys())
    with connection.pipeline(transaction=False) as pipe:
        for name in ready:
            pipe.llen(f"{Queue.redis_queue_namespace_prefix}{name}")
        return any(cast("list[int]", pipe.execute()))


def own_deliveries_waiting(state: PcoState) -> bool:
    """Whether the church's own webhook queue holds jobs while none of them is being applied."""
    connection = state.redis()
    return connection is not None and bool(_deliveries_waiting(connection, [queue_name(state)]))


def _runs_behind_deliveries(connection: Redis, queues: list[Queue]) -> set[str]:
    """The run queues among ``queues`` whose church's deliveries wait (``_deliveries_waiting``)."""
    runs = [queue.name for queue in queues if not queue.name.endswith(WEBHOOK_SUFFIX)]
    return _deliveries_waiting(connection, runs)


def _deliveries_waiting(connection: Redis, runs: list[str]) -> set[str]:
    """The run queues among ``runs`` whose church's webhook queue holds jobs and no worker
    applies one of them now. A webhook job takes every delivery of its church stored by then
    and those that come while it runs (``webhook_batch``); the jobs queued behind it mostly
    find theirs applied. So while one runs, the church's run may go on beside it (its slice
    leaves the deliveries ``DELIVERY_RESERVE`` requests): during a storm of deliveries
    posted one by one, the queue would otherwise hold jobs for as long as the storm lasts,
    and the church's run and budget would idle all that time."""
    now = time.time()
    with connection.pipeline(transaction=False) as pipe:
        for name in runs:
            webhooks = f"{name}{WEBHOOK_SUFFIX}"
            pipe.llen(f"{Queue.redis_queue_namespace_prefix}{webhooks}")
            pipe.zcount(StartedJobRegistry.key_template.format(webhooks), now, "+inf")
        answers = cast("list[int]", pipe.execute())
    return {
        name
        for name, queued, applying in zip(runs, answers[::2], answers[1::2], strict=True)
        if queued and not applying
    }


def stagger(queues: list[Queue], worker_name: str) -> None:
    """Rotate the worker's queues, in place, by an offset of its own (its name's hash)."""
    if queues:
        offset = zlib.crc32(worker_name.encode()) % len(queues)
        queues[:] = queues[offset:] + queues[:offset]


class FairQueue(Queue):
    """RQ's queue class for the workers: dequeues from every queue but resting churches', and
    a church's runs only while none of its deliveries wait."""

    @classmethod
    def dequeue_any(  # type: ignore[override]
        cls, queues: Iterable[Queue], timeout: int | None, connection: Redis, **kwargs: Any
    ) -> Any:
        queues = list(queues)
        site = current_pco().config.queue  # a single-church site's runs: as before
        behind = _runs_behind_deliveries(connection, [q for q in queues if q.name != site])
        queues = [queue for queue in queues if queue.name not in behind]
        rests = resting(connection, [queue.name for queue in queues])
        if rests:
            wake = max(1, math.ceil(min(rests.values())))  # look again once a rest ends
            timeout = None if timeout is None else min(timeout, wake)
            queues = [queue for queue in queues if queue.name not in rests]
            if not queues:
                if timeout is None:
                    return None
                time.sleep(timeout)
                raise DequeueTimeout(timeout, [])
        return super().dequeue_any(queues, timeout, connection, **kwargs)
