"""Background jobs: every pull, push and webhook application runs as an RQ job.

The admin page and the CLI call ``start_sync``; it takes the organisation's single run slot
(``queue_run``) and then, by ``mode``:

* ``"enqueue"``: hands ``run_sync_job(run_id)`` to the RQ workers under the deterministic job id
  ``pco-{organization}-{direction}-{sync_type}`` (RQ allows no ``:``), with
  ``Retry(max=3, interval=[10, 30, 60])``;
* ``"inline"``: runs it now, in this process, and returns when it has ended;
* ``"thread"``: runs it in a daemon thread of this process with its own app context. The CLI
  uses it to draw progress while the run works; a web process without ``PCO_REDIS_URL`` gets
  it from ``"auto"`` (the run dies with the process; the next look at the slot sees that the
  process recorded on the run is gone, releases the run, and the next run resumes);
* ``"auto"``: ``"enqueue"`` with Redis, ``"thread"`` without.

Jobs find the app through ``current_app`` (workers run in it) and their church in the job's
meta. Retriable errors (timeouts, 5xx, 429) are retried by RQ with backoff; fatal ones are not.
"""

from __future__ import annotations

import logging
import re
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Literal, get_args

from flask import has_app_context

from flask_pco.exceptions import (
    ConfigError,
    PcoError,
    SyncCancelledError,
    SyncInProgressError,
    TransportError,
)
from flask_pco.jobs.churches import each_church, job_meta
from flask_pco.jobs.outage import redis_down_message
from flask_pco.jobs.run_jobs import enqueue_run_job, retry_policy
from flask_pco.jobs.run_status import (
    cancel_run,
    claim_run,
    current_run,
    recent_runs,
    release_lost_runs,
)
from flask_pco.jobs.schedule import Schedule, get_schedule, set_schedule
from flask_pco.jobs.threads import in_thread, run_in_thread
from flask_pco.models import Direction, Roles
from flask_pco.redaction import first_line, raise_redacted, redact
from flask_pco.state import PcoState, current_pco
from flask_pco.sync.engine import execute_run, require_roles, sync_types
from flask_pco.sync.engine import offered as step_offered
from flask_pco.sync.runs import ACTIVE, finish_run, queue_run, requeue_run
from flask_pco.sync.selection import check_selection
from flask_pco.sync.slices import SliceEnded
from flask_pco.tenancy import use_organization

if TYPE_CHECKING:
    from rq import Queue

# RQ and Redis are imported where a job is queued or run: a sync in this process without
# Redis (the CLI, a site without workers) never loads them.

__all__ = [
    "MODES",
    "Schedule",
    "apply_webhook_job",
    "cancel_run",
    "current_run",
    "enqueue_webhook",
    "get_schedule",
    "nightly_sync_job",
    "recent_runs",
    "run_sync_job",
    "set_schedule",
    "start_sync",
    "sync_queue",
    "webhook_housekeeping_job",
    "webhook_queue",
]

log = logging.getLogger(__name__)

#: Where a run runs (see the module docstring).
Mode = Literal["auto", "enqueue", "inline", "thread"]
MODES: tuple[Mode, ...] = get_args(Mode)


def start_sync(
    direction: Direction,
    sync_type: str,
    *,
    incremental: bool = False,
    dry_run: bool = False,
    options: dict[str, Any] | None = None,
    trigger: str = "admin",
    mode: Mode = "auto",
) -> Any:
    """Start a sync; raise ``SyncInProgressError`` naming the run that already holds the slot.

    A list or group id on a sync that does not take it, or one that is not a PCO id, is refused
    with a ``ConfigError`` before anything is written (``sync.selection``).
    """
    state = current_pco()
    require_roles(state.roles, direction, sync_type)
    check_sync_type(direction, sync_type, state.roles)
    options = check_selection(direction, sync_type, options)
    mode = _resolve_mode(state, mode)
    release_lost_runs(state)
    run = queue_run(
        state,
        sync_type,
        direction,
        trigger=trigger,
        incremental=incremental,
        dry_run=dry_run,
        options=options,
    )
    if mode == "enqueue":
        _enqueue_run(state, run)
    elif mode == "thread":
        run_in_thread(run.id, in_thread(_execute, run.id))
    else:
        with use_organization(state.organization):  # a host's own view may start it
            _execute(run.id)
    return run


def check_sync_type(direction: str, sync_type: str, roles: Roles | None = None) -> None:
    """Refuse a sync nobody registered, listing the ones that exist (for ``roles``: the
    ones its models allow)."""
    offered = [
        t for t in sync_types(direction) if roles is None or step_offered(roles, direction, t)
    ]
    if sync_type not in offered:
        valid = ", ".join(offered) or f"none yet (no {direction} steps are installed)"
        raise ConfigError(f"unknown {direction} sync {sync_type!r}; valid: {valid}")


