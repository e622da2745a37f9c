"""`flask pco ...` while Redis is down: one line naming it (password masked), never a traceback."""

from __future__ import annotations

from typing import Any

import pytest

from flask_pco.extension import current_pco
from flask_pco.jobs.queue import start_sync
from tests.conftest import RedisServer

from .conftest import cli
from .test_cli import assert_one_line_error

pytestmark = pytest.mark.usefixtures("test_steps")


@pytest.fixture
def pco(cli_app: Any, redis_server: RedisServer) -> Any:
    """`flask pco ...` on the example app with a Redis of the test's own."""
    return cli(cli_app(PCO_REDIS_URL=redis_server.url))


@pytest.fixture
def masked(redis_server: RedisServer) -> str:
    """The Redis URL as every message shows it."""
    return f"Redis at redis://default:***@127.0.0.1:{redis_server.port}/0 does not answer"


def run_status(run: Any) -> str:
    state = current_pco()
    state.db.session.rollback()
    return str(state.db.session.get(state.models.SyncRun, run.id).status)


def test_status_shows_the_queued_run_and_ends_with_one_line_about_redis(
    pco: Any, redis_server: RedisServer, masked: str
) -> None:
    run = start_sync("pull", "counting", mode="enqueue")
    redis_server.stop()
    result = pco("status")
    assert result.exit_code == 1, result.output
    assert f"run {run.id} queued" in result.output
    assert result.output.strip().splitlines()[-1].startswith(f"Error: {masked}")
    assert "Traceback" not in result.output
    assert RedisServer.PASSWORD not in result.output


def test_status_exits_0_while_redis_answers(pco: Any) -> None:
    start_sync("pull", "counting", mode="enqueue")
    assert pco("status").exit_code == 0


def test_sync_enqueue_says_redis_is_down_in_one_line(
    pco: Any, redis_server: RedisServer, masked: str
) -> None:
    redis_server.stop()
    assert_one_line_error(pco("sync", "counting", "--enqueue"), masked, "PCO_REDIS_URL")


def test_worker_burst_says_redis_is_down_in_one_line(
    pco: Any, redis_server: RedisServer, masked: str
) -> None:
    redis_server.stop()
    assert_one_line_error(pco("worker", "--burst"), masked, "start Redis")


def test_scheduler_says_redis_is_down_in_one_line(
    pco: Any, redis_server: RedisServer, masked: str
) -> None:
    redis_server.stop()
    assert_one_line_error(pco("scheduler"), masked)


def test_cancel_of_a_queued_run_works_while_redis_is_down_and_says_so(
    pco: Any, redis_server: RedisServer, masked: str
) -> None:
    """The run is closed in the database; its job, left in Redis, is skipped when it runs."""
    run = start_sync("pull", "counting", mode="enqueue")
    redis_server.stop()
    result = pco("cancel")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "cancel requested for the current run",
        f"note: {masked} (Error 111 connecting to 127.0.0.1:{redis_server.port}. Connection "
        "refused.): queued runs wait, and nothing new can be queued until it is back; start "
        "Redis or fix PCO_REDIS_URL",
    ]
    assert run_status(run) == "cancelled"
