"""One pool of workers for every church: a queue per church, served in turn.

On a site of many churches each church's jobs go to a queue of its own,
``{PCO_QUEUE}-church-{id}``; the site's own jobs (hourly housekeeping) stay on ``PCO_QUEUE``.
Workers listen to all of them with RQ's round-robin dequeue strategy: once a worker has taken a
job from one queue it looks at every other queue before that one again, so a church with a
thousand webhook deliveries waiting gets one job in turn with each other church that has work,
never a run of them. Rate budgets stay per church: a job's client draws on its own
organisation's budget (``PcoState.client``).

Webhook deliveries go before runs within a church: each church's deliveries wait in a queue
of their own, ``{queue}-webhooks`` (the site's in ``{PCO_QUEUE}-webhooks``), and a worker looks
at each church's webhook queue just before its run queue, church after church in turn
(``by_priority``). A church's
5,000-person push runs in slices that give their worker back while other work waits
(``jobs.slices``), and churches whose budget is spent are left alone until it has room again
(``jobs.fairness``), so a few workers serve many churches' budgets and deliveries.

Church queues appear as churches connect. The first time a church's queue is used it joins a
Redis set the workers read before each wait for a job, and a wake-up job on the site's queue
ends the wait of workers already waiting, so they listen to it at once. RQ retries a failed job
after a delay from the queue's scheduled registry; a worker's maintenance moves the due ones of
church queues that appeared after it started (its own RQ scheduler knows only the earlier ones).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

from rq import Queue
from rq.scheduler import RQScheduler

from flask_pco.exceptions import ConfigError
from flask_pco.jobs.rq_internals import ordered_queues
from flask_pco.tenancy import organization_key

if TYPE_CHECKING:
    from redis import Redis
    from rq.worker import BaseWorker

    from flask_pco.state import PcoState

__all__ = [
    "WAKE_UP_JOB_ID",
    "WEBHOOK_SUFFIX",
    "announce_queue",
    "by_priority",
    "church_queue_names",
    "listen_to_church_queues",
    "move_due_retries",
    "open_queue",
    "queue_name",
    "served_last",
    "wake_up_job",
    "webhook_queue_name",
]

log = logging.getLogger(__name__)

#: The id of the job that wakes waiting workers: one waits at a time, however many churches
#: appear meanwhile.
WAKE_UP_JOB_ID = "pco-wake-up"
#: The end of the name of a queue of webhook deliveries, served before the others.
WEBHOOK_SUFFIX = "-webhooks"


def queue_name(state: PcoState) -> str:
    """The RQ queue of the state's church (``PCO_QUEUE`` for the site's own)."""
    base = state.config.queue
    return base if state.organization is None else f"{base}-{organization_key(state.organization)}"


def webhook_queue_name(state: PcoState) -> str:
    """The RQ queue of the church's webhook deliveries."""
    return f"{queue_name(state)}{WEBHOOK_SUFFIX}"


def by_priority(queues: list[Queue]) -> None:
    """Order the queues, in place, church by church in their round-robin order, each church's
    webhook queue before its run queue.

    Deliveries go before runs within a church only: they share its budget, while another
    church's deliveries do not, and a church whose run waited behind every other church's
    storm of deliveries left its own budget idle. A church's place is its first queue's
    (``served_last`` sends both to the back once it is served; a queue that appears later
    joins its church's place).
    """
    first: dict[str, int] = {}
    for index, queue in enumerate(queues):
        first.setdefault(_church(queue), index)
    queues.sort(key=lambda q: (first[_church(q)], not q.name.endswith(WEBHOOK_SUFFIX)))


def served_last(queues: list[Queue], served: Queue) -> None:
    """Move every queue of the church just served to the back, in place: RQ's round robin
    moves only the queue the job came from, which would leave the church's other queue first."""
    church = _church(served)
    queues.sort(key=lambda queue: _church(queue) == church)


def _church(queue: Queue) -> str:
    return queue.name.removesuffix(WEBHOOK_SUFFIX)


def _known_key(base: str) -> str:
    return f"pco:{base}:church-queues"


def open_queue(state: PcoState, *, webhooks: bool = False) -> Queue:
    """The church's queue of runs (of webhook deliveries), known to the workers."""
    connection = state.redis()
    if connection is None:
        raise ConfigError("PCO_REDIS_URL is not set: there is no job queue without Redis")
    queue = Queue(
        webhook_queue_name(state) if webhooks else queue_name(state), connection=connection
    )
    announce_queue(state, queue)
    return queue


def announce_queue(state: PcoState, queue: Queue) -> None:
    """Make a church's queue known to the workers (see the module docstring); one SADD when
    it is known already."""
    if state.organization is None:
        return
    connection = queue.connection
    if connection.sadd(_known_key(state.config.queue), queue.name):
        site = Queue(state.config.queue, connection=connection)
        if WAKE_UP_JOB_ID not in site.job_ids:  # the site's queue holds few jobs
            site.enqueue(wake_up_job, job_id=WAKE_UP_JOB_ID, description="flask-pco: a new church")


def wake_up_job() -> str:
    """RQ job: nothing; the worker that takes it looks for new church queues before its next
    wait, and so do the others once their wait ends."""
    return "workers listen to every church's queue"


def church_queue_names(connection: Redis, base: str) -> list[str]:
    """Every church queue jobs were put on, in a stable order."""
    names = cast("set[Any]", connection.smembers(_known_key(base)))
    return sorted(name.decode() if isinstance(name, bytes) else str(name) for name in names)


def listen_to_church_queues(worker: BaseWorker, base: str) -> list[Queue]:
    """Add the church queues the worker does not listen to yet; returns those added."""
    known = set(worker.queue_names())
    added = [
        worker.queue_class(name, connection=worker.connection, serializer=worker.serializer)
        for name in church_queue_names(worker.connection, base)
        if name not in known
    ]
    if added:
        worker.queues.extend(added)
        ordered_queues(worker).extend(added)
        log.info("flask-pco worker: now also serving %s", ", ".join(q.name for q in added))
    return added


def move_due_retries(worker: BaseWorker, base: str) -> None:
    """Queue again the due retries of church queues no RQ scheduler watches (those that
    appeared after this worker started); a queue another scheduler holds is left to it."""
    watched: set[str] = set(getattr(worker.scheduler, "_queue_names", ()) or ())
    names = [name for name in church_queue_names(worker.connection, base) if name not in watched]
    if not names:
        return
    scheduler = RQScheduler(names, connection=worker.connection, serializer=worker.serializer)
    scheduler.acquire_locks()  # type: ignore[no-untyped-call]
    try:
        if scheduler.acquired_locks:
            scheduler.enqueue_scheduled_jobs()  # type: ignore[no-untyped-call]
    finally:
        scheduler.release_locks()  # type: ignore[no-untyped-call]