def _resolve_mode(state: PcoState, mode: str) -> Mode:
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}; valid: {', '.join(MODES)}")
    redis = state.redis()
    if mode == "auto":
        return "enqueue" if redis is not None else "thread"
    if mode == "enqueue" and redis is None:
        raise ConfigError("PCO_REDIS_URL is not set: workers need Redis; run the sync inline")
    return mode


def sync_queue(state: PcoState | None = None) -> Queue:
    """The RQ queue of the church's runs: ``PCO_QUEUE``, or its own on a site of many
    (``flask_pco.jobs.church_queues``)."""
    from flask_pco.jobs.church_queues import open_queue

    return open_queue(state or current_pco())


def webhook_queue(state: PcoState | None = None) -> Queue:
    """The RQ queue of the church's webhook deliveries, which workers serve before runs."""
    from flask_pco.jobs.church_queues import open_queue

    return open_queue(state or current_pco(), webhooks=True)


def job_id_for(*parts: str) -> str:
    """A deterministic RQ job id: ``pco-{organization}-{direction}-{sync_type}``.

    RQ allows only letters, digits, ``_`` and ``-`` in ids, so anything else becomes ``_``.
    """
    return "-".join(re.sub(r"[^A-Za-z0-9_-]", "_", part) for part in ("pco", *parts))


def _enqueue_run(state: PcoState, run: Any) -> None:
    from redis.exceptions import RedisError
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    queue = sync_queue(state)
    job_id = job_id_for(run.organization, run.direction, run.sync_type)
    try:
        # The slot is ours, so any job left under this id belongs to a closed run.
        with suppress(NoSuchJobError):
            Job.fetch(job_id, connection=queue.connection).delete()
        enqueue_run_job(state, queue, run, job_id)
    except Exception as error:
        finish_run(state, run, "failed", f"could not queue the job: {error}")
        if isinstance(error, RedisError):
            raise TransportError(redis_down_message(state, error)) from error
        raise
    run.job_id = job_id
    state.db.session.commit()


def _execute(run_id: int, slicer: Any = None, *, resume: bool = False) -> str:
    """Run one queued run to its end (or its slice's: ``SliceEnded``); whatever else happens,
    the row does not stay active."""
    state = current_pco()
    run: Any = state.db.session.get(state.models.SyncRun, run_id)
    try:
        execute_run(state, run, state.client(), slicer=slicer, resume=resume)
    except SyncCancelledError:
        return "cancelled"
    except SliceEnded:
        raise
    except Exception as error:
        state.db.session.rollback()
        if run.status in ACTIVE:  # failed before the run began, e.g. no credentials
            finish_run(state, run, "failed", str(error).splitlines()[0] if str(error) else "failed")
        raise
    finally:
        _alert(state)
    return str(run.status)


def _alert(state: PcoState) -> None:
    """Tell a person what the run changed about the sync's health (``PCO_ALERT_*``); an
    alert that cannot be worked out never hides how the run itself ended."""
    try:
        state.db.session.rollback()
        if not state.config.has_alerts:
            return  # checked here too: a site without alerts never loads the health report
        # Loaded on first use: health reads most of sync/, which a process that only queues a
        # job (the CLI's --enqueue, the web process) need not import.
        from flask_pco.jobs.alerts import check_alerts

        check_alerts(state)
    except Exception as error:
        state.db.session.rollback()
        log.warning("flask-pco could not check alerts: %s", redact(error))


def run_sync_job(run_id: int, resume: bool = False) -> str:
    """RQ job: run one queued sync; a retriable failure goes back to the queue for RQ's retry.
    A church's run on a site of many goes in slices, ``resume`` set on the later ones
    (``jobs.slices``)."""
    from rq import get_current_job

    from flask_pco.jobs.slices import continue_later, slicer_for

    state, job = _job_state(), get_current_job()
    run = claim_run(state, run_id, job.id if job is not None else None)
    if run is None:
        return "skipped: the run is no longer queued, or another job carries it on"
    slicer = slicer_for(state, run_id) if job is not None else None
    one_job = run.sync_type == "full" or run.dry_run  # never sliced (``execute_run``)
    if slicer is not None and not one_job and slicer.wait_first():
        return continue_later(state, run_id, slicer.rest, slicer.reason, resume=resume)
    try:
        outcome = _execute(run_id, slicer, resume=resume)
    except SliceEnded:
        rest, reason = (slicer.rest, slicer.reason) if slicer else (0.0, "")
        return continue_later(state, run_id, rest, reason)
    except Exception as error:
        retriable = isinstance(error, PcoError) and error.retriable
        if retriable and job is not None and job.retries_left:
            requeue_run(state, run, f"will retry ({job.retries_left} left) after: {error}")
        else:
            _stop_retries()
        raise_redacted(error)
    if slicer is not None:
        slicer.forget()  # the run has ended: what its slices carried goes with it
    return outcome


