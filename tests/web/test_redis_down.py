"""The admin page while Redis is down: it renders, says so in a banner, and keeps queued runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_pco.extension import current_pco
from flask_pco.jobs.queue import start_sync
from flask_pco.sandbox import SandboxServer
from tests.conftest import RedisServer, make_app
from tests.helpers import sandbox_settings
from tests.jobs.conftest import register_test_steps

from .conftest import ADMIN_URL, log_in, make_user, post

HTMX = {"HX-Request": "true"}
PROGRESS_URL = f"{ADMIN_URL}progress"
BANNER = "does not answer"


@pytest.fixture
def app(
    database_url: str,
    sandbox: SandboxServer,
    redis_server: RedisServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Flask]:
    """The example site on each database with a Redis of the test's own, and the test steps."""
    register_test_steps(monkeypatch)
    application = make_app(
        database_url, **sandbox_settings(sandbox.url), PCO_REDIS_URL=redis_server.url
    )
    with application.app_context():
        yield application


@pytest.fixture
def admin(client: FlaskClient) -> FlaskClient:
    return log_in(client, make_user("admin"))


def queued_run() -> Any:
    """A run handed to the workers, whose job then sits in Redis."""
    return start_sync("pull", "counting", mode="enqueue")


def run_status(run: Any) -> str:
    state = current_pco()
    state.db.session.rollback()
    return str(state.db.session.get(state.models.SyncRun, run.id).status)


def test_the_page_renders_with_a_banner_while_redis_is_down(
    admin: FlaskClient, redis_server: RedisServer
) -> None:
    run = queued_run()
    redis_server.stop()
    response = admin.get(ADMIN_URL)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Redis at redis://default:***@127.0.0.1:{redis_server.port}/0 {BANNER}" in html
    assert "queued runs wait" in html
    assert f"run {run.id}" in html


def test_the_banner_never_shows_the_redis_password(
    admin: FlaskClient, redis_server: RedisServer
) -> None:
    queued_run()
    redis_server.stop()
    html = admin.get(ADMIN_URL).get_data(as_text=True)
    html += admin.get(PROGRESS_URL, headers=HTMX).get_data(as_text=True)
    assert BANNER in html
    assert RedisServer.PASSWORD not in html


def test_a_queued_run_keeps_its_slot_while_redis_cannot_be_asked_about_its_job(
    admin: FlaskClient, redis_server: RedisServer
) -> None:
    run = queued_run()
    redis_server.stop()
    admin.get(ADMIN_URL)
    admin.get(PROGRESS_URL, headers=HTMX)
    assert run_status(run) == "queued"


def test_the_progress_poll_answers_with_the_banner_while_redis_is_down(
    admin: FlaskClient, redis_server: RedisServer
) -> None:
    run = queued_run()
    redis_server.stop()
    response = admin.get(PROGRESS_URL, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"run {run.id}" in html and 'hx-trigger="every 3s"' in html
    banner = html.split('id="pco-redis"')[1].split("</div>")[0]
    assert 'hx-swap-oob="true"' in banner and BANNER in banner


def test_the_page_has_no_banner_while_redis_answers(admin: FlaskClient) -> None:
    queued_run()
    html = admin.get(ADMIN_URL).get_data(as_text=True)
    assert 'id="pco-redis"' in html and BANNER not in html


def test_the_idle_poll_shows_the_banner_when_redis_goes_down(
    admin: FlaskClient, redis_server: RedisServer
) -> None:
    idle_url = f"{PROGRESS_URL}?idle=1"
    assert admin.get(idle_url, headers=HTMX).status_code == 204
    redis_server.stop()
    response = admin.get(idle_url, headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert BANNER in html
    assert "redis_down=1" in html  # the card now polls knowing the banner is up


def test_the_idle_poll_takes_the_banner_down_when_redis_is_back(
    admin: FlaskClient, redis_server: RedisServer
) -> None:
    redis_server.stop()
    down_url = f"{PROGRESS_URL}?idle=1&redis_down=1"
    assert admin.get(down_url, headers=HTMX).status_code == 204  # still down: nothing new
    redis_server.start()
    html = admin.get(down_url, headers=HTMX).get_data(as_text=True)
    assert 'id="pco-redis"' in html and BANNER not in html


def test_a_sync_button_while_redis_is_down_says_so_and_the_page_still_works(
    admin: FlaskClient, redis_server: RedisServer
) -> None:
    redis_server.stop()
    response = post(admin, ADMIN_URL + "runs", {"action": "pull:people"}, htmx=True)
    assert response.status_code == 200
    assert BANNER in response.get_data(as_text=True)
    assert admin.get(ADMIN_URL).status_code == 200
