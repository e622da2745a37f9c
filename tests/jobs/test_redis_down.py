"""Redis goes down and comes back: no run is lost on that account, workers wait for it, and
webhook deliveries whose jobs a restarted Redis forgot are queued again by the workers."""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_pco.extension import current_pco
from flask_pco.jobs.outage import requeue_lost_deliveries
from flask_pco.jobs.queue import (
    cancel_run,
    current_run,
    start_sync,
    webhook_job_id,
    webhook_queue,
)
from flask_pco.models import utcnow
from tests.conftest import RedisServer
from tests.helpers import dead_runner

from .conftest import reload, start_worker

pytestmark = pytest.mark.usefixtures("test_steps")

#: Nobody handles this event, so applying it needs no PCO: it ends ``ignored``.
UNHANDLED_EVENT = "people.v2.events.unhandled_thing.created"


def test_a_queued_run_keeps_its_slot_while_redis_does_not_answer(
    own_redis_app: Flask, redis_server: RedisServer
) -> None:
    run = start_sync("pull", "counting", mode="enqueue")
    redis_server.stop()
    assert current_run().id == run.id
    assert reload(run).status == "queued"


def test_a_run_whose_process_is_gone_waits_for_its_heartbeat_while_redis_does_not_answer(
    own_redis_app: Flask, redis_server: RedisServer
) -> None:
    """Its job may be held for a retry; only RQ could say, so the heartbeat decides."""
    run = reload(start_sync("pull", "counting", mode="enqueue"))
    ended = dead_runner()  # the work horse, killed
    run.status, run.started_at, run.heartbeat_at = "running", utcnow(), utcnow()
    run.runner_host, run.runner_pid, run.runner_process = ended.host, ended.pid, ended.process
    current_pco().db.session.commit()
    redis_server.stop()
    assert current_run().id == run.id
    assert reload(run).status == "running"


def test_cancelling_a_queued_run_while_redis_is_down_closes_it(
    own_redis_app: Flask, redis_server: RedisServer
) -> None:
    run = start_sync("pull", "counting", mode="enqueue")
    redis_server.stop()
    assert cancel_run() is True
    assert reload(run).status == "cancelled"


def make_delivery(age: timedelta, status: str = "received") -> Any:
    """A stored delivery, as the webhook route leaves it before its job runs."""
    state = current_pco()
    row = state.models.WebhookDelivery(
        event_id=str(uuid.uuid4()),
        name=UNHANDLED_EVENT,
        payload='{"data": {"type": "Thing", "id": "1", "attributes": {}}, "included": []}',
        status=status,
        received_at=utcnow() - age,
    )
    state.db.session.add(row)
    state.db.session.commit()
    return row


def queued_job_ids() -> list[str]:
    return list(webhook_queue().get_job_ids())


def test_a_received_delivery_whose_job_redis_lost_is_queued_again(own_redis_app: Flask) -> None:
    delivery = make_delivery(age=timedelta(minutes=5))
    assert requeue_lost_deliveries(current_pco()) == 1
    assert queued_job_ids() == [webhook_job_id(current_pco(), delivery.id)]


def test_a_delivery_whose_job_still_waits_is_not_queued_twice(own_redis_app: Flask) -> None:
    from flask_pco.jobs.queue import enqueue_webhook

    delivery = make_delivery(age=timedelta(minutes=5))
    enqueue_webhook(delivery.id)  # waiting behind a long sync, say
    assert requeue_lost_deliveries(current_pco()) == 0
    assert queued_job_ids() == [webhook_job_id(current_pco(), delivery.id)]


def test_a_delivery_whose_job_redis_lost_while_it_was_read_is_queued_again(
    own_redis_app: Flask,
) -> None:
    from flask_pco.jobs.queue import enqueue_webhook

    delivery = make_delivery(age=timedelta(minutes=5))
    enqueue_webhook(delivery.id)
    job_id = webhook_job_id(current_pco(), delivery.id)
    webhook_queue().connection.hdel(f"rq:job:{job_id}", "status")  # half gone, as in a flush

    assert requeue_lost_deliveries(current_pco()) == 1


def test_a_delivery_received_just_now_is_left_to_its_job(own_redis_app: Flask) -> None:
    make_delivery(age=timedelta(seconds=5))
    assert requeue_lost_deliveries(current_pco()) == 0