def _stop_retries() -> None:
    """Keep RQ from retrying the current job: a fatal error (credentials, configuration) or a
    bug will fail the same way again, and the sync log already says why."""
    from rq import get_current_job

    job = get_current_job()
    if job is not None:
        job.retries_left = 0


def _job_state() -> PcoState:
    if not has_app_context():
        raise ConfigError(
            "flask-pco jobs run inside the Flask app: start workers with "
            "`flask --app yourapp pco worker`, not `rq worker`"
        )
    return current_pco()


def apply_webhook_job(delivery_id: int) -> Any:
    """RQ job: apply one stored webhook delivery, then others whose jobs still wait in the queue.

    A forked work horse costs more to start than a delivery costs to apply, so in a burst one
    job applies up to ``PCO_WEBHOOK_BATCH`` deliveries (see ``flask_pco.jobs.webhook_batch``). A job whose
    delivery is already finished does nothing more for it. Returns its own delivery's status.
    """
    state = _job_state()
    from rq import get_current_job

    from flask_pco.sync.webhooks.events import apply_delivery
    from flask_pco.sync.webhooks.prefetch import people_batch

    job = get_current_job()
    try:
        with people_batch():  # a burst's people come from one listing (``prefetch``)
            status = apply_delivery(state, delivery_id)
            if job is not None:
                from flask_pco.jobs.webhook_batch import apply_more_deliveries

                apply_more_deliveries(state, job.id)
    except Exception as error:
        if not (isinstance(error, PcoError) and error.retriable):
            _stop_retries()
        raise_redacted(error)
    return status


def webhook_job_id(state: PcoState, delivery_id: int | str) -> str:
    """The RQ job id of a delivery: one job per delivery, whoever queues it."""
    return job_id_for(state.organization_key(), "webhook", str(delivery_id))


def enqueue_webhook(delivery_id: int, *, mode: Mode = "auto") -> None:
    """Apply a stored delivery in the background: an RQ job with Redis, else a thread."""
    state = current_pco()
    mode = _resolve_mode(state, mode)
    if mode == "enqueue":
        queue = webhook_queue(state)
        job_id = webhook_job_id(state, delivery_id)
        if not is_pending(queue, job_id):  # PCO's duplicate delivery of a queued event
            queue.enqueue(
                apply_webhook_job,
                delivery_id,
                job_id=job_id,
                retry=retry_policy(),
                meta=job_meta(state),
            )
    elif mode == "thread":
        in_thread(apply_webhook_job, delivery_id)
    else:
        with use_organization(state.organization):
            apply_webhook_job(delivery_id)


def is_pending(queue: Queue, job_id: str) -> bool:
    """Whether the job waits in the queue or runs now (a duplicate would apply twice)."""
    from rq.exceptions import InvalidJobOperation, NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        status = Job.fetch(job_id, connection=queue.connection).get_status()
    except (NoSuchJobError, InvalidJobOperation):  # gone, or going (Redis flushed meanwhile)
        return False
    return status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED)


def nightly_sync_job() -> str:
    """RQ cron job: start the nightly incremental full pull, if the admin still wants it."""
    _job_state()
    if not get_schedule().enabled:
        return "skipped: the nightly sync is switched off"
    try:
        run = start_sync("pull", "full", incremental=True, trigger="nightly")
    except SyncInProgressError as error:
        return f"skipped: {error}"
    return f"started run {run.id}"


def webhook_housekeeping_job() -> str:
    """RQ cron job (hourly): mend the PCO subscriptions (PCO silently disables one that keeps
    failing), retry failed webhook deliveries, catch up if deliveries stopped, prune the change
    journal; on a site of many churches, for each connected church in turn."""
    site = _job_state()
    said = []
    for church in each_church(site):
        with use_organization(church):
            try:
                line = _housekeeping(current_pco())
            except PcoError as error:  # one church's lost connection stops no other
                line = f"failed: {first_line(error)}"
        said.append(line if church is None else f"church {church}: {line}")
    return "; ".join(said)


def _housekeeping(state: PcoState) -> str:
    from flask_pco.jobs.webhooks import webhook_housekeeping

    result = webhook_housekeeping(state)
    _alert(state)  # a stale schedule is noticed even when nothing runs
    if result.connection_refused:
        return f"skipped: {result.connection_refused}"
    catch_up = "; catch-up pull queued" if result.catch_up_queued else ""
    checked = result.subscriptions
    mended = (
        f"; {len(checked.repaired)} subscriptions mended" if checked and checked.repaired else ""
    )
    broken = f", {len(checked.unrepaired)} could not be" if checked and checked.unrepaired else ""
    pruned = f"; {result.journal_pruned} journal entries pruned" if result.journal_pruned else ""
    return f"{result.deliveries_retried} deliveries applied again{catch_up}{mended}{broken}{pruned}"
