"""The job layer: every pull, push and webhook application as an RQ job, the workers that run
them, the schedule, and the run status the admin page and the CLI read.

It may import ``sync`` and everything below it; it never imports ``web`` or the CLI. It is the
only layer that talks to the queue: ``sync`` decides and writes, and leaves enqueuing to here.
"""

from __future__ import annotations

# What hosts have imported from ``flask_pco.jobs`` (a module before it was a package).
from flask_pco.jobs.queue import (
    MODES,
    Schedule,
    apply_webhook_job,
    cancel_run,
    current_run,
    enqueue_webhook,
    get_schedule,
    nightly_sync_job,
    recent_runs,
    run_sync_job,
    set_schedule,
    start_sync,
    sync_queue,
    webhook_housekeeping_job,
)

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
]
