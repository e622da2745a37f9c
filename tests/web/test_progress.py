"""The live-progress poll: cheap while a run is active, and one refresh of the page when it ends."""

from __future__ import annotations

import re
from datetime import timedelta

from flask.testing import FlaskClient

from flask_pco.models import utcnow

from .conftest import ADMIN_URL, finish_run, make_conflict, make_issue, make_person, make_run

HTMX = {"HX-Request": "true"}
PROGRESS_URL = f"{ADMIN_URL}progress"


def poll(client: FlaskClient) -> str:
    return client.get(PROGRESS_URL, headers=HTMX).get_data(as_text=True)


def test_progress_polls_every_3_seconds_while_a_run_is_active(admin_client: FlaskClient) -> None:
    make_run("running", current_step="people", created=4, updated=2)
    html = poll(admin_client)
    assert 'hx-trigger="every 3s"' in html
    assert '<dd data-counter="created">4</dd>' in html
    assert "people" in html
    assert "Cancel run" in html


def test_progress_polls_slowly_for_new_runs_when_none_is_active(admin_client: FlaskClient) -> None:
    make_run("succeeded", created=9)
    html = poll(admin_client)
    assert 'hx-trigger="every 15s"' in html and "idle=1" in html
    assert "No sync is running" in html


def test_the_idle_poll_answers_nothing_while_nothing_runs(admin_client: FlaskClient) -> None:
    make_run("succeeded")
    response = admin_client.get(f"{PROGRESS_URL}?idle=1", headers=HTMX)
    assert response.status_code == 204 and response.get_data() == b""


def test_the_idle_poll_shows_a_run_started_elsewhere(admin_client: FlaskClient) -> None:
    run = make_run("running", current_step="people")  # started by the CLI, say
    html = admin_client.get(f"{PROGRESS_URL}?idle=1", headers=HTMX).get_data(as_text=True)
    assert f"run {run.id}" in html and 'hx-trigger="every 3s"' in html
    assert 'id="pco-actions"' in html and "disabled" in html  # the buttons wait for it


def test_progress_after_a_run_refreshes_buttons_and_history(admin_client: FlaskClient) -> None:
    run = make_run("succeeded")
    html = poll(admin_client)
    assert re.search(r'id="pco-actions"[^>]*hx-swap-oob="true"', html)
    assert re.search(r'id="pco-history"[^>]*hx-swap-oob="true"', html)
    assert f'id="pco-run-{run.id}"' in html
    assert f"Run {run.id} (pull full) succeeded." in html


def test_progress_adds_the_running_steps_counts_to_a_full_run(admin_client: FlaskClient) -> None:
    parent = make_run("running", created=10)
    make_run("running", sync_type="families", parent_id=parent.id, created=3)
    make_run("succeeded", sync_type="people", parent_id=parent.id, created=10)
    html = admin_client.get(PROGRESS_URL).get_data(as_text=True)
    assert '<dd data-counter="created">13</dd>' in html


def running_full_run_with_open_items() -> None:
    """A full pull in its families step, with a held match and a conflict waiting."""
    parent = make_run("running", created=10)
    make_run("running", sync_type="families", parent_id=parent.id, created=3)
    make_issue()
    make_conflict(make_person(), "last_name", local="Byron", pco="King", base="Lovelace")


def test_polling_a_running_run_reads_only_that_runs_rows(
    admin_client: FlaskClient, sql_statements: list[str]
) -> None:
    running_full_run_with_open_items()
    sql_statements.clear()
    html = poll(admin_client)
    assert '<dd data-counter="created">13</dd>' in html
    extension_sql = [s for s in sql_statements if "pco_" in s]
    assert len(extension_sql) == 2, extension_sql  # the active run, then its running step
    assert all("FROM pco_sync_log" in s for s in extension_sql), extension_sql
    assert not any("pco_sync_issue" in s or "pco_conflict" in s for s in sql_statements)
    assert not any("ORDER BY" in s or "LIMIT" in s for s in extension_sql)  # no history


def test_polling_a_running_run_writes_nothing(
    admin_client: FlaskClient, sql_statements: list[str]
) -> None:
    running_full_run_with_open_items()
    sql_statements.clear()
    poll(admin_client)
    assert sql_statements
    assert all(s.lstrip().upper().startswith("SELECT") for s in sql_statements), sql_statements


def test_polling_a_running_run_answers_with_the_progress_card_only(
    admin_client: FlaskClient,
) -> None:
    running_full_run_with_open_items()
    html = poll(admin_client)
    assert 'id="pco-progress"' in html
    for other in ("pco-actions", "pco-history", "pco-issues", "pco-notice"):
        assert f'id="{other}"' not in html


def test_the_last_poll_re_enables_the_buttons(admin_client: FlaskClient) -> None:
    run = make_run("running")
    assert 'hx-trigger="every 3s"' in poll(admin_client)
    finish_run(run)
    html = poll(admin_client)
    actions = html.split('id="pco-actions"')[1].split("</section>")[0]
    assert 'hx-swap-oob="true"' in actions
    assert " disabled" not in actions


def test_the_last_poll_refreshes_held_matches_and_conflicts(admin_client: FlaskClient) -> None:
    run = make_run("running")
    assert 'id="pco-issues"' not in poll(admin_client)
    make_issue()  # what the run held for an admin
    make_conflict(make_person(), "last_name", local="Byron", pco="King", base="Lovelace")
    finish_run(run)
    html = poll(admin_client)
    issues = html.split('id="pco-issues"')[1].split("</section>")[0]
    assert 'hx-swap-oob="true"' in issues
    assert 'Held matches <span class="pco-count">1</span>' in issues
    assert 'Conflicts <span class="pco-count">1</span>' in issues


def test_the_poll_releases_a_run_whose_worker_stopped(admin_client: FlaskClient) -> None:
    run = make_run("running", heartbeat_at=utcnow() - timedelta(hours=1))
    html = poll(admin_client)
    assert 'hx-trigger="every 3s"' not in html
    assert f'id="pco-run-{run.id}"' in html  # the history refreshes with the failed run
    assert "abandoned" in html


def test_progress_shows_how_far_the_running_step_is(admin_client: FlaskClient) -> None:
    parent = make_run("running", current_step="people")
    make_run(
        "running",
        sync_type="people",
        parent_id=parent.id,
        progress_done=1200,
        progress_total=5000,
    )
    html = poll(admin_client)
    assert '<progress max="5000" value="1200"' in html
    assert "1,200 of 5,000 records (people)" in html


def test_progress_has_no_bar_while_the_total_is_unknown(admin_client: FlaskClient) -> None:
    make_run("running", current_step="people", progress_done=0)
    assert "<progress" not in poll(admin_client)
