"""The RQ internals flask-pco leans on, named in one place and checked when imported.

RQ offers no public hook for these. Each is used through this module only, and a change in RQ
fails here, at import, saying what changed (``tests/jobs/test_rq_internals.py`` checks the
behaviour as well), rather than leaving a scheduler that ignores how it is told to stop or a
webhook batch that never finds a waiting job.
"""

from __future__ import annotations

from typing import Any

import rq
from rq import Queue
from rq.cron import CronJob, CronScheduler
from rq.registry import StartedJobRegistry

__all__ = [
    "RqChangedError",
    "cron_entries",
    "ordered_queues",
    "request_stop",
    "started_jobs_key",
    "waiting_jobs_key",
]


class RqChangedError(ImportError):
    """The installed RQ no longer has an internal flask-pco relies on."""


def _require(present: bool, what: str) -> None:
    if not present:
        raise RqChangedError(
            f"flask-pco relies on {what}, which RQ {rq.__version__} does not have; install the "
            "RQ version pyproject.toml names, or update flask_pco/jobs/rq_internals.py"
        )


_require(
    callable(getattr(CronScheduler, "_request_stop", None)),
    "CronScheduler._request_stop (the handler of SIGINT/SIGTERM)",
)


def request_stop(scheduler: CronScheduler, signum: int, frame: Any) -> None:
    """RQ's own reaction to a stop signal (raise ``StopRequested`` where the signal lands)."""
    CronScheduler._request_stop(scheduler, signum, frame)  # type: ignore[no-untyped-call]


def cron_entries(scheduler: CronScheduler) -> list[CronJob]:
    """The scheduler's registered entries, to add, move or drop one in place."""
    entries = getattr(scheduler, "_cron_jobs", None)
    _require(isinstance(entries, list), "CronScheduler._cron_jobs (the list of its entries)")
    return entries  # type: ignore[return-value]


def waiting_jobs_key(queue: Queue) -> str:
    """The Redis list of the ids of the jobs waiting in ``queue``: LREM takes one off it
    atomically, so one job is taken by one batch."""
    return str(queue.key)


_require(
    isinstance(getattr(StartedJobRegistry, "key_template", None), str),
    "StartedJobRegistry.key_template (the key of the jobs a queue's workers run)",
)


def started_jobs_key(queue_name: str) -> str:
    """The Redis sorted set of the jobs workers are running from the queue ``queue_name``,
    each scored with when its worker's heartbeat runs out (a dead worker's, soon after)."""
    return StartedJobRegistry.key_template.format(queue_name)


def ordered_queues(worker: Any) -> list[Queue]:
    """The queues a worker dequeues from, in the order it looks at them now (round-robin
    rotates it): a queue added to ``worker.queues`` must be added here too."""
    queues = getattr(worker, "_ordered_queues", None)
    _require(isinstance(queues, list), "BaseWorker._ordered_queues (the queues in dequeue order)")
    return queues  # type: ignore[return-value]
