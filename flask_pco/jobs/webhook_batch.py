"""Webhook jobs in a burst: one work horse applies a batch of queued deliveries.

A forking worker starts a work horse per job, and starting one (the fork, new connections to
the database, Redis and PCO, a cold SQL statement cache) costs several times what applying a
delivery does. So a webhook job, after its own delivery, takes further webhook jobs off the
queue and applies their deliveries, up to ``PCO_WEBHOOK_BATCH`` in all or
``WEBHOOK_BATCH_SECONDS``, and ``FAIR_SECONDS`` once another church's delivery waits
(``fairness``): on a site of many churches, workers go from church to church instead of one
batch serving one church's deliveries at its rate budget's pace while the others wait. What keeps that safe:

* a delivery is applied by one job: its job leaves the queue through Redis' atomic ``LREM``,
  which either a batch or a worker's dequeue wins, never both;
* each delivery records its status on its own row as it is applied (``apply_delivery``);
* the delivery a batch is applying is named under a Redis key of the running job, set in the
  same script that takes it: if the work horse dies, RQ's retry of that job applies it first
  (and no batch takes that retry over). Deliveries not yet taken stay queued for any worker;
* a retriable failure (PCO rate limit, timeout) ends the batch and fails the job, which RQ
  retries later, beginning with the delivery that failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, cast

from rq.exceptions import NoSuchJobError
from rq.job import Job

from flask_pco.jobs.fairness import other_work_waiting, rest_church
from flask_pco.jobs.queue import webhook_job_id, webhook_queue
from flask_pco.jobs.rq_internals import waiting_jobs_key
from flask_pco.sync.webhooks.events import apply_delivery

if TYPE_CHECKING:
    from rq import Queue

    from flask_pco.state import PcoState

__all__ = [
    "WEBHOOK_BATCH_SECONDS",
    "apply_more_deliveries",
    "apply_queued_deliveries",
    "take_queued_delivery",
]

log = logging.getLogger(__name__)

#: How long a batch goes on taking deliveries: well inside RQ's default job timeout (180 s),
#: and short enough for a worker asked to stop to do so soon.
WEBHOOK_BATCH_SECONDS = 30.0
#: How long a batch goes on applying while another church's delivery waits. Time, not a
#: count: a delivery whose person came with the burst's listing (``prefetch``) costs a few
#: milliseconds, one fetched alone a request at the church's pace, and a work horse costs
#: more to start than either, so a batch gives way after a share of the worker's time.
FAIR_SECONDS = 2.0
#: How far down the queue a batch looks for webhook jobs.
QUEUE_WINDOW = 100
#: Redis key, per running job, of the delivery its batch took and is applying.
TAKEN_KEY = "flask_pco:webhook-batch:{job_id}"
#: Long enough for RQ's retries of a job whose work horse died (10 + 30 + 60 s).
TAKEN_TTL = 24 * 3600
#: KEYS: the queue, our taken key, the candidate job's own taken key. A candidate that is the
#: retry of a batch whose horse died is left to run: only it knows what it was applying.
_TAKE_SCRIPT = """
if redis.call('exists', KEYS[3]) == 1 then
  return 0
end
if redis.call('lrem', KEYS[1], 1, ARGV[1]) == 1 then
  redis.call('set', KEYS[2], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""


def apply_more_deliveries(state: PcoState, job_id: str) -> int:
    """After the running webhook job ``job_id``'s own delivery: the church's queued ones, for
    ``FAIR_SECONDS`` while another church's delivery waits, and none while the church's
    budget is spent and another church could use the worker (the church then rests, as a
    run's slice does: ``fairness``). Returns how many were applied."""
    limiter = state.client().limiter
    started = time.monotonic()

    def stop(applied: int) -> bool:
        if state.organization is None:
            return False  # a single-church site's deliveries: nobody else to give way to
        spent = limiter.window_stats()[1] < 2 or limiter.blocked_for() > 0
        if not (spent or time.monotonic() - started >= FAIR_SECONDS):
            return False
        if not other_work_waiting(state, webhooks_only=not spent):
            return False
        if spent:
            rest_church(state, limiter.wait_for_room(max(limiter.limit // 4, 1)))
        return True

    prefix, queue = webhook_job_id(state, ""), webhook_queue(state)
    more = apply_queued_deliveries(state, queue, job_id, prefix, stop=stop)
    if more:
        log.info("flask-pco applied %d more queued webhook deliveries", more)
    return more


def apply_queued_deliveries(
    state: PcoState,
    queue: Queue,
    job_id: str,
    prefix: str,
    *,
    stop: Callable[[int], bool] = lambda applied: False,
) -> int:
    """Apply deliveries whose jobs (ids ``prefix`` + delivery id) wait in ``queue``, for the
    running job ``job_id``, while ``stop`` (told how many the job applied, its own counted)
    says no. Returns how many were applied."""
    redis = queue.connection
    taken_key = TAKEN_KEY.format(job_id=job_id)
    taken = _delivery_id(cast(bytes | None, redis.get(taken_key)))  # left by a try that died
    room = state.config.webhook_batch - 1
    deadline = time.monotonic() + WEBHOOK_BATCH_SECONDS
    applied = 0
    while taken is not None or (applied < room and time.monotonic() < deadline):
        if taken is None:
            if stop(applied + 1):
                break
            taken = take_queued_delivery(queue, prefix, taken_key)
            if taken is None:
                break
        with suppress(LookupError):  # its row was deleted since: nothing to apply
            apply_delivery(state, taken)
        applied, taken = applied + 1, None
    redis.delete(taken_key)
    return applied


def take_queued_delivery(queue: Queue, prefix: str, taken_key: str) -> int | None:
    """Take the first waiting webhook job off ``queue``, noting its delivery under
    ``taken_key``; return the delivery id, or None when no webhook job waits."""
    take = queue.connection.register_script(_TAKE_SCRIPT)
    for job_id in queue.get_job_ids(0, QUEUE_WINDOW):
        delivery = _delivery_id(job_id.removeprefix(prefix)) if job_id.startswith(prefix) else None
        keys = [waiting_jobs_key(queue), taken_key, TAKEN_KEY.format(job_id=job_id)]
        if delivery is not None and take(keys, [job_id, delivery, TAKEN_TTL]):
            with suppress(NoSuchJobError):  # the job is ours now: drop its hash
                Job.fetch(job_id, connection=queue.connection).delete(remove_from_queue=False)
            return delivery
    return None


def _delivery_id(value: str | bytes | None) -> int | None:
    text = value.decode() if isinstance(value, bytes) else value
    return int(text) if text and text.isdigit() else None
