"""What the admin page and ``flask pco status`` ask about runs: which is current, which came
before, and stopping one. Re-exported by ``flask_pco.jobs``.

A run can only hold the organisation's slot while something can still finish it, so every
look at the current run first clears runs whose worker died (stale heartbeat) and queued runs
whose RQ job is gone (Redis flushed, job deleted).
"""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta
from typing import Any

from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select, update

from .extension import PcoState, current_pco
from .models import utcnow
from .sync.runs import (
    ACTIVE,
    active_run,
    counts_text,
    finish_run,
    mark_abandoned_runs,
    request_cancel,
    stale_before,
)

__all__ = [
    "cancel_run",
    "counts_text",
    "current_run",
    "elapsed_seconds",
    "looks_lost",
    "progress_line",
    "recent_runs",
    "release_lost_runs",
    "summary_line",
]


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
    redis = state.redis()
    if redis is None:
        return
    with suppress(NoSuchJobError, InvalidJobOperation):
        job = Job.fetch(job_id, connection=redis)
        if job.get_status() != JobStatus.STARTED:
            job.cancel()


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
        .where(SyncRun.organization == state.config.organization_key, SyncRun.parent_id.is_(None))
        .order_by(SyncRun.id.desc())
        .limit(limit)
    )
    return list(state.db.session.scalars(query))


def release_lost_runs(state: PcoState) -> None:
    """Fail runs that can never finish: stale heartbeats, and queued runs whose job is gone."""
    mark_abandoned_runs(state)
    run = active_run(state)
    if run is not None and run.status == "queued" and _queued_run_is_lost(state, run):
        finish_run(state, run, "failed", "lost: its job is no longer queued; start it again")


def looks_lost(state: PcoState, run: Any) -> bool:
    """Whether ``release_lost_runs`` would close the active ``run``, judged from the row already
    read (and Redis for a queued job), so a poll only writes when there is something to close."""
    if run.status == "running":
        return run.heartbeat_at is not None and run.heartbeat_at < stale_before(state)
    return run.status == "queued" and _queued_run_is_lost(state, run)


def _queued_run_is_lost(state: PcoState, run: Any) -> bool:
    if run.job_id is None:  # a thread or an inline run that never began
        return bool(utcnow() - run.queued_at > timedelta(seconds=state.config.run_stale_after))
    return _job_is_gone(state, run.job_id)


def _job_is_gone(state: PcoState, job_id: str) -> bool:
    redis = state.redis()
    if redis is None:
        return False
    try:
        status = Job.fetch(job_id, connection=redis).get_status()
    except NoSuchJobError:
        return True
    return status in (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.STOPPED)


def elapsed_seconds(run: Any) -> float:
    """Seconds from start to finish (or to now, while it runs)."""
    if run.started_at is None:
        return 0.0
    end = run.finished_at or utcnow().replace(tzinfo=None)
    return max((end - run.started_at).total_seconds(), 0.0)


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
