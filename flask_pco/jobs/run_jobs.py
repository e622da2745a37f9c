"""How a run's RQ job is queued: the one place that sets its retries, time-out and metadata,
for a run's first job (``queue``) and for the next slice of a run in slices (``slices``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_pco.jobs.churches import job_meta

if TYPE_CHECKING:
    from rq import Queue, Retry

    from flask_pco.state import PcoState

__all__ = ["SYNC_JOB_TIMEOUT", "enqueue_run_job", "retry_policy"]

#: A full pull of a large church takes minutes, never hours; RQ's default (180 s) is too short.
SYNC_JOB_TIMEOUT = 4 * 3600


def retry_policy() -> Retry:
    """RQ's retries of a job that failed on a retriable error."""
    from rq import Retry

    return Retry(max=3, interval=[10, 30, 60])


def enqueue_run_job(
    state: PcoState, queue: Queue, run: Any, job_id: str, *, resume: bool = False
) -> None:
    """Put ``run``'s job on ``queue`` under ``job_id``; ``resume``: its next slice's."""
    continued = ", continued" if resume else ""
    queue.enqueue(
        "flask_pco.jobs.queue.run_sync_job",  # by name: that module imports this one
        run.id,
        *([True] if resume else []),
        job_id=job_id,
        retry=retry_policy(),
        job_timeout=SYNC_JOB_TIMEOUT,
        description=f"flask-pco {run.direction} {run.sync_type} (run {run.id}{continued})",
        meta=job_meta(state),
    )
