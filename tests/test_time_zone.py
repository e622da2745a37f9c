"""Times in the church's time zone: PCO_TIME_ZONE, else the one PCO reports, else UTC."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from flask_pco.sandbox import SandboxServer, create_sandbox_app
from flask_pco.state import current_pco
from tests.conftest import make_app
from tests.helpers import sandbox_settings

NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(create_sandbox_app(people=3, seed=5, time_zone="America/Chicago")) as server:
        yield server


def church(database_url: str, url: str, **config: object) -> Flask:
    return make_app(database_url, **sandbox_settings(url), **config)


def test_without_pco_time_zone_the_organisations_is_used(
    database_url: str, sandbox: SandboxServer
) -> None:
    with church(database_url, sandbox.url).app_context():
        assert current_pco().time_zone() == "America/Chicago"


def test_the_organisations_time_zone_is_asked_once_and_kept(
    database_url: str, sandbox: SandboxServer
) -> None:
    with church(database_url, sandbox.url).app_context():
        current_pco().time_zone()
        asked = len(sandbox.control.requests())
        current_pco().cache.pop("time_zone")  # a new process, say: the settings table knows
        assert current_pco().time_zone() == "America/Chicago"
    assert len(sandbox.control.requests()) == asked == 1


def test_pco_time_zone_wins_without_asking_pco(database_url: str, sandbox: SandboxServer) -> None:
    with church(database_url, sandbox.url, PCO_TIME_ZONE="Europe/Oslo").app_context():
        assert current_pco().time_zone() == "Europe/Oslo"
    assert sandbox.control.requests() == []


def test_while_pco_cannot_say_times_are_utc_and_it_is_not_asked_again(
    database_url: str,
) -> None:
    with church(database_url, NOWHERE).app_context():
        state = current_pco()
        assert state.time_zone() == "UTC"
        state.cache.pop("client")  # a second look would need a new client: none is made
        assert state.time_zone() == "UTC"
        assert "client" not in state.cache


def test_a_connection_test_keeps_the_time_zone_pco_reports(
    database_url: str, sandbox: SandboxServer
) -> None:
    with church(database_url, sandbox.url).app_context() as context:
        result = context.app.test_cli_runner().invoke(args=["pco", "test-connection"])
        assert "America/Chicago" in result.output
        Setting = current_pco().models.Setting
        keys = [row.key for row in current_pco().db.session.query(Setting)]
        assert any(key.startswith("time_zone:") for key in keys)
