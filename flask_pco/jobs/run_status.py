"""What the admin page and ``flask pco status`` ask about runs: which is current, which came
before, and stopping one. Re-exported by ``flask_pco.jobs.queue``.

A run can only hold the organisation's slot while something can still finish it, so every
look at the current run (a new run, ``flask pco status``, the admin page and its poll) first
releases runs that nothing will finish: at once when the process recorded on the row is gone
from this host (``sync/runner.py``) or its RQ job is dead (ended, missing, or started by a
worker no longer registered), and queued runs whose job is gone (Redis flushed, job deleted);
runs on other hosts are released when their heartbeat goes stale (``PCO_RUN_STALE_AFTER``).
A run whose work horse died while RQ holds its job for a retry is left to that retry.

Asking RQ is advisory: when Redis does not answer, a run is never released on that account
(its job may well be waiting); the database alone decides, and the heartbeat still tells.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from flask_pco.models import utcnow
from flask_pco.state import PcoState, current_pco
from flask_pco.sync.context import counts_text
from flask_pco.sync.runner import process_gone
from flask_pco.sync.runs import (
    ACTIVE,
    active_run,
    mark_abandoned_runs,
    release_run,
    request_cancel,
    requeue_run,
    stale_before,
)

__all__ = [
    "cancel_run",
    "claim_run",
    "counts_text",
    "current_run",
    "elapsed_seconds",
    "looks_lost",
    "lost_reason",
    "progress_line",
    "recent_runs",
    "release_lost_runs",
    "summary_line",
]

log = logging.getLogger(__name__)

ABANDONED = "abandoned: the worker stopped without finishing; the next run resumes safely"
QUEUED_LOST = "lost: its job is no longer queued; start it again"
# RQ and Redis are imported only where a run has a job: a run of this process without Redis
# (the CLI's) never loads them. The statuses are ``rq.job.JobStatus`` values.
#: RQ job statuses of a job that will run (again): a run whose process died is not lost.
WAITING = ("queued", "scheduled", "deferred")
#: RQ job statuses after which the job never runs again.
ENDED = ("finished", "failed", "canceled", "stopped")


def cancel_run(run_id: int | None = None) -> bool:
    """Cancel a run (default: the current one); True if it was still queued or running.

    A queued run is closed at once and its job dropped; a running one stops at its next
    checkpoint, keeping every batch it committed.
    """
    state = current_pco()
    session = state.db.session
    run = current_run() if run_id is None else session.get(state.models.SyncRun, run_id)
    if run is None or run.status not in ACTIVE:
        return False
    request_cancel(state, run.id)
    SyncRun = state.models.SyncRun
    closed = session.execute(  # only if no worker has begun it meanwhile
        update(SyncRun)
        .where(SyncRun.id == run.id, SyncRun.status == "queued")
        .values(status="cancelled", finished_at=utcnow(), error_message="cancelled by an admin")
    )
    session.commit()
    if closed.rowcount and run.job_id:  # type: ignore[attr-defined]
        _drop_job(state, run.job_id)
    return True


def _drop_job(state: PcoState, job_id: str) -> None:
    """Take a cancelled run's job off the queue; if Redis does not answer, the job stays and
    does nothing when a worker takes it (``run_sync_job`` claims only queued runs)."""
    redis = state.redis()
    if redis is None:
        return
    from redis.exceptions import RedisError
    from rq.exceptions import InvalidJobOperation, NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        with suppress(NoSuchJobError, InvalidJobOperation):
            job = Job.fetch(job_id, connection=redis)
            if job.get_status() != JobStatus.STARTED:
                job.cancel()
    except RedisError as error:
        log.info("flask-pco: job %s stays queued and will be skipped: %s", job_id, error)


def current_run() -> Any | None:
    """The run holding the organisation's slot, after clearing runs whose worker is gone."""
    state = current_pco()
    release_lost_runs(state)
    return active_run(state)


def recent_runs(limit: int = 20) -> list[Any]:
    """The latest top-level runs, newest first (steps of a ``full`` run are left out)."""
    state = current_pco()
    SyncRun = state.models.SyncRun
    query = (
        select(SyncRun)
        .where(SyncRun.organization == state.organization_key(), SyncRun.parent_id.is_(None))
        .order_by(SyncRun.id.desc())
        .limit(limit)
    )
    return list(state.db.session.scalars(query))


