"""A run nothing can finish any more is released at once: its process is gone from this host,
or its RQ job is dead. Runs on other hosts wait for their heartbeat to go stale."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from rq import SimpleWorker
from rq.job import Job, JobStatus

from flask_pco.extension import current_pco
from flask_pco.jobs.queue import current_run, start_sync, sync_queue
from flask_pco.models import utcnow
from flask_pco.sync.runner import Runner, this_runner
from tests.helpers import dead_runner

from .conftest import reload

pytestmark = pytest.mark.usefixtures("test_steps")

ELSEWHERE = "another-host.example"


def running(run: Any, runner: Runner, **values: Any) -> Any:
    """Mark ``run`` as started by ``runner`` moments ago (a fresh heartbeat)."""
    state = current_pco()
    row = reload(run)
    row.status, row.started_at, row.heartbeat_at = "running", utcnow(), utcnow()
    row.runner_host, row.runner_pid, row.runner_process = runner.host, runner.pid, runner.process
    for name, value in values.items():
        setattr(row, name, value)
    state.db.session.commit()
    return row


def queued(**options: Any) -> Any:
    """A run handed to RQ, its job waiting in the queue."""
    return start_sync("pull", "counting", mode="enqueue", options=options)


def rq_job(run: Any) -> Job:
    return Job.fetch(run.job_id, connection=sync_queue().connection)


def assert_released(run: Any, *fragments: str) -> None:
    run = reload(run)
    assert (run.status, run.cancel_requested) == ("failed", True)
    assert run.finished_at is not None
    for fragment in fragments:
        assert fragment in run.error_message


def test_a_run_whose_process_is_gone_from_this_host_is_released_at_once(redis_app: Flask) -> None:
    ended = dead_runner()
    run = running(queued(), ended, job_id=None)
    assert current_run() is None
    assert_released(run, "abandoned", f"pid {ended.pid}", "is gone")


def test_its_steps_are_released_with_it(redis_app: Flask) -> None:
    state = current_pco()
    parent = running(queued(), dead_runner(), job_id=None)
    step = state.models.SyncRun(
        organization=parent.organization,
        sync_type="counting",
        direction="pull",
        status="running",
        parent_id=parent.id,
        heartbeat_at=utcnow(),
    )
    state.db.session.add(step)
    state.db.session.commit()
    assert current_run() is None
    assert_released(step, "abandoned")


def test_a_new_run_starts_at_once_after_a_run_whose_process_is_gone(
    redis_app: Flask, work: Any
) -> None:
    killed = queued()
    started(rq_job(killed), worker="a-killed-worker")  # its key outlives it for a while
    running(killed, dead_runner())
    replacement = queued(records=2)
    assert_released(killed, "abandoned")
    work()
    assert (reload(replacement).status, reload(replacement).created) == ("succeeded", 2)


def test_a_run_whose_process_still_runs_here_keeps_the_slot(redis_app: Flask) -> None:
    run = running(queued(), this_runner())
    assert current_run().id == run.id


def test_a_run_on_another_host_is_not_released_before_its_heartbeat_is_stale(
    redis_app: Flask,
) -> None:
    ended = dead_runner()
    elsewhere = Runner(ELSEWHERE, ended.pid, ended.process)
    run = running(queued(), elsewhere, job_id=None)
    assert current_run().id == run.id
    state = current_pco()
    row = reload(run)
    row.heartbeat_at = utcnow() - timedelta(seconds=state.config.run_stale_after + 1)
    state.db.session.commit()
    assert current_run() is None
    assert_released(run, "abandoned")


def test_a_run_on_another_host_whose_job_still_runs_keeps_the_slot(redis_app: Flask) -> None:
    run = queued()
    SimpleWorker([sync_queue()], connection=sync_queue().connection).register_birth()
    started(rq_job(run), worker=only_worker_name())
    running(run, Runner(ELSEWHERE, 4242, None))
    assert current_run().id == run.id


@pytest.mark.parametrize("status", [JobStatus.FAILED, JobStatus.STOPPED, JobStatus.FINISHED])
def test_a_run_on_another_host_whose_job_ended_is_released_at_once(
    redis_app: Flask, status: JobStatus
) -> None:
    run = queued()
    rq_job(run).set_status(status)
    running(run, Runner(ELSEWHERE, 4242, None))
    assert current_run() is None
    assert_released(run, "abandoned", f"RQ job {run.job_id} is {status.value}")


def test_a_run_on_another_host_whose_job_is_missing_is_released_at_once(redis_app: Flask) -> None:
    run = queued()
    rq_job(run).delete()
    running(run, Runner(ELSEWHERE, 4242, None))
    assert current_run() is None
    assert_released(run, f"RQ job {run.job_id} is missing")


def test_a_run_whose_job_was_taken_by_a_worker_that_is_gone_is_released(
    redis_app: Flask,
) -> None:
    run = queued()
    started(rq_job(run), worker="a-worker-that-shut-down")
    running(run, Runner(ELSEWHERE, 4242, None))
    assert current_run() is None
    assert_released(run, f"RQ job {run.job_id} is started")


def test_a_queued_run_whose_job_a_vanished_worker_took_is_released(redis_app: Flask) -> None:
    run = queued()
    started(rq_job(run), worker="a-worker-that-shut-down")
    assert current_run() is None
    assert_released(run, "lost")


def test_a_queued_run_of_a_process_that_is_gone_is_released(redis_app: Flask) -> None:
    ended = dead_runner()
    run = queued()
    state = current_pco()
    row = reload(run)  # a thread or inline run that never began: no RQ job
    row.job_id, row.runner_host, row.runner_pid = None, ended.host, ended.pid
    row.runner_process = ended.process
    state.db.session.commit()
    assert current_run() is None
    assert_released(run, "lost")


def test_a_run_whose_work_horse_died_is_left_to_rqs_retry_which_resumes_it(
    redis_app: Flask, work: Any
) -> None:
    run = queued(records=2)
    running(run, dead_runner())  # its horse was killed; RQ put the job back for a retry
    assert rq_job(run).get_status() == JobStatus.QUEUED
    assert current_run().id == run.id
    work()
    assert (reload(run).status, reload(run).created) == ("succeeded", 2)


def test_a_started_run_records_the_process_that_runs_it(redis_app: Flask, work: Any) -> None:
    run = queued()
    work()
    run = reload(run)
    me = this_runner()  # the in-process worker: no fork
    assert (run.runner_host, run.runner_pid, run.runner_process) == (me.host, me.pid, me.process)


def started(job: Job, worker: str) -> None:
    """What RQ records when a worker takes the job."""
    job.worker_name = worker
    job.save()
    job.set_status(JobStatus.STARTED)


def only_worker_name() -> str:
    (worker,) = SimpleWorker.all(connection=sync_queue().connection)
    return str(worker.name)
