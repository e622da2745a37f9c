"""History: each full run's steps in words, and the running run's status kept current."""

from __future__ import annotations

import json
import re

from flask.testing import FlaskClient

from .conftest import ADMIN_URL, make_run, post

HTMX = {"HX-Request": "true"}


def full_pull_with_steps() -> tuple[object, list[object]]:
    run = make_run("succeeded", created=2485, removed=2196)
    steps = [
        make_run("succeeded", sync_type="people", parent_id=run.id, created=2002, removed=1713),
        make_run("succeeded", sync_type="families", parent_id=run.id, created=483, removed=483),
        make_run("succeeded", sync_type="groups", parent_id=run.id),
    ]
    return run, steps


def test_a_full_run_says_what_each_step_did(admin_client: FlaskClient) -> None:
    full_pull_with_steps()
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert "3 steps: people: 2,002 created, 1,713 deactivated;" in html
    assert "families: 483 created, 483 unlinked or left;" in html
    assert "groups and memberships: nothing changed" in html


def test_the_steps_show_the_run_numbers_between_full_runs(admin_client: FlaskClient) -> None:
    _, steps = full_pull_with_steps()
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    for step in steps:
        assert f"Run {step.id} " in html  # type: ignore[attr-defined]


def test_a_single_step_run_has_no_steps_row(admin_client: FlaskClient) -> None:
    run = make_run("succeeded", sync_type="people", created=3)
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert f'id="pco-run-{run.id}"' in html
    assert f'id="pco-steps-{run.id}"' not in html


def test_each_history_cell_is_labelled_for_the_phone_layout(admin_client: FlaskClient) -> None:
    run = make_run("succeeded", sync_type="people")
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    row = html.split(f'id="pco-run-{run.id}"')[1].split("</tr>")[0]
    assert row.count("<td") == 13 == row.count("data-label=")


def test_the_poll_of_a_running_run_updates_its_history_status(admin_client: FlaskClient) -> None:
    run = make_run("running", current_step="people")
    html = admin_client.get(f"{ADMIN_URL}progress", headers=HTMX).get_data(as_text=True)
    badge = re.search(rf'<span id="pco-status-{run.id}"[^>]*>([^<]*)</span>', html)
    assert badge is not None and 'hx-swap-oob="true"' in badge.group(0)
    assert badge.group(1) == "Running"


def test_the_idle_poll_that_finds_a_run_brings_its_history_row(admin_client: FlaskClient) -> None:
    run = make_run("running", current_step="people")  # started by the CLI, say
    html = admin_client.get(f"{ADMIN_URL}progress?idle=1", headers=HTMX).get_data(as_text=True)
    assert re.search(r'id="pco-history"[^>]*hx-swap-oob="true"', html)
    assert f'id="pco-run-{run.id}"' in html


def test_resolving_an_item_moves_focus_to_its_section(admin_client: FlaskClient) -> None:
    from .conftest import make_issue

    issue = make_issue()
    response = post(admin_client, f"{ADMIN_URL}issues/{issue.id}/resolve", htmx=True)
    trigger = json.loads(response.headers["HX-Trigger-After-Settle"])
    assert trigger == {"pco-focus": "#pco-issues-title"}
    assert 'id="pco-issues-title" tabindex="-1"' in response.get_data(as_text=True)


def test_a_failure_stays_in_sight_after_a_later_run_succeeds(admin_client: FlaskClient) -> None:
    failed = make_run("failed", sync_type="people", error_message="PCO answered HTTP 500")
    make_run("succeeded")
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    health = html.split('id="pco-health"')[1].split("</section>")[0]
    assert f"Run {failed.id} (pull people)" in health
    assert "PCO answered HTTP 500" in health


def test_a_failure_older_than_a_week_is_not_shown(admin_client: FlaskClient) -> None:
    from datetime import timedelta

    from flask_pco.models import utcnow

    make_run("failed", queued_at=utcnow() - timedelta(days=8), error_message="old trouble")
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert 'id="pco-last-failure"' not in html
