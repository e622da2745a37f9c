"""Shared fixtures: the example app on SQLite and PostgreSQL, real Redis, the PCO sandbox.

Every test that takes ``app`` or ``db`` runs twice, once per database. PostgreSQL tests use a
database of their own, created for this test session and dropped after it, so parallel runs on
one server never meet; each test starts from empty tables.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis as redis_lib
from flask import Flask
from sqlalchemy import create_engine, text

from tests.helpers import APPS_MADE

POSTGRES_ADMIN_URL = os.environ.get(
    "PCO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _own_redis_database(url: str) -> str:
    """The Redis test database of this pytest-xdist worker: the configured one for ``gw0``
    (and for a run without workers), the next ones for ``gw1``, ``gw2``... so parallel workers
    never flush each other's keys."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) + int(worker.removeprefix("gw") or 0)
    return urlunsplit(parts._replace(path=f"/{database}"))


REDIS_TEST_URL = _own_redis_database(
    os.environ.get("PCO_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Stop with one line naming whatever the collected tests need and the machine lacks
    (PostgreSQL, Redis, Chromium, the npm-built htmx), rather than one error per test."""
    from tests.prerequisites import missing, needed, probes

    problem = missing(needed(items), probes(POSTGRES_ADMIN_URL, REDIS_TEST_URL))
    if problem is None:
        return
    if hasattr(config, "workerinput"):
        # A pytest-xdist worker runs nothing and hands the line to the controller, which says
        # it once for all workers (an exit here would read as a crashed worker).
        config.workeroutput["missing_prerequisites"] = problem  # type: ignore[attr-defined]
        items.clear()
        return
    pytest.exit(problem, returncode=pytest.ExitCode.USAGE_ERROR)


_MISSING = pytest.StashKey[dict[str, str]]()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """The controller keeps what each worker found missing (see above)."""
    problem = getattr(node, "workeroutput", {}).get("missing_prerequisites")
    if problem:
        node.config.stash.setdefault(_MISSING, {})[node.gateway.id] = problem


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Say the first worker's missing prerequisites in one line and end as a usage error."""
    problems = session.config.stash.get(_MISSING, {})
    if problems:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.write_line(problems[min(problems)])
        session.exitstatus = pytest.ExitCode.USAGE_ERROR


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    name = f"flask_pco_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'church.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody has created a table in: a new SQLite file, or a new PostgreSQL
    database (dropped after the test), for what a site meets before it migrates."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'site.sqlite'}"
        return
    name = f"flask_pco_empty_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_app(database_url: str, **config: Any) -> Flask:
    """The example church site configured for tests, with its schema created and emptied."""
    from example_app import create_app
    from example_app.models import db

    settings: dict[str, Any] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PCO_APP_ID": "test-app-id",
        "PCO_SECRET": "test-secret",
    }
    settings.update(config)
    app = create_app(settings)
    with app.app_context():
        db.create_all()
        empty_tables(db)
    APPS_MADE.append(app)
    return app


@pytest.fixture(autouse=True)
def _close_pooled_connections() -> Iterator[None]:
    """Each app pools its connections (a new one per commit costs ~5 ms on PostgreSQL); they
    are closed when the test that made the app ends."""
    yield
    from example_app.models import db

    # A run or webhook a test started in a thread (no Redis) may still be closing its session:
    # disposing the pool under it would leave its connection to be garbage-collected open.
    for thread in threading.enumerate():
        if thread.name == "flask-pco" and thread is not threading.current_thread():
            thread.join(timeout=30)
    while APPS_MADE:
        with APPS_MADE.pop().app_context():
            db.engine.dispose()


#: The sequences of the current schema (the ids of every table).
_SEQUENCES = text(
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind = 'S' AND n.nspname = current_schema()"
)


def empty_tables(db: Any) -> None:
    """Delete every row of every table (PostgreSQL: ids start again at 1).

    On PostgreSQL, DELETE and a sequence restart in one round trip: TRUNCATE of this many
    small tables takes ~165 ms, which every PostgreSQL test used to pay; this takes ~30 ms.
    """
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            sequences = conn.execute(_SEQUENCES).scalars().all()
            statements = [f'DELETE FROM "{t}"' for t in tables]
            statements += [f'ALTER SEQUENCE "{s}" RESTART' for s in sequences]
            conn.exec_driver_sql("; ".join(statements))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    """The example app on each database, inside an app context."""
    application = make_app(database_url)
    with application.app_context():
        yield application


@pytest.fixture
def db(app: Flask) -> Any:
    from example_app.models import db as database

    return database


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Any]:
    """One live PCO sandbox for the session, with a budget no test reaches; tests reset its data."""
    from flask_pco.sandbox import SandboxServer, create_sandbox_app

    with SandboxServer(create_sandbox_app(rate_limit=100_000, rate_period=1)) as server:
        yield server


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A real Redis database reserved for tests, emptied before and after each test."""
    connection = redis_lib.Redis.from_url(REDIS_TEST_URL)
    connection.flushdb()
    yield REDIS_TEST_URL
    connection.flushdb()
    connection.close()


class RedisServer:
    """A ``redis-server`` of the test's own on a free port, to stop and start mid-test.

    It keeps nothing on disk, so a restart comes back empty, as a Redis without persistence
    does; it asks for a password, so tests can check that no message shows it.
    """

    PASSWORD = "redis-password-not-to-show"

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://default:{self.PASSWORD}@127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        command += ["--requirepass", self.PASSWORD]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        connection = redis_lib.Redis.from_url(self.url)
        try:
            for _ in range(500):
                try:
                    connection.ping()
                    return
                except redis_lib.ConnectionError:
                    time.sleep(0.01)
            raise RuntimeError(f"redis-server on port {self.port} did not start")
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A running Redis of this test's own (never the shared one), stopped at the end."""
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def refused_last_name() -> Iterator[Any]:
    """``refused_last_name(db, "Name")``: the site's database refuses people with that last
    name until ``allow_last_names`` (called at the end in any case: the PostgreSQL schema is
    shared by the session's tests)."""
    from tests.helpers import allow_last_names, refuse_last_name

    databases: list[Any] = []

    def refuse(db: Any, last_name: str) -> None:
        databases.append(db)
        db.session.rollback()
        refuse_last_name(db.engine, last_name)

    yield refuse
    for db in databases:
        allow_last_names(db)


@pytest.fixture
def instant_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """PCO's retries without their waits, for tests that only need a request to fail for good
    (a closed port): every attempt still happens, none of the back-off's sleeping."""
    from flask_pco.client.errors import RetryPolicy

    monkeypatch.setattr(RetryPolicy, "wait", lambda self, state: 0.0)
