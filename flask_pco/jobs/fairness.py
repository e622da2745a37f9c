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
  worker applies one of them, that job takes the rest, no other worker joins it, and the
  run may go on beside it.
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

from flask_pco.jobs.church_queues import WEBHOOK_SUFFIX, church_queue_names, queue_name
from flask_pco.jobs.rq_internals import started_jobs_key
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
    """Whether a job a free worker would take waits in another church's queue (or the
    site's): resting churches, runs behind their deliveries and deliveries a worker already
    applies are left out (``_busy``); ``webhooks_only``: in another church's webhook queue."""
    connection = state.redis()
    if connection is None:
        return False
    base, own = state.config.queue, queue_name(state)
    churches = set(church_queue_names(connection, base))
    names = {base, f"{base}{WEBHOOK_SUFFIX}", *churches}
    if webhooks_only:
        names = {name for name in names if name.endswith(WEBHOOK_SUFFIX)}
    names -= {own, f"{own}{WEBHOOK_SUFFIX}"}
    ready = names - resting(connection, sorted(names)).keys()
    waiting = sorted(ready - _busy(connection, sorted(churches)))
    with connection.pipeline(transaction=False) as pipe:
        for name in waiting:
            pipe.llen(f"{Queue.redis_queue_namespace_prefix}{name}")
        return any(cast("list[int]", pipe.execute()))


def own_deliveries_waiting(state: PcoState) -> bool:
    """Whether the church's own deliveries wait for a worker (``_busy``)."""
    connection = state.redis()
    own = queue_name(state)
    return connection is not None and own in _busy(connection, [own])


def _busy(connection: Redis, names: list[str]) -> set[str]:
    """The queues of the churches among ``names`` (their run or webhook queues) that no worker
    should take a job from now: a run queue whose church's deliveries wait while no worker applies
    them (they go first, on the same budget), and a webhook queue whose deliveries a worker
    already applies. A webhook job takes every delivery of its church stored by then and
    those that come while it runs (``webhook_batch``), at the church's budget's pace: a
    second worker on them would spend its time on the same budget, and the church's run
    may go on beside the one, its slice leaving the deliveries ``DELIVERY_RESERVE``
    requests. Otherwise, during a storm of deliveries posted one by one, every worker went
    to deliveries while budgets idled. A worker that dies leaves its job in RQ's started
    registry for at most its heartbeat (~90 s): its church's deliveries wait that long."""
    runs = sorted({name.removesuffix(WEBHOOK_SUFFIX) for name in names})
    now = time.time()
    with connection.pipeline(transaction=False) as pipe:
        for name in runs:
            webhooks = f"{name}{WEBHOOK_SUFFIX}"
            pipe.llen(f"{Queue.redis_queue_namespace_prefix}{webhooks}")
            pipe.zcount(started_jobs_key(webhooks), now, "+inf")
        answers = cast("list[int]", pipe.execute())
    busy = set()
    for name, queued, applying in zip(runs, answers[::2], answers[1::2], strict=True):
        if applying:
            busy.add(f"{name}{WEBHOOK_SUFFIX}")
        elif queued:
            busy.add(name)
    return busy


def stagger(queues: list[Queue], worker_name: str) -> None:
    """Rotate the worker's queues, in place, by an offset of its own (its name's hash)."""
    if queues:
        offset = zlib.crc32(worker_name.encode()) % len(queues)
        queues[:] = queues[offset:] + queues[:offset]


class FairQueue(Queue):
    """RQ's queue class for the workers: dequeues from every queue but resting churches' and
    busy ones (``_busy``)."""

    @classmethod
    def dequeue_any(  # type: ignore[override]
        cls, queues: Iterable[Queue], timeout: int | None, connection: Redis, **kwargs: Any
    ) -> Any:
        queues = list(queues)
        site = current_pco().config.queue  # a single-church site's runs: as before
        churches = [q.name for q in queues if q.name.removesuffix(WEBHOOK_SUFFIX) != site]
        busy = _busy(connection, churches)
        queues = [queue for queue in queues if queue.name not in busy]
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
