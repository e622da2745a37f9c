"""The admin page's Preview: a dry run with its planned changes, then Run it, which says
whether the real run did what the preview showed."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import func, select

from flask_pco.extension import current_pco
from flask_pco.jobs.threads import wait_for_run

from .conftest import ADMIN_URL, make_run, post


def _run_id(location: str, key: str) -> int:
    match = re.search(rf"{key}(\d+)", location)
    assert match, location
    return int(match.group(1))


def _preview(client: FlaskClient, action: str = "pull:people") -> int:
    response = post(client, f"{ADMIN_URL}previews", {"action": action})
    assert response.status_code == 302
    run_id = _run_id(response.headers["Location"], "previews/")
    wait_for_run(run_id, 60.0)
    return run_id


def test_preview_runs_the_sync_dry_and_lists_its_planned_changes(admin_client):
    # Six people, and the two campuses they name (example_app keeps campuses).
    run_id = _preview(admin_client)
    assert current_pco().db.session.get(current_pco().models.SyncRun, run_id).dry_run
    html = admin_client.get(f"{ADMIN_URL}previews/{run_id}").get_data(as_text=True)
    assert "8 planned changes, 1 to 8 shown." in html
    assert html.count("<td>created</td>") == 8
    assert ">Run it</button>" in html


def test_a_preview_writes_no_local_person(admin_client):
    _preview(admin_client)
    Person = current_pco().roles.model("person")
    assert current_pco().db.session.scalar(select(func.count()).select_from(Person)) == 0


def test_run_it_when_nothing_changed_says_the_run_did_what_was_planned(admin_client):
    run_id = _preview(admin_client)
    response = post(admin_client, f"{ADMIN_URL}previews/{run_id}/run")
    real_id = _run_id(response.headers["Location"], "run=")
    wait_for_run(real_id, 60.0)
    html = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The run made exactly the 8 planned changes." in html
    assert ">Run it</button>" not in html


def test_run_it_when_pco_changed_lists_what_differs(admin_client, sandbox):
    run_id = _preview(admin_client)
    people = sandbox.control.state()["records"]["Person"]
    sandbox.control.edit_person(people[0]["id"], last_name="Changed")
    response = post(admin_client, f"{ADMIN_URL}previews/{run_id}/run")
    wait_for_run(_run_id(response.headers["Location"], "run="), 60.0)
    html = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 not in the preview, 1 planned but not made." in html
    assert f"{people[0]['first_name']} Changed: created (local)" in html


def test_a_preview_of_an_unknown_sync_starts_nothing(admin_client):
    response = post(admin_client, f"{ADMIN_URL}previews", {"action": "pull:nothing"})
    assert response.status_code == 302 and response.headers["Location"].endswith(ADMIN_URL)
    SyncRun = current_pco().models.SyncRun
    assert current_pco().db.session.scalar(select(func.count()).select_from(SyncRun)) == 0


def test_run_it_of_a_run_that_is_no_preview_is_not_found(admin_client):
    run = make_run(direction="pull", sync_type="people")
    assert post(admin_client, f"{ADMIN_URL}previews/{run.id}/run").status_code == 404


def test_a_dry_run_in_the_history_links_to_its_preview(admin_client):
    run_id = _preview(admin_client)
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert f'href="{ADMIN_URL}previews/{run_id}"' in html