def test_finished_deliveries_are_not_queued_again(own_redis_app: Flask) -> None:
    make_delivery(age=timedelta(minutes=5), status="applied")
    make_delivery(age=timedelta(minutes=5), status="failed")  # the hourly retry's business
    assert requeue_lost_deliveries(current_pco()) == 0


def wait_for(condition: Callable[[], bool], worker: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(1200):
        if condition():
            return
        assert worker.poll() is None, log.read_text()
        time.sleep(0.05)
    raise AssertionError(f"timed out; the worker's log:\n{log.read_text()}")


def stop(worker: subprocess.Popen[bytes], log: Path) -> None:
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0, log.read_text()


def test_a_worker_outlives_a_redis_restart_and_runs_the_next_job(
    own_redis_app: Flask, redis_server: RedisServer, database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    first = start_sync("pull", "slow", mode="enqueue", options={"ticks": 40, "pause": 0.05})
    worker = start_worker(database_url, redis_server.url, log)
    try:
        wait_for(lambda: reload(first).status == "running", worker, log)
        redis_server.stop()  # mid-job: RQ cannot record how the job ended
        wait_for(lambda: reload(first).status == "succeeded", worker, log)
        time.sleep(2)  # RQ's loop ends on the lost connection; the worker must not
        assert worker.poll() is None, log.read_text()
        redis_server.start()
        second = start_sync("pull", "counting", mode="enqueue", options={"records": 2})
        wait_for(lambda: reload(second).status == "succeeded", worker, log)
    finally:
        stop(worker, log)


def test_a_worker_logs_one_line_per_attempt_without_the_redis_password(
    own_redis_app: Flask, redis_server: RedisServer, database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    redis_server.stop()
    worker = start_worker(database_url, redis_server.url, log)
    try:
        wait_for(lambda: log.read_text().count("trying again in") >= 2, worker, log)
    finally:
        stop(worker, log)
    lines = [line for line in log.read_text().splitlines() if "trying again in" in line]
    assert (
        f"Redis at redis://default:***@127.0.0.1:{redis_server.port}/0 does not answer"
        in (lines[0])
    )
    assert [line.rsplit(" ", 2)[1] for line in lines[:2]] == ["1", "2"]  # seconds, doubling
    assert "Traceback" not in log.read_text()
    assert RedisServer.PASSWORD not in log.read_text()


def test_a_worker_started_while_redis_is_down_works_once_it_answers(
    own_redis_app: Flask, redis_server: RedisServer, database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    run = start_sync("pull", "counting", mode="enqueue", options={"records": 2})
    redis_server.stop()
    worker = start_worker(database_url, redis_server.url, log)
    try:
        wait_for(lambda: "trying again in" in log.read_text(), worker, log)
        redis_server.start()  # empty: the run's job is gone, so it is released and queued anew
        assert current_run() is None
        again = start_sync("pull", "counting", mode="enqueue", options={"records": 2})
        wait_for(lambda: reload(again).status == "succeeded", worker, log)
    finally:
        stop(worker, log)
    assert reload(run).status == "failed"


def test_a_worker_stops_on_sigterm_while_redis_is_down(
    own_redis_app: Flask, redis_server: RedisServer, database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    worker = start_worker(database_url, redis_server.url, log)
    try:
        wait_for(lambda: "Listening on" in log.read_text(), worker, log)
        redis_server.stop()
        time.sleep(1)
    finally:
        stop(worker, log)


def test_a_worker_queues_again_deliveries_whose_jobs_redis_lost(
    own_redis_app: Flask, redis_server: RedisServer, database_url: str, tmp_path: Path
) -> None:
    delivery = make_delivery(age=timedelta(minutes=5))  # its job went with Redis' restart
    log = tmp_path / "worker.log"
    worker = start_worker(database_url, redis_server.url, log)
    state = current_pco()

    def applied() -> bool:
        state.db.session.rollback()
        return state.db.session.get(state.models.WebhookDelivery, delivery.id).status != "received"

    try:
        wait_for(applied, worker, log)
    finally:
        stop(worker, log)
    assert state.db.session.get(state.models.WebhookDelivery, delivery.id).status == "ignored"
    assert "queued 1 webhook deliveries whose jobs were lost" in log.read_text()
