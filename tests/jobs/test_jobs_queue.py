"""Sync runs as RQ jobs on real Redis, worked by an in-process burst worker."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from rq.job import Job, JobStatus
from sqlalchemy import select

from flask_pco.exceptions import ConfigError, SyncInProgressError
from flask_pco.extension import current_pco
from flask_pco.jobs.queue import cancel_run, current_run, recent_runs, start_sync, sync_queue
from flask_pco.models import utcnow

from .conftest import reload

pytestmark = pytest.mark.usefixtures("test_steps")


def enqueue(sync_type: str = "counting", **kwargs: Any) -> Any:
    return start_sync("pull", sync_type, mode="enqueue", trigger="cli", **kwargs)


def rq_job(run: Any) -> Job:
    return Job.fetch(run.job_id, connection=sync_queue().connection)


def test_enqueued_sync_runs_in_a_worker_and_updates_the_sync_log(
    redis_app: Flask, work: Any
) -> None:
    run = enqueue(options={"records": 4})
    assert run.status == "queued"
    work()
    run = reload(run)
    assert (run.status, run.created, run.error_message) == ("succeeded", 4, None)
    assert run.started_at is not None and run.finished_at is not None
    assert run.heartbeat_at is not None


def test_job_id_names_the_organisation_direction_and_sync_type(redis_app: Flask) -> None:
    run = enqueue()
    assert run.job_id == "pco-test-app-id-pull-counting"
    assert rq_job(run).args == (run.id,)


def test_second_start_is_refused_and_told_which_run_is_in_progress(redis_app: Flask) -> None:
    first = enqueue()
    with pytest.raises(SyncInProgressError, match=rf"pull counting \(run {first.id}, queued\)"):
        start_sync("push", "counting", mode="enqueue")
    assert len(sync_queue()) == 1


def test_slot_is_free_again_once_the_run_finished(redis_app: Flask, work: Any) -> None:
    enqueue()
    work()
    second = enqueue(sync_type="slow", options={"ticks": 1})
    work()
    assert reload(second).status == "succeeded"


def test_retriable_error_puts_the_run_back_in_the_queue_for_a_retry(
    redis_app: Flask, work: Any
) -> None:
    run = enqueue(sync_type="flaky", options={"failures": 1})
    work()
    run = reload(run)
    assert run.status == "queued"
    assert "will retry" in run.error_message and "timed out" in run.error_message
    job = rq_job(run)
    assert job.get_status() == JobStatus.SCHEDULED
    assert job.retries_left == 2
    assert run.job_id in sync_queue().scheduled_job_registry.get_job_ids()


def test_retry_resumes_the_run_and_it_succeeds(redis_app: Flask, work: Any) -> None:
    run = enqueue(sync_type="flaky", options={"failures": 1})
    work()
    queue = sync_queue()
    queue.scheduled_job_registry.remove(run.job_id)  # due now instead of in 10 seconds
    queue.enqueue_job(rq_job(run))
    work()
    run = reload(run)
    assert (run.status, run.updated) == ("succeeded", 1)


def test_retries_stop_after_three_and_the_run_fails(redis_app: Flask, work: Any) -> None:
    run = enqueue(sync_type="flaky", options={"failures": 10})
    queue = sync_queue()
    for _ in range(3):
        work()
        queue.scheduled_job_registry.remove(run.job_id)
        queue.enqueue_job(rq_job(run))
    work()
    run = reload(run)
    assert run.status == "failed" and "timed out" in run.error_message
    assert rq_job(run).get_status() == JobStatus.FAILED


def test_fatal_error_fails_the_run_with_its_message_and_no_retry(
    redis_app: Flask, work: Any
) -> None:
    run = enqueue(sync_type="locked-out")
    work()
    run = reload(run)
    assert run.status == "failed"
    assert "bad app id or secret" in run.error_message
    job = rq_job(run)
    assert job.get_status() == JobStatus.FAILED
    assert job.retries_left == 0
    assert sync_queue().scheduled_job_registry.count == 0


def test_cancelling_a_queued_run_closes_it_and_drops_its_job(redis_app: Flask) -> None:
    run = enqueue()
    assert cancel_run(run.id) is True
    run = reload(run)
    assert run.status == "cancelled"
    assert rq_job(run).get_status() == JobStatus.CANCELED
    assert current_run() is None


def test_cancelling_a_running_run_stops_it_at_the_next_checkpoint(
    redis_app: Flask, work: Any
) -> None:
    run = enqueue(sync_type="slow", options={"ticks": 2000, "pause": 0.01})
    canceller = threading.Thread(target=cancel_when_running, args=(redis_app, run.id))
    canceller.start()
    work()
    canceller.join()
    run = reload(run)
    assert run.status == "cancelled"
    assert 0 < run.updated < 2000


def cancel_when_running(app: Flask, run_id: int) -> None:
    with app.app_context():
        state = current_pco()
        for _ in range(1000):
            state.db.session.rollback()
            run = state.db.session.get(state.models.SyncRun, run_id)
            if run.status == "running" and run.updated > 0:
                assert cancel_run(run_id)
                return
            time.sleep(0.01)


def test_cancel_of_a_finished_run_is_refused(redis_app: Flask, work: Any) -> None:
    run = enqueue()
    work()
    assert cancel_run(run.id) is False
    assert cancel_run() is False


def test_stale_heartbeat_marks_the_run_abandoned_and_frees_the_slot(redis_app: Flask) -> None:
    run = enqueue()
    stale_running(run)
    assert current_run() is None
    run = reload(run)
    assert run.status == "failed" and run.error_message.startswith("abandoned")


def test_rq_retry_of_an_abandoned_job_resumes_its_run(redis_app: Flask, work: Any) -> None:
    run = enqueue(options={"records": 2})
    state = current_pco()
    run.status, run.heartbeat_at = "running", utcnow()  # its worker died moments ago
    state.db.session.commit()
    work()
    run = reload(run)
    assert (run.status, run.created) == ("succeeded", 2)


def test_queued_run_whose_job_vanished_is_released(redis_app: Flask) -> None:
    run = enqueue()
    rq_job(run).delete()
    assert current_run() is None
    run = reload(run)
    assert run.status == "failed" and run.error_message.startswith("lost")


def test_enqueue_without_redis_is_refused_and_queues_nothing(app: Flask) -> None:
    with pytest.raises(ConfigError, match="PCO_REDIS_URL"):
        start_sync("pull", "counting", mode="enqueue")
    assert recent_runs() == []


def test_unknown_sync_type_is_refused_with_the_valid_ones(redis_app: Flask) -> None:
    with pytest.raises(ConfigError, match=r"unknown pull sync 'nope'; valid: .*counting"):
        start_sync("pull", "nope")
    assert recent_runs() == []


def test_inline_mode_runs_in_this_process(redis_app: Flask) -> None:
    run = start_sync("pull", "counting", mode="inline", options={"records": 2})
    assert (reload(run).status, reload(run).created) == ("succeeded", 2)
    assert len(sync_queue()) == 0


def test_thread_mode_runs_without_redis(app: Flask) -> None:
    run = start_sync("pull", "counting", mode="auto", options={"records": 2})
    for _ in range(500):
        if reload(run).status not in ("queued", "running"):
            break
        time.sleep(0.01)
    assert (reload(run).status, reload(run).created) == ("succeeded", 2)


def test_full_run_records_each_step_as_a_child_row(
    redis_app: Flask, work: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flask_pco.sync import engine

    monkeypatch.setitem(engine.FULL_ORDER, "pull", ("counting", "slow"))
    run = enqueue(sync_type="full", options={"records": 2, "ticks": 3})
    work()
    run = reload(run)
    assert (run.status, run.created, run.updated) == ("succeeded", 2, 3)
    assert run.current_step == "done"
    state = current_pco()
    steps = state.db.session.scalars(
        select(state.models.SyncRun)
        .where(state.models.SyncRun.parent_id == run.id)
        .order_by(state.models.SyncRun.id)
    )
    assert [(s.sync_type, s.status) for s in steps] == [
        ("counting", "succeeded"),
        ("slow", "succeeded"),
    ]
    assert [r.id for r in recent_runs()] == [run.id]


def test_recent_runs_are_newest_first_and_limited(redis_app: Flask) -> None:
    ids = [start_sync("pull", "counting", mode="inline").id for _ in range(3)]
    assert [r.id for r in recent_runs(limit=2)] == ids[:0:-1]


def stale_running(run: Any) -> None:
    """Make the run look like its worker died a while ago."""
    state = current_pco()
    run = reload(run)
    run.status = "running"
    run.heartbeat_at = utcnow() - timedelta(seconds=state.config.run_stale_after + 1)
    state.db.session.commit()