def claim_run(state: PcoState, run_id: int, job_id: str | None = None) -> Any | None:
    """The run RQ job ``job_id`` is to run now, or None: it ended, or another job carries it
    on (a run in slices goes on under its next slice's job id, ``jobs.slices``)."""
    run = state.db.session.get(state.models.SyncRun, run_id)
    if run is None or (job_id is not None and run.job_id not in (None, job_id)):
        return None
    if run.status == "running":
        # RQ retried a job whose worker died mid-run; committed work is kept and skipped.
        return run if requeue_run(state, run, "resumed after its worker stopped") else None
    return run if run.status == "queued" else None


def release_lost_runs(state: PcoState) -> None:
    """Fail runs that can never finish: stale heartbeats, runs whose process is gone on this
    host or whose RQ job is dead, and queued runs whose job is gone."""
    mark_abandoned_runs(state)
    run = active_run(state)
    reason = lost_reason(state, run) if run is not None else None
    if reason is not None:
        release_run(state, run, reason)


def looks_lost(state: PcoState, run: Any) -> bool:
    """Whether ``release_lost_runs`` would close the active ``run``, judged from the row already
    read (and this host's processes, and Redis for RQ runs), so a poll only writes when there
    is something to close."""
    return lost_reason(state, run) is not None


def lost_reason(state: PcoState, run: Any) -> str | None:
    """Why nothing can finish ``run`` any more (the message it is closed with), or None."""
    if run.status == "running":
        if run.heartbeat_at is not None and run.heartbeat_at < stale_before(state):
            return ABANDONED
        return _running_run_lost(state, run)
    if run.status == "queued":
        return _queued_run_lost(state, run)
    return None


def _running_run_lost(state: PcoState, run: Any) -> str | None:
    gone = process_gone(run.runner_host, run.runner_pid, run.runner_process)
    if gone is False:
        return None
    job = _job(state, run.job_id) if run.job_id else None
    if gone:
        if job is not None and (job.status in WAITING or job is UNKNOWN):
            # RQ retries the job (its horse died), or may: Redis cannot say. The retry resumes
            # this run; if none comes, the heartbeat goes stale.
            return None
        where = f"pid {run.runner_pid} on {run.runner_host}"
        return f"abandoned: its process ({where}) is gone; the next run resumes safely"
    if job is not None and job.dead:
        return f"abandoned: its RQ job {run.job_id} is {job.status}; the next run resumes safely"
    return None  # on another host: the heartbeat tells


def _queued_run_lost(state: PcoState, run: Any) -> str | None:
    if run.job_id is None:  # a thread or an inline run that never began
        gone = process_gone(run.runner_host, run.runner_pid, run.runner_process)
        stale = utcnow() - run.queued_at > timedelta(seconds=state.config.run_stale_after)
        return QUEUED_LOST if gone or stale else None
    job = _job(state, run.job_id)
    return QUEUED_LOST if job is not None and job.dead else None


@dataclass(frozen=True, slots=True)
class _JobState:
    """What RQ says of a run's job: its status ("missing" once Redis no longer has it)."""

    status: str
    #: Nothing will run it any more: ended, missing, or started by a worker that is gone.
    dead: bool


#: What RQ says when Redis does not answer: nothing, so nothing is concluded.
UNKNOWN = _JobState("unknown", dead=False)


def _job(state: PcoState, job_id: str) -> _JobState | None:
    """The job as RQ sees it: None without Redis, ``UNKNOWN`` when Redis does not answer."""
    redis = state.redis()
    if redis is None:
        return None
    from redis.exceptions import RedisError
    from rq import Worker
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        job = Job.fetch(job_id, connection=redis)
        status = job.get_status()
        if status == JobStatus.STARTED:
            worker = job.worker_name and Worker.find_by_key(
                Worker.redis_worker_namespace_prefix + job.worker_name, connection=redis
            )
            return _JobState(status.value, dead=not worker)
    except NoSuchJobError:
        return _JobState("missing", dead=True)
    except RedisError:
        return UNKNOWN
    return _JobState(status.value, dead=status in ENDED)


def elapsed_seconds(run: Any) -> float:
    """Seconds from start to finish (or to now, while it runs)."""
    if run.started_at is None:
        return 0.0
    end = run.finished_at or utcnow().replace(tzinfo=None)
    return max(float((end - run.started_at).total_seconds()), 0.0)


def progress_line(run: Any) -> str:
    """One line for a running sync: what it is doing now and what it has done."""
    step = run.current_step or run.status
    return (
        f"{run.direction} {run.sync_type} [{step}] {counts_text(run)}, {elapsed_seconds(run):.0f}s"
    )


def summary_line(run: Any) -> str:
    """The line printed when a run ends."""
    dry = " (dry run: nothing written)" if run.dry_run else ""
    return f"{run.direction} {run.sync_type} {run.status}: {counts_text(run)}, {elapsed_seconds(run):.1f}s{dry}"
