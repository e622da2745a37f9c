"""Sync runs: the ``pco_sync_log`` row's life from queued to succeeded, failed or cancelled.

One run at a time per organisation: a partial unique index on the log lets only one top-level
run be queued or running, so a double click, a CLI call and the nightly job can never run two
syncs at once, whatever process they start in. (Stricter than one per sync type on purpose: a
pull and a push running together could both create the same new person.) The steps of a
``full`` run are child rows and do not take the slot.

What a step is handed while a run is in progress (its ``SyncContext`` and the ``RunReporter``
that counts) lives in ``sync/context.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from flask_pco import signals
from flask_pco.exceptions import SyncCancelledError, SyncInProgressError
from flask_pco.models import ACTIVE_TOP_LEVEL, RunStatus, utcnow
from flask_pco.redaction import redact
from flask_pco.sync.announce import send_signal
from flask_pco.sync.runner import this_runner

if TYPE_CHECKING:
    from flask_pco.state import PcoState

__all__ = [
    "ACTIVE",
    "active_run",
    "begin_run",
    "finish_run",
    "mark_abandoned_runs",
    "queue_run",
    "release_run",
    "request_cancel",
    "requeue_run",
    "stale_before",
]

#: Statuses that hold the organisation's single run slot.
ACTIVE = ("queued", "running")


def queue_run(
    state: PcoState,
    sync_type: str,
    direction: str,
    *,
    trigger: str = "cli",
    incremental: bool = False,
    dry_run: bool = False,
    options: dict[str, Any] | None = None,
    parent_id: int | None = None,
) -> Any:
    """Create a queued run row, or raise ``SyncInProgressError`` naming the run that holds the slot."""
    mark_abandoned_runs(state)
    SyncRun = state.models.SyncRun
    run = SyncRun(
        organization=state.organization_key(),
        sync_type=sync_type,
        direction=direction,
        status="queued",
        trigger=trigger,
        incremental=incremental,
        dry_run=dry_run,
        options=options or {},
        parent_id=parent_id,
    )
    _record_runner(run)  # until it starts, the process that will run it or hand it to RQ
    session = state.db.session
    session.add(run)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        holder = active_run(state)
        what = (
            f"{holder.direction} {holder.sync_type} (run {holder.id}, {holder.status})"
            if holder
            else "another run"
        )
        raise SyncInProgressError(
            f"a sync is already in progress: {what}; wait for it or cancel it",
            run_id=holder.id if holder else None,
        ) from None
    return run


def active_run(state: PcoState) -> Any | None:
    """The top-level run holding the organisation's slot, if any: one lookup in the slot's
    partial unique index, cheap enough for the admin page's 3 s poll."""
    SyncRun = state.models.SyncRun
    return state.db.session.scalar(
        select(SyncRun).where(
            SyncRun.organization == state.organization_key(), text(ACTIVE_TOP_LEVEL)
        )
    )


def begin_run(state: PcoState, run: Any, *, resume: bool = False) -> None:
    """Mark a queued run as running; a run cancelled while queued stops here.

    ``resume``: the next slice of a run that began earlier (``sync.slices``): it keeps its
    start time, and nobody is told again that it started.
    """
    state.db.session.refresh(run)
    if run.cancel_requested or run.status == "cancelled":
        finish_run(state, run, "cancelled", "cancelled before it started")
        raise SyncCancelledError("the run was cancelled before it started")
    resume = resume and run.started_at is not None
    run.status = "running"
    run.heartbeat_at = utcnow()
    run.started_at = run.started_at if resume else run.heartbeat_at
    _record_runner(run)
    about = _about(run)
    state.db.session.commit()
    if not about.pop("dry_run") and not resume:
        send_signal(signals.run_started, state.db.session, **about)


def _record_runner(run: Any) -> None:
    """Stamp this process on the run: a work horse (RQ's forked child) records itself."""
    runner = this_runner()
    run.runner_host, run.runner_pid, run.runner_process = runner.host, runner.pid, runner.process


def finish_run(state: PcoState, run: Any, status: RunStatus, error: str | None = None) -> None:
    """Close a run with its final status; the error message is one redacted line, never a
    traceback or a database's values."""
    run.status = status
    run.finished_at = utcnow()
    run.error_message = redact(error)[:2000] if error else error
    about = _about(run)
    counts = {name: getattr(run, name) or 0 for name in _COUNTS}
    state.db.session.commit()
    if not about.pop("dry_run"):
        ended = {"status": status, "counts": counts, "error_message": run.error_message}
        send_signal(signals.run_finished, state.db.session, **about, **ended)


#: The outcomes a run counts, as ``run_finished`` reports them.
_COUNTS = ("created", "updated", "removed", "skipped", "held", "failed")


def _about(run: Any) -> dict[str, Any]:
    """What ``run_started`` and ``run_finished`` say of a run, read before its commit expires it."""
    return {
        "run_id": run.id,
        "sync_type": run.sync_type,
        "direction": run.direction,
        "trigger": run.trigger,
        "parent_id": run.parent_id,
        "dry_run": bool(run.dry_run),
    }


def request_cancel(state: PcoState, run_id: int) -> bool:
    """Ask a run to stop at its next batch boundary; True if it was still active."""
    SyncRun = state.models.SyncRun
    result = state.db.session.execute(
        update(SyncRun)
        .where((SyncRun.id == run_id) | (SyncRun.parent_id == run_id), SyncRun.status.in_(ACTIVE))
        .values(cancel_requested=True)
    )
    state.db.session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def requeue_run(state: PcoState, run: Any, note: str) -> bool:
    """Put a run back in the queue for a retry; False if another run took the slot meanwhile.

    Steps still marked active under it are closed first: their worker is gone, and the retry
    starts them again as new child rows.
    """
    SyncRun = state.models.SyncRun
    session = state.db.session
    note = redact(note)
    session.execute(
        update(SyncRun)
        .where(SyncRun.parent_id == run.id, SyncRun.status.in_(ACTIVE))
        .values(status="failed", finished_at=utcnow(), error_message=note)
    )
    run.status, run.finished_at, run.error_message = "queued", None, note[:2000]
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def stale_before(state: PcoState) -> datetime:
    """A running run whose last heartbeat is older than this has lost its worker."""
    return utcnow() - timedelta(seconds=state.config.run_stale_after)


def mark_abandoned_runs(state: PcoState) -> int:
    """Fail runs whose worker died: running with a heartbeat older than ``PCO_RUN_STALE_AFTER``.

    The cancel flag is raised too, so a worker that was only stalled (not dead) stops at its
    next checkpoint instead of carrying on beside the run that replaces it.
    """
    SyncRun = state.models.SyncRun
    result = state.db.session.execute(
        update(SyncRun)
        .where(SyncRun.status == "running", SyncRun.heartbeat_at < stale_before(state))
        .values(
            status="failed",
            finished_at=utcnow(),
            cancel_requested=True,
            error_message="abandoned: the worker stopped without finishing; the next run resumes safely",
        )
    )
    state.db.session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def release_run(state: PcoState, run: Any, reason: str) -> bool:
    """Fail a run nothing can finish any more, with its active steps, as ``mark_abandoned_runs``
    does; True if it was still active. Only rows still active change, so a run that ended
    meanwhile keeps its outcome."""
    SyncRun = state.models.SyncRun
    result = state.db.session.execute(
        update(SyncRun)
        .where((SyncRun.id == run.id) | (SyncRun.parent_id == run.id), SyncRun.status.in_(ACTIVE))
        .values(status="failed", finished_at=utcnow(), cancel_requested=True, error_message=reason)
    )
    state.db.session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]
