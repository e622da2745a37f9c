"""A full run's parent row stays alive while one of its steps works for a long time."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from flask_pco.extension import current_pco
from flask_pco.models import utcnow
from flask_pco.sync.context import RunReporter
from flask_pco.sync.runs import begin_run, mark_abandoned_runs, queue_run


def test_a_step_checkpoint_keeps_its_parent_run_alive(app: Flask) -> None:
    state = current_pco()
    parent = queue_run(state, "full", "pull")
    begin_run(state, parent)
    step = queue_run(state, "people", "pull", parent_id=parent.id)
    begin_run(state, step)
    long_ago = utcnow() - timedelta(seconds=state.config.run_stale_after + 60)
    parent.heartbeat_at = long_ago  # the step has been busy for longer than the stale limit
    state.db.session.commit()

    RunReporter(state, step).checkpoint(force=True)

    assert mark_abandoned_runs(state) == 0
    state.db.session.refresh(parent)
    assert parent.status == "running"
    assert parent.heartbeat_at > long_ago
