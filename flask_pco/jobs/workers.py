"""The long-running processes: RQ workers and the nightly cron scheduler, inside the app.

``flask --app yourapp pco worker`` runs an ``AppWorker`` (any number, on any machines sharing
Redis and the database); ``flask --app yourapp pco scheduler`` runs one ``NightlyScheduler``
(the nightly sync, and hourly webhook housekeeping). Both run inside the Flask app, so jobs
find their configuration through ``current_app``.

A worker outlives Redis outages (``run_worker``): when Redis drops it waits and starts a new
RQ worker once Redis answers, and every worker re-queues webhook deliveries whose jobs a
restarted Redis lost (on start-up, then every ``PCO_WEBHOOK_REQUEUE_AFTER`` seconds).
"""

from __future__ import annotations

import gc
import importlib
import logging
import signal
import time
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError
from rq import Queue, SimpleWorker, Worker
from rq.cron import CronJob, CronScheduler
from rq.exceptions import StopRequested
from rq.executions import Execution
from rq.job import Job
from rq.logutils import setup_loghandlers
from rq.utils import now
from rq.worker import BaseWorker, DequeueStrategy
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import configure_mappers
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential

from flask_pco.exceptions import PcoError
from flask_pco.jobs.church_queues import (
    by_priority,
    church_queue_names,
    listen_to_church_queues,
    move_due_retries,
    queue_name,
    served_last,
)
from flask_pco.jobs.churches import ORGANIZATION_META, each_church
from flask_pco.jobs.fairness import FairQueue, rest_while_spent, stagger
from flask_pco.jobs.outage import redis_unreachable, requeue_lost_deliveries
from flask_pco.jobs.queue import (
    nightly_sync_job,
    sync_queue,
    webhook_housekeeping_job,
    webhook_queue,
)
from flask_pco.jobs.rq_internals import cron_entries, ordered_queues, request_stop
from flask_pco.jobs.run_jobs import SYNC_JOB_TIMEOUT
from flask_pco.jobs.schedule import NIGHTLY_JOB_NAME, Schedule, get_schedule
from flask_pco.state import current_pco
from flask_pco.tenancy import use_organization

__all__ = [
    "AppSimpleWorker",
    "AppWorker",
    "NightlyCronJob",
    "NightlyScheduler",
    "make_worker",
    "prepare_to_fork",
    "run_worker",
]

log = logging.getLogger(__name__)

#: Longest wait, in seconds, between two attempts to reach Redis again (1, 2, 4 ... 30).
REDIS_RETRY_MAX = 30
#: A worker that ran this many seconds before Redis dropped waits from 1 s again.
FRESH_AFTER = 60

HOUSEKEEPING_JOB_NAME = "flask-pco webhook housekeeping"
#: Hourly, off the top of the hour when other sites' crons crowd PCO.
HOUSEKEEPING_CRON = "17 * * * *"


#: Modules that jobs import on first use (the web process never needs most of them).
JOB_MODULES = (
    "flask_pco.sync.webhooks.handlers",
    "flask_pco.sync.pull",
    "flask_pco.sync.push",
    "flask_pco.sync.webhooks.subscriptions",
    "flask_pco.jobs.webhook_batch",
)


def prepare_to_fork() -> None:
    """Do once, in the worker, the set-up every work horse would otherwise repeat for its job.

    A horse is a fork: it inherits imported modules and configured ORM mappers, but what it
    builds itself dies with it. Measured on a webhook job, importing the sync modules and
    configuring the mappers in each horse cost ~50 ms of ~120 ms.
    """
    for name in JOB_MODULES:
        importlib.import_module(name)
    configure_mappers()


