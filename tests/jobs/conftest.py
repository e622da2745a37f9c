"""Fixtures for job tests: the example app with real Redis, test steps, an in-process worker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from rq import SimpleWorker

from flask_pco.extension import current_pco
from flask_pco.jobs.queue import sync_queue
from flask_pco.sync import engine
from tests.conftest import make_app

from .steps_for_tests import ATTEMPTS, TEST_STEPS

#: A local port nothing listens on: a step that really calls PCO fails here, never off-box.
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
def redis_app(database_url: str, redis_url: str) -> Iterator[Flask]:
    """The example app on each database with PCO_REDIS_URL set, inside an app context."""
    application = make_app(database_url, PCO_REDIS_URL=redis_url, PCO_API_URL=NOWHERE)
    with application.app_context():
        yield application


@pytest.fixture
def test_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the test steps for this test only; ``full`` runs only test steps."""
    register_test_steps(monkeypatch)


def register_test_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, function in TEST_STEPS.items():
        monkeypatch.setitem(engine._STEPS, key, function)
    monkeypatch.setitem(engine.FULL_ORDER, "pull", ("counting",))
    monkeypatch.setitem(engine.FULL_ORDER, "push", ("counting",))
    ATTEMPTS.clear()


@pytest.fixture
def work(redis_url: str) -> Callable[[], bool]:
    """Run a non-forking burst worker in this process, inside the test's app context."""

    def run_burst() -> bool:
        queue = sync_queue()
        worker = SimpleWorker([queue], connection=queue.connection)
        return worker.work(burst=True)

    return run_burst


def reload(run: Any) -> Any:
    """The run row as committed by whoever ran it."""
    state = current_pco()
    state.db.session.rollback()
    return state.db.session.get(state.models.SyncRun, run.id)
