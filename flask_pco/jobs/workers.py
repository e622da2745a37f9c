"""The long-running processes: RQ workers and the nightly cron scheduler, inside the app.

``flask --app yourapp pco worker`` runs an ``AppWorker`` (any number, on any machines sharing
Redis and the database); ``flask --app yourapp pco scheduler`` runs one ``NightlyScheduler``
(the nightly sync, and hourly webhook housekeeping). Both run inside the Flask app, so jobs
find their configuration through ``current_app``.
"""

from __future__ import annotations

import gc
import importlib
from datetime import datetime
from typing import Any

from rq import Queue, SimpleWorker, Worker
from rq.cron import CronJob, CronScheduler
from rq.exceptions import StopRequested
from rq.job import Job
from rq.utils import now
from rq.worker import BaseWorker
from sqlalchemy.orm import configure_mappers

from flask_pco.jobs.queue import (
    SYNC_JOB_TIMEOUT,
    nightly_sync_job,
    sync_queue,
    webhook_housekeeping_job,
)
from flask_pco.jobs.rq_internals import cron_entries, request_stop
from flask_pco.jobs.schedule import NIGHTLY_JOB_NAME, Schedule, get_schedule
from flask_pco.state import current_pco

__all__ = ["AppWorker", "NightlyCronJob", "NightlyScheduler", "make_worker", "prepare_to_fork"]

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


class AppWorker(Worker):
    """RQ's forking worker, run inside the Flask app; each work horse starts with fresh
    database and PCO connections instead of sharing the parent's sockets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        prepare_to_fork()

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        state = current_pco()
        for engine in state.db.engines.values():
            engine.dispose(close=False)
        state.cache.pop("client", None)
        # The horse lives for one job and inherits the worker's heap (the app and its modules,
        # ~140,000 objects) that will not become garbage before it exits. Frozen, they are left
        # out of the collector's full passes: a first pull of 50,000 people made ~60 of them,
        # ~100 ms each, re-reading those objects every time.
        gc.freeze()
        super().main_work_horse(job, queue)


def make_worker(*, simple: bool = False) -> BaseWorker:
    """A worker for the flask-pco queue, to run inside the app context."""
    queue = sync_queue()
    worker_class = SimpleWorker if simple else AppWorker
    return worker_class([queue], connection=queue.connection)


class NightlyCronJob(CronJob):
    """RQ's cron entry for the nightly sync, timed on the church's clock."""

    def __init__(self, queue_name: str, schedule: Schedule) -> None:
        self.schedule = schedule
        super().__init__(
            queue_name,
            func=nightly_sync_job,
            cron=schedule.cron,
            job_timeout=SYNC_JOB_TIMEOUT,
            name=NIGHTLY_JOB_NAME,
            meta={"time_zone": schedule.time_zone},
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

    def nightly_job(self) -> NightlyCronJob | None:
        return next((j for j in cron_entries(self) if isinstance(j, NightlyCronJob)), None)

    def refresh(self) -> NightlyCronJob | None:
        """Re-read the setting; add, move or drop the nightly entry to match it."""
        schedule = get_schedule()
        current_pco().db.session.remove()  # no transaction held open between checks
        job = self.nightly_job()
        if job is not None and job.schedule == schedule:
            return job
        if job is not None:
            cron_entries(self).remove(job)
        job = NightlyCronJob(self.queue_name, schedule) if schedule.enabled else None
        if job is not None:
            cron_entries(self).append(job)
            self.log.info("nightly sync at %s (next %s)", schedule.cron, job.next_enqueue_time)
        self.save()
        return job