class _AppWorkerMixin:
    """What both worker kinds add to RQ's: a stop that works while Redis is down, and the
    check for webhook deliveries whose jobs Redis lost, run with RQ's maintenance."""

    #: Set by SIGINT/SIGTERM: the loop ended because it was asked to.
    stop_asked = False
    #: Dequeues from every queue but those of churches resting their budget (``fairness``).
    queue_class = FairQueue
    _staggered = False

    def request_stop(self, signum: int, frame: Any) -> None:
        self.stop_asked = True
        try:
            super().request_stop(signum, frame)  # type: ignore[misc]
        except RedisError:
            # RQ asks Redis whether a job runs before stopping; it cannot answer, so stop now
            # (a forked work horse finishes its run on its own).
            raise StopRequested() from None

    def work(self, *args: Any, **kwargs: Any) -> bool:
        """RQ's loop, taking jobs from the churches' queues in turn (``church_queues``)."""
        kwargs.setdefault("dequeue_strategy", DequeueStrategy.ROUND_ROBIN)
        return bool(super().work(*args, **kwargs))  # type: ignore[misc]

    def dequeue_job_and_maintain_ttl(
        self, timeout: int | None, max_idle_time: int | None = None
    ) -> tuple[Job, Queue] | None:
        added = listen_to_church_queues(self, current_pco().config.queue)  # type: ignore[arg-type]
        if added or not self._staggered:  # each worker starts at a church of its own
            stagger(ordered_queues(self), self.name)  # type: ignore[attr-defined]
            self._staggered = True
        by_priority(ordered_queues(self))  # webhook deliveries first (``church_queues``)
        return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)  # type: ignore[misc,no-any-return]

    def reorder_queues(self, reference_queue: Queue) -> None:
        """RQ's round robin, then the church just served to the back (``church_queues``)."""
        super().reorder_queues(reference_queue)  # type: ignore[misc]
        served_last(ordered_queues(self), reference_queue)

    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        """Run the job for the church it carries (a site of many churches)."""
        with use_organization(job.meta.get(ORGANIZATION_META)):
            rest_while_spent(current_pco())  # ``fairness``
            return bool(super().perform_job(job, queue, execution))  # type: ignore[misc]

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()  # type: ignore[misc]
        state = current_pco()
        move_due_retries(self, state.config.queue)  # type: ignore[arg-type]
        try:
            requeued = requeue_lost_deliveries(state)
        except (SQLAlchemyError, PcoError) as error:
            state.db.session.rollback()
            log.warning("flask-pco worker: could not look for lost webhook jobs: %s", error)
            return
        if requeued:
            log.info(
                "flask-pco worker: queued %d webhook deliveries whose jobs were lost", requeued
            )


class AppWorker(_AppWorkerMixin, Worker):
    """RQ's forking worker, run inside the Flask app; each work horse starts with fresh
    database and PCO connections instead of sharing the parent's sockets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        prepare_to_fork()

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        state = current_pco()
        for engine in state.db.engines.values():
            engine.dispose(close=False)
        for each in (state, *state.cache.get("organizations", {}).values()):
            each.cache.pop("client", None)  # the parent's sockets
        # The horse lives for one job and inherits the worker's heap (the app and its modules,
        # ~140,000 objects) that will not become garbage before it exits. Frozen, they are left
        # out of the collector's full passes: a first pull of 50,000 people made ~60 of them,
        # ~100 ms each, re-reading those objects every time.
        gc.freeze()
        super().main_work_horse(job, queue)


class AppSimpleWorker(_AppWorkerMixin, SimpleWorker):
    """RQ's non-forking worker with the same stop and the same delivery check."""


def make_worker(*, simple: bool = False) -> BaseWorker:
    """A worker for the flask-pco queue, to run inside the app context."""
    queue = sync_queue()
    churches = church_queue_names(queue.connection, queue.name)
    worker_class = AppSimpleWorker if simple else AppWorker
    every = current_pco().config.webhook_requeue_after
    # RQ wakes from its wait for a job every worker_ttl - 15 s (405 s by default), and runs
    # maintenance (with the delivery check) once maintenance_interval has passed.
    worker = worker_class(
        [webhook_queue().name, queue.name, *churches],  # made ``FairQueue``s by RQ
        connection=queue.connection,
        maintenance_interval=every,
        worker_ttl=min(every, 405) + 15,
    )
    worker.max_connection_wait_time = REDIS_RETRY_MAX  # RQ's own wait inside its loop
    return worker


class WorkerLoopEndedError(Exception):
    """RQ's loop ended without being asked to: Redis dropped during a job, or RQ logged why."""


def run_worker(*, burst: bool = False, simple: bool = False) -> None:
    """Work until stopped by SIGINT/SIGTERM (with ``burst``: until the queue is empty).

    When Redis drops, or is down at start-up, a long-running worker waits 1, 2, 4 ... 30 s
    between attempts (one log line each) and starts a new RQ worker once Redis answers. A
    burst worker is a one-off: a Redis error ends it.
    """
    setup_loghandlers("INFO", name=__name__)
    for name in ("rq.worker", "rq.scheduler"):
        logging.getLogger(name).addFilter(_redis_errors_in_one_line)
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if burst:
            _work(simple, burst=True)
            return
        while not _retrying()(_work, simple, burst=False):
            pass  # the worker had been up a while: wait from 1 s again
    except StopRequested:
        log.info("flask-pco worker: stopped")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _redis_errors_in_one_line(record: logging.LogRecord) -> bool:
    """RQ logs a lost Redis connection with a 60-line traceback; one line says as much."""
    error = record.exc_info[1] if record.exc_info else None
    if isinstance(error, RedisError):
        record.msg, record.args = f"{record.getMessage()} ({error})", None
        record.exc_info = record.exc_text = None
        return True
    # RQ's scheduler puts the traceback in the message itself.
    first, *rest = record.getMessage().strip().splitlines() or [""]
    if rest and rest[-1].startswith("redis.exceptions."):
        record.msg, record.args = f"{first} ({rest[-1].split(': ', 1)[-1]})", None
    return True


def _stop(signum: int, frame: Any) -> None:
    raise StopRequested()


