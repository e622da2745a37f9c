"""Redis goes down and comes back: no run is lost on that account."""

from __future__ import annotations

import pytest
from flask import Flask

from flask_pco.extension import current_pco
from flask_pco.jobs.queue import cancel_run, current_run, start_sync
from flask_pco.models import utcnow
from tests.conftest import RedisServer
from tests.helpers import dead_runner

from .conftest import reload

pytestmark = pytest.mark.usefixtures("test_steps")


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
