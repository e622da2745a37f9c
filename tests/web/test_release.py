"""A run the web process ran in a thread, whose process died, is released by the page at once."""

from __future__ import annotations

import time
from typing import Any

from flask.testing import FlaskClient

from flask_pco.extension import current_pco
from flask_pco.sync.runner import Runner
from tests.helpers import dead_runner

from .conftest import ADMIN_URL, make_run, post

HTMX = {"HX-Request": "true"}


def thread_run_of(runner: Runner) -> Any:
    """A run the admin page started in a thread of a web process (no RQ job), still running."""
    return make_run(
        "running",
        sync_type="people",
        runner_host=runner.host,
        runner_pid=runner.pid,
        runner_process=runner.process,
    )


def reload(run: Any) -> Any:
    session = current_pco().db.session
    session.rollback()
    return session.get(type(run), run.id)


def wait_for_end(run_id: int) -> Any:
    SyncRun = current_pco().models.SyncRun
    for _ in range(600):
        current_pco().db.session.rollback()
        run = current_pco().db.session.get(SyncRun, run_id)
        if run.status not in ("queued", "running"):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not end")


def test_the_page_releases_a_run_whose_web_process_died_and_its_buttons_work(
    admin_client: FlaskClient,
) -> None:
    killed = thread_run_of(dead_runner())

    html = admin_client.get(ADMIN_URL).get_data(as_text=True)

    assert "Buttons are disabled" not in html
    assert "abandoned: its process" in html
    assert reload(killed).status == "failed"
    response = post(admin_client, f"{ADMIN_URL}runs", {"action": "pull:people"})
    assert response.status_code == 302
    SyncRun = current_pco().models.SyncRun
    started = current_pco().db.session.query(SyncRun).filter(SyncRun.id > killed.id).one()
    assert wait_for_end(started.id).status == "succeeded"


def test_the_progress_poll_releases_a_run_whose_web_process_died(
    admin_client: FlaskClient,
) -> None:
    killed = thread_run_of(dead_runner())
    html = admin_client.get(f"{ADMIN_URL}progress", headers=HTMX).get_data(as_text=True)
    assert 'hx-trigger="every 3s"' not in html
    assert f'id="pco-run-{killed.id}"' in html
    assert reload(killed).status == "failed"


def test_a_run_of_a_web_process_on_another_host_keeps_the_slot(
    admin_client: FlaskClient,
) -> None:
    ended = dead_runner()
    run = thread_run_of(Runner("another-host.example", ended.pid, ended.process))
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert "Buttons are disabled" in html
    assert reload(run).status == "running"
    poll = admin_client.get(f"{ADMIN_URL}progress", headers=HTMX).get_data(as_text=True)
    assert 'hx-trigger="every 3s"' in poll