def _retrying() -> Retrying:
    return Retrying(
        retry=retry_if_exception_type((RedisError, WorkerLoopEndedError)),
        wait=wait_exponential(multiplier=1, max=REDIS_RETRY_MAX),
        before_sleep=_say_retrying,
        reraise=True,
    )


def _say_retrying(retry_state: RetryCallState) -> None:
    error = retry_state.outcome.exception() if retry_state.outcome else None
    wait = retry_state.next_action.sleep if retry_state.next_action else 0
    if isinstance(error, RedisError):
        why = redis_unreachable(current_pco(), error)
    else:
        why = "the RQ worker stopped without being asked to (see above)"
    log.warning("flask-pco worker: %s; trying again in %.0f s", why, wait)


def _work(simple: bool, *, burst: bool) -> bool:
    """One RQ worker from start to end: True when it ended as asked, False when it ran a
    while before its loop ended; raises when it could not start or ended at once."""
    started = time.monotonic()
    worker: Any = None
    try:
        worker = make_worker(simple=simple)
        # with_scheduler: retries wait in RQ's scheduled registry; some worker must move them.
        worker.work(burst=burst, with_scheduler=True)
    except RedisError:
        if worker is not None and worker.stop_asked:
            return True
        if burst or time.monotonic() - started < FRESH_AFTER:
            raise
        return False
    finally:
        # RQ stops its pub/sub listener only after telling Redis it leaves; with Redis down
        # that fails, and the listener would retry beside the next worker for ever.
        listener = getattr(worker, "pubsub_thread", None)
        if listener is not None:
            listener.stop()
    if worker.stop_asked or burst:
        return True
    if time.monotonic() - started < FRESH_AFTER:
        raise WorkerLoopEndedError()
    return False


class NightlyCronJob(CronJob):
    """RQ's cron entry for the nightly sync, timed on the church's clock (on a site of many
    churches, one entry per church, its job carrying the church)."""

    def __init__(self, queue_name: str, schedule: Schedule, church: str | None = None) -> None:
        self.schedule = schedule
        self.church = church
        meta: dict[str, Any] = {"time_zone": schedule.time_zone}
        if church is not None:
            meta[ORGANIZATION_META] = church
        super().__init__(
            queue_name,
            func=nightly_sync_job,
            cron=schedule.cron,
            job_timeout=SYNC_JOB_TIMEOUT,
            name=NIGHTLY_JOB_NAME if church is None else f"{NIGHTLY_JOB_NAME} (church {church})",
            meta=meta,
        )

    def get_next_enqueue_time(self) -> datetime:
        return self.schedule.next_run(self.latest_enqueue_time or now())


class NightlyScheduler(CronScheduler):
    """RQ's cron scheduler with the nightly entry kept in step with the admin's setting.

    Create and start it inside the app context (``flask pco scheduler`` does).
    """

    def __init__(self, connection: Any, queue_name: str, **kwargs: Any) -> None:
        super().__init__(connection, **kwargs)
        self.queue_name = queue_name
        self._checking = False
        self._stop_pending = False
        self.register(
            webhook_housekeeping_job,
            queue_name,
            cron=HOUSEKEEPING_CRON,
            name=HOUSEKEEPING_JOB_NAME,
        )

    def enqueue_jobs(self) -> list[CronJob]:
        self._checking = True
        try:
            self.refresh()
            jobs = super().enqueue_jobs()
        finally:
            self._checking = False
        if self._stop_pending:
            raise StopRequested()
        return jobs

    def _request_stop(self, signum: int, frame: Any) -> None:
        # RQ raises StopRequested wherever the signal lands; unwinding through a database
        # or Redis call leaves a broken connection behind, so wait for the check to end.
        if self._checking:
            self.log.info("CronScheduler %s: stopping after this check", self.name)
            self._stop_pending = True
            return
        request_stop(self, signum, frame)

    def nightly_job(self, church: str | None = None) -> NightlyCronJob | None:
        entries = cron_entries(self)
        return next(
            (j for j in entries if isinstance(j, NightlyCronJob) and j.church == church), None
        )

    def refresh(self) -> NightlyCronJob | None:
        """Re-read the setting (each church's, on a site of many); add, move or drop the
        nightly entries to match. Returns the single church's entry."""
        site = current_pco()
        wanted = {}
        for church in each_church(site):
            with use_organization(church):
                wanted[church] = get_schedule()
        site.db.session.remove()  # no transaction held open between checks
        entries = cron_entries(self)
        changed = False
        for job in [j for j in entries if isinstance(j, NightlyCronJob)]:
            if wanted.get(job.church) != job.schedule:
                entries.remove(job)
                changed = True
        for church, schedule in wanted.items():
            if schedule.enabled and self.nightly_job(church) is None:
                name = queue_name(site.for_organization(church))
                job = NightlyCronJob(name, schedule, church)
                entries.append(job)
                changed = True
                self.log.info("nightly sync at %s (next %s)", schedule.cron, job.next_enqueue_time)
        if changed:
            self.save()
        return self.nightly_job()
