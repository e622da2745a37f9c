"""The job layer: every pull, push and webhook application as an RQ job, the workers that run
them, the schedule, and the run status the admin page and the CLI read.

It may import ``sync`` and everything below it; it never imports ``web`` or the CLI. It is the
only layer that talks to the queue: ``sync`` decides and writes, and leaves enqueuing to here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# What hosts have imported from ``flask_pco.jobs`` (a module before it was a package), read from
# ``jobs.queue`` on first use: importing it loads the sync engine and the PCO client, which a
# command importing one small module of this package (``flask pco status``) has no use for.
if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    """``flask_pco.jobs.start_sync`` and the rest: imported from ``jobs.queue`` when asked."""
    if name in __all__:
        return getattr(importlib.import_module("flask_pco.jobs.queue"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
