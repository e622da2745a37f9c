"""Fixtures for `flask pco` tests: a CLI runner on the example app, with and without Redis."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from flask_pco.sandbox.testing import SandboxControl, SandboxServer
from tests.conftest import make_app
from tests.helpers import NO_RATE_LIMIT, sandbox_settings
from tests.jobs.conftest import NOWHERE, register_test_steps


@pytest.fixture(autouse=True)
def _unfreeze() -> Iterator[None]:
    """An inline run freezes the heap of what it expects to be a one-shot process; this test
    process lives on, so each test gives the collector its objects back."""
    yield
    gc.unfreeze()


@pytest.fixture
def test_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the job tests' small real steps for this test only."""
    register_test_steps(monkeypatch)


@pytest.fixture
def cli_app(database_url: str) -> Callable[..., Iterator[Flask]]:
    """Build the example app with extra config and push its context for the test."""
    contexts: list[Any] = []

    def build(**config: Any) -> Flask:
        application = make_app(database_url, **{"PCO_API_URL": NOWHERE, **config})
        context = application.app_context()
        context.push()
        contexts.append(context)
        return application

    yield build  # type: ignore[misc]
    for context in reversed(contexts):
        context.pop()


@pytest.fixture
def pco(cli_app: Callable[..., Flask]) -> Callable[..., Any]:
    """Invoke `flask pco ...` on the example app without Redis."""
    return cli(cli_app())


def cli(app: Flask) -> Callable[..., Any]:
    runner: FlaskCliRunner = app.test_cli_runner()

    def invoke(*args: str) -> Any:
        return runner.invoke(args=["pco", *args])

    return invoke


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxControl:
    """The session's sandbox with 6 people, no faults and an empty request log."""
    control = sandbox_server.control
    control.reset(people=6, seed=3)
    control.set_faults()
    control.clear_requests()
    return control


@pytest.fixture
def sandbox_cli(cli_app: Any, sandbox_server: SandboxServer, sandbox: SandboxControl) -> Any:
    """``sandbox_cli(**config)``: `flask pco ...` on the example app talking to the sandbox."""

    def build(**config: Any) -> Any:
        settings = sandbox_settings(sandbox_server.url, PCO_PER_PAGE=4, **NO_RATE_LIMIT)
        return cli(cli_app(**{**settings, **config}))

    return build
