"""A real `flask pco worker` process, killed with SIGKILL in the middle of a sync."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from rq.cron import CronScheduler
from rq.job import Job
from sqlalchemy import select

from flask_pco.extension import current_pco
from flask_pco.jobs.queue import current_run, set_schedule, start_sync, sync_queue
from flask_pco.jobs.schedule import NIGHTLY_JOB_NAME, next_nightly_run
from flask_pco.sync.runner import process_gone

from .conftest import ROOT, reload, start_worker

pytestmark = pytest.mark.usefixtures("test_steps")


def wait_until_running(run: Any, worker: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(600):
        current = reload(run)
        if current.status == "running" and current.updated > 0:
            return
        assert worker.poll() is None, log.read_text()
        time.sleep(0.05)
    raise AssertionError(f"the worker never started the run:\n{log.read_text()}")


def kill_with_children(pid: int) -> None:
    """SIGKILL a forking worker and its work horse, as a machine dying would."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for child in children:
        os.kill(int(child), signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)


def test_killed_worker_leaves_a_run_that_is_released_at_once_and_replaced(
    redis_app: Flask, database_url: str, redis_url: str, work: Any, tmp_path: Path
) -> None:
    run = start_sync("pull", "slow", mode="enqueue", options={"ticks": 100_000, "pause": 0.01})
    log = tmp_path / "worker.log"
    worker = start_worker(database_url, redis_url, log, "worker", "--burst")
    try:
        wait_until_running(run, worker, log)
        horses = children(worker.pid)
    finally:
        kill_with_children(worker.pid)
        worker.wait()
    killed = reload(run)
    assert killed.status == "running"  # nothing closed it: the process just vanished
    assert killed.runner_pid in horses  # the work horse that ran it, not the worker
    assert rq_job_status(killed) == "started"  # RQ does not know either

    wait_until_ended(killed)
    assert current_run() is None  # no waiting for PCO_RUN_STALE_AFTER
    abandoned = reload(run)
    assert abandoned.status == "failed" and abandoned.error_message.startswith("abandoned")
    assert f"pid {killed.runner_pid}" in abandoned.error_message

    replacement = start_sync("pull", "counting", mode="enqueue", options={"records": 2})
    work()
    assert (reload(replacement).status, reload(replacement).created) == ("succeeded", 2)


def wait_until_ended(run: Any) -> None:
    """A SIGKILLed process (the horse, which nobody here reaps) takes a moment to end."""
    for _ in range(500):
        if process_gone(run.runner_host, run.runner_pid, run.runner_process):
            return
        time.sleep(0.02)
    raise AssertionError(f"process {run.runner_pid} did not end after SIGKILL")


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def rq_job_status(run: Any) -> str:
    return str(Job.fetch(run.job_id, connection=sync_queue().connection).get_status().value)


def test_work_horse_runs_its_job_with_the_inherited_heap_frozen(
    redis_app: Flask, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    run = start_sync("pull", "frozen-heap", mode="enqueue")
    log = tmp_path / "worker.log"
    worker = start_worker(database_url, redis_url, log, "worker", "--burst")
    assert worker.wait(timeout=60) == 0, log.read_text()
    assert (reload(run).status, reload(run).created) == ("succeeded", 1)


def registered_schedulers() -> list[CronScheduler]:
    return CronScheduler.all(sync_queue().connection)


def test_scheduler_process_registers_the_nightly_entry_and_stops_on_sigterm(
    redis_app: Flask, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    set_schedule(True, 3)
    log = tmp_path / "scheduler.log"
    scheduler = start_worker(database_url, redis_url, log, "scheduler")
    try:
        for _ in range(600):
            if registered_schedulers() or scheduler.poll() is not None:
                break
            time.sleep(0.05)
        (registered,) = registered_schedulers()
        (entry,) = [job for job in registered.get_jobs() if job.name == NIGHTLY_JOB_NAME]
        assert (entry.func_name, entry.cron) == (
            "flask_pco.jobs.queue.nightly_sync_job",
            "0 3 * * *",
        )
        assert entry.next_enqueue_time == next_nightly_run(3, "UTC", utcnow_aware())
    finally:
        scheduler.send_signal(signal.SIGTERM)
        assert scheduler.wait(timeout=30) == 0, log.read_text()
    assert registered_schedulers() == []


def utcnow_aware() -> datetime:
    return datetime.now(UTC)


def test_ctrl_c_during_an_inline_sync_cancels_it_at_a_batch_boundary(
    redis_app: Flask, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "sync.log"
    process = start_worker(database_url, redis_url, log, "sync", "slow")
    try:
        run = wait_for_a_running_run(process, log)
    finally:
        process.send_signal(signal.SIGINT)
        exit_code = process.wait(timeout=30)
    output = log.read_text()
    assert exit_code == 1, output
    assert "cancelling: the run stops at its next batch boundary" in output
    assert f"Error: run {run.id} cancelled" in output
    run = reload(run)
    assert run.status == "cancelled" and 0 < run.updated < 100_000


def wait_for_a_running_run(process: subprocess.Popen[bytes], log: Path) -> Any:
    state = current_pco()
    for _ in range(600):
        state.db.session.rollback()
        run = state.db.session.scalar(select(state.models.SyncRun))
        if run is not None and run.status == "running" and run.updated > 0:
            return run
        assert process.poll() is None, log.read_text()
        time.sleep(0.05)
    raise AssertionError(f"the sync never started:\n{log.read_text()}")


#: Run in a fresh interpreter: what a forking worker prepared before its first fork.
PREPARED = """
import json, sys
from example_app import create_app
from example_app.models import Person
from flask_pco.jobs.workers import JOB_MODULES, make_worker

def prepared():
    modules = [name for name in JOB_MODULES if name in sys.modules]
    return {"modules": modules, "mappers": Person.__mapper__.configured}

app = create_app()
with app.app_context():
    before = prepared()
    make_worker()
    print(json.dumps({"before": before, "after": prepared(), "all": list(JOB_MODULES)}))
"""


def test_forking_worker_imports_job_modules_and_configures_mappers_before_forking(
    redis_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'church.sqlite'}",
        "PCO_REDIS_URL": redis_url,
    }
    command = [sys.executable, "-c", PREPARED]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["before"] == {"modules": [], "mappers": False}
    assert report["after"] == {"modules": report["all"], "mappers": True}
