"""Small real sync steps for exercising the job machinery without PCO data.

They do what real steps do at the edges the jobs care about: count outcomes, checkpoint at
batch boundaries, and raise the error classes of ``flask_pco.exceptions``.
"""

from __future__ import annotations

import gc
import os
import time
from collections import Counter

from flask_pco.exceptions import AuthenticationError, TransportError
from flask_pco.sync.context import SyncContext

#: Attempts per run id, so a flaky step can fail a set number of times and then succeed.
ATTEMPTS: Counter[int] = Counter()


def count_records(ctx: SyncContext) -> None:
    """Counts ``options["records"]`` (default 3) created records, one batch each."""
    for _ in range(int(ctx.options.get("records", 3))):
        ctx.report.count("created")
        ctx.report.checkpoint(force=True)


def fail_then_succeed(ctx: SyncContext) -> None:
    """Raises a retriable TransportError for the first ``options["failures"]`` attempts."""
    run_id = ctx.report.run.id
    ATTEMPTS[run_id] += 1
    ctx.report.count("updated")
    ctx.report.checkpoint(force=True)
    if ATTEMPTS[run_id] <= int(ctx.options.get("failures", 1)):
        raise TransportError("timed out talking to PCO")


def refuse_credentials(ctx: SyncContext) -> None:
    raise AuthenticationError(401, [{"title": "Unauthorized", "detail": "bad app id or secret"}])


def tick_slowly(ctx: SyncContext) -> None:
    """``options["ticks"]`` batches of ``options["pause"]`` seconds each, checkpointing after each.

    ``SLOW_STEP_TICKS`` in the environment sets the default, for runs started from the CLI.
    """
    ticks = ctx.options.get("ticks", os.environ.get("SLOW_STEP_TICKS", 5))
    for _ in range(int(ticks)):
        time.sleep(float(ctx.options.get("pause", 0.02)))
        ctx.report.count("updated")
        ctx.report.checkpoint(force=True)


def count_frozen_heap(ctx: SyncContext) -> None:
    """Counts one created record if the process runs with a frozen heap (a work horse does)."""
    ctx.report.count("created", 1 if gc.get_freeze_count() else 0)
    ctx.report.checkpoint(force=True)


#: (direction, sync type) -> step, registered by the tests' fixture and the worker app.
TEST_STEPS = {
    ("pull", "counting"): count_records,
    ("pull", "frozen-heap"): count_frozen_heap,
    ("pull", "flaky"): fail_then_succeed,
    ("pull", "locked-out"): refuse_credentials,
    ("pull", "slow"): tick_slowly,
    ("push", "counting"): count_records,
}
