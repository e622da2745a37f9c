"""The RQ internals flask-pco uses (flask_pco/jobs/rq_internals.py) still behave as relied on.

If one of these fails after an RQ upgrade, the scheduler's stop handling or the webhook batches
would break quietly: update rq_internals.py (and pin RQ) before shipping.
"""

from __future__ import annotations

import signal
import time
from typing import Any

import pytest
from redis import Redis
from rq import Queue
from rq.cron import CronScheduler
from rq.exceptions import StopRequested
from rq.executions import Execution

from flask_pco.jobs.rq_internals import (
    cron_entries,
    request_stop,
    started_jobs_key,
    waiting_jobs_key,
)


def no_op() -> None:
    """A job function RQ can name."""


@pytest.fixture
def connection(redis_url: str) -> Any:
    return Redis.from_url(redis_url)  # redis_url empties the test database around each test


def test_registered_entries_are_the_schedulers_own_list(connection: Any) -> None:
    scheduler = CronScheduler(connection)
    entry = scheduler.register(no_op, "default", cron="0 3 * * *", name="nightly")
    assert cron_entries(scheduler) == [entry]
    cron_entries(scheduler).remove(entry)
    assert cron_entries(scheduler) == []


def test_rqs_stop_handler_raises_stop_requested(connection: Any) -> None:
    scheduler = CronScheduler(connection)
    with pytest.raises(StopRequested):
        request_stop(scheduler, signal.SIGTERM, None)


def test_waiting_job_ids_sit_in_a_redis_list_in_queue_order(connection: Any) -> None:
    queue = Queue("rq-internals", connection=connection)
    first = queue.enqueue(no_op, job_id="first")
    second = queue.enqueue(no_op, job_id="second")
    key = waiting_jobs_key(queue)
    assert connection.type(key) == b"list"
    assert connection.lrange(key, 0, -1) == [first.id.encode(), second.id.encode()]
    assert connection.lrem(key, 1, first.id) == 1
    assert queue.get_job_ids() == [second.id]


def test_a_running_job_sits_in_its_queue_s_started_set_until_its_heartbeat_runs_out(
    connection: Any,
) -> None:
    queue = Queue("rq-internals", connection=connection)
    job = queue.enqueue(no_op, job_id="running")
    with connection.pipeline() as pipe:  # what a worker does as it starts the job
        Execution.create(job, ttl=60, pipeline=pipe)
        pipe.execute()

    key = started_jobs_key("rq-internals")
    now = time.time()
    assert connection.type(key) == b"zset"
    assert connection.zcount(key, now, "+inf") == 1
    assert connection.zcount(key, now + 120, "+inf") == 0
