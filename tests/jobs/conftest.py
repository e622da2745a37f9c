"""Fixtures for job tests: the example app with real Redis, test steps, an in-process worker."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from rq import SimpleWorker

from flask_pco.extension import current_pco
from flask_pco.jobs.queue import sync_queue, webhook_queue
from flask_pco.sandbox import SandboxServer, create_sandbox_app
from flask_pco.sandbox.specs import ORGANIZATION_ID
from flask_pco.sync import engine
from tests.churches_site import CLIENT, connect_church
from tests.conftest import RedisServer, make_app

from .steps_for_tests import ATTEMPTS, TEST_STEPS

ROOT = Path(__file__).resolve().parents[2]
#: A local port nothing listens on: a step that really calls PCO fails here, never off-box.
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
def redis_app(database_url: str, redis_url: str) -> Iterator[Flask]:
    """The example app on each database with PCO_REDIS_URL set, inside an app context."""
    application = make_app(database_url, PCO_REDIS_URL=redis_url, PCO_API_URL=NOWHERE)
    with application.app_context():
        yield application


@pytest.fixture
def oauth_sandbox() -> Iterator[SandboxServer]:
    """A sandbox of the test's own: no subscription in it yet."""
    with SandboxServer(create_sandbox_app(people=2, seed=3)) as server:
        yield server


@pytest.fixture
def oauth_only_app(
    database_url: str, redis_url: str, oauth_sandbox: SandboxServer
) -> Iterator[Flask]:
    """The example church site connected to the sandbox with "Connect Planning Center" and
    nothing else: no Personal Access Token, no PCO_ACCESS_TOKEN."""
    from cryptography.fernet import Fernet

    application = make_app(
        database_url,
        PCO_APP_ID="",
        PCO_SECRET="",
        PCO_API_URL=oauth_sandbox.url,
        PCO_OAUTH_CLIENT_ID=CLIENT["client_id"],
        PCO_OAUTH_CLIENT_SECRET=CLIENT["client_secret"],
        PCO_TOKEN_KEY=Fernet.generate_key().decode(),
        PCO_REDIS_URL=redis_url,
        PCO_PUBLIC_URL="https://church.example.org",
    )
    with application.app_context():
        connect_church(current_pco(), oauth_sandbox, None, ORGANIZATION_ID)
        yield application


@pytest.fixture
def own_redis_app(database_url: str, redis_server: RedisServer) -> Iterator[Flask]:
    """The example app on each database with a Redis of the test's own, to stop and start."""
    application = make_app(database_url, PCO_REDIS_URL=redis_server.url, PCO_API_URL=NOWHERE)
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
        worker = SimpleWorker([webhook_queue(), queue], connection=queue.connection)
        return worker.work(burst=True)

    return run_burst


def reload(run: Any) -> Any:
    """The run row as committed by whoever ran it."""
    state = current_pco()
    state.db.session.rollback()
    return state.db.session.get(state.models.SyncRun, run.id)


def start_worker(
    database_url: str, redis_url: str, log: Path, command: str = "worker", *args: str
) -> subprocess.Popen[bytes]:
    """`flask pco <command>` in its own process, on the test's database and Redis."""
    env = {
        "SLOW_STEP_TICKS": "100000",
        **os.environ,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "PCO_REDIS_URL": redis_url,
        "PCO_APP_ID": "test-app-id",
        "PCO_SECRET": "test-secret",
    }
    flask = [sys.executable, "-m", "flask", "--app", "tests/jobs/worker_app.py", "pco"]
    with log.open("wb") as output:
        return subprocess.Popen(
            [*flask, command, *args], cwd=ROOT, env=env, stdout=output, stderr=output
        )
