"""The page's POST actions: start and cancel syncs, resolve held records, the nightly schedule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from flask_pco.extension import current_pco
from flask_pco.sandbox import SandboxServer
from tests.conftest import make_app
from tests.helpers import sandbox_settings

from .conftest import (
    ADMIN_URL,
    log_in,
    make_conflict,
    make_issue,
    make_person,
    make_run,
    make_user,
    post,
)


@pytest.fixture
def queue_app(database_url: str, sandbox: SandboxServer, redis_url: str) -> Iterator[Flask]:
    """With Redis configured, a started sync is queued for a worker, so nothing runs here."""
    application = make_app(
        database_url,
        **sandbox_settings(sandbox.url),
        PCO_REDIS_URL=redis_url,
    )
    with application.app_context():
        yield application


@pytest.fixture
def queue_client(queue_app: Flask) -> FlaskClient:
    return log_in(queue_app.test_client(), make_user("admin"))


def runs() -> list:
    SyncRun = current_pco().models.SyncRun
    return list(current_pco().db.session.scalars(select(SyncRun).order_by(SyncRun.id)))


def test_a_sync_button_queues_that_sync(queue_client: FlaskClient) -> None:
    response = post(queue_client, f"{ADMIN_URL}runs", {"action": "push:group-memberships"})
    assert response.status_code == 302
    [run] = runs()
    assert (run.direction, run.sync_type, run.trigger) == ("push", "group-memberships", "admin")


def test_resync_recent_changes_is_an_incremental_full_pull(queue_client: FlaskClient) -> None:
    post(queue_client, f"{ADMIN_URL}runs", {"action": "pull:recent"})
    [run] = runs()
    assert (run.direction, run.sync_type, run.incremental) == ("pull", "full", True)


def test_sync_this_list_pulls_people_of_that_list(queue_client: FlaskClient) -> None:
    post(queue_client, f"{ADMIN_URL}runs", {"scope": "list", "pco_id": "2144187"})
    [run] = runs()
    assert (run.sync_type, run.options) == ("people", {"list_ids": ["2144187"]})


def test_sync_this_group_pulls_that_group(queue_client: FlaskClient) -> None:
    post(queue_client, f"{ADMIN_URL}runs", {"scope": "group", "pco_id": "42"})
    [run] = runs()
    assert (run.sync_type, run.options) == ("groups", {"group_id": "42"})


def test_a_non_numeric_pco_id_is_refused_and_starts_nothing(queue_client: FlaskClient) -> None:
    response = post(
        queue_client, f"{ADMIN_URL}runs", {"scope": "list", "pco_id": "12; drop"}, htmx=True
    )
    assert "digits, not starting with 0" in response.get_data(as_text=True)
    assert runs() == []


def test_an_unknown_action_is_refused(queue_client: FlaskClient) -> None:
    response = post(queue_client, f"{ADMIN_URL}runs", {"action": "pull:everything"}, htmx=True)
    assert "unknown sync" in response.get_data(as_text=True)
    assert runs() == []


def test_a_second_sync_while_one_runs_is_refused_with_the_running_one_named(
    queue_client: FlaskClient,
) -> None:
    active = make_run("running", sync_type="people")
    response = post(queue_client, f"{ADMIN_URL}runs", {"action": "pull:full"}, htmx=True)
    html = response.get_data(as_text=True)
    assert "already in progress" in html and f"run {active.id}" in html
    assert len(runs()) == 1


def test_starting_with_htmx_answers_with_polling_progress(queue_client: FlaskClient) -> None:
    response = post(queue_client, f"{ADMIN_URL}runs", {"action": "pull:people"}, htmx=True)
    html = response.get_data(as_text=True)
    assert 'hx-trigger="every 3s"' in html
    assert 'id="pco-notice"' in html and "Started" in html


def test_cancel_asks_the_running_run_to_stop(admin_client: FlaskClient) -> None:
    run = make_run("running")
    response = post(admin_client, f"{ADMIN_URL}runs/{run.id}/cancel", htmx=True)
    assert "Cancel requested" in response.get_data(as_text=True)
    current_pco().db.session.refresh(run)
    assert run.cancel_requested is True


def test_cancel_of_a_finished_run_says_so(admin_client: FlaskClient) -> None:
    run = make_run("succeeded")
    response = post(admin_client, f"{ADMIN_URL}runs/{run.id}/cancel", htmx=True)
    assert "is not running" in response.get_data(as_text=True)


def test_marking_a_held_match_resolved_removes_it_from_the_list(admin_client: FlaskClient) -> None:
    issue = make_issue()
    response = post(admin_client, f"{ADMIN_URL}issues/{issue.id}/resolve", htmx=True)
    assert "ada@example.org" not in response.get_data(as_text=True)
    current_pco().db.session.refresh(issue)
    assert issue.resolved_at is not None


def test_resolving_a_missing_issue_is_a_404(admin_client: FlaskClient) -> None:
    assert post(admin_client, f"{ADMIN_URL}issues/999/resolve").status_code == 404


def test_keeping_pcos_value_leaves_the_row_alone(admin_client: FlaskClient) -> None:
    person = make_person(last_name="King", pco_snapshot={"last_name": "King"})
    conflict = make_conflict(person, "last_name", local="Byron", pco="King", base="Lovelace")
    post(admin_client, f"{ADMIN_URL}conflicts/{conflict.id}/resolve", {"keep": "pco"})
    session = current_pco().db.session
    session.refresh(conflict)
    session.refresh(person)
    assert (conflict.resolution, person.last_name) == ("pco", "King")
    assert conflict.resolved_at is not None


def test_using_the_local_value_restores_it_for_the_next_push(admin_client: FlaskClient) -> None:
    person = make_person(dob=date(1990, 1, 1), pco_snapshot={"dob": "1990-01-01"})
    conflict = make_conflict(person, "dob", local="1985-06-30", pco="1990-01-01", base="1980-01-01")
    post(admin_client, f"{ADMIN_URL}conflicts/{conflict.id}/resolve", {"keep": "local"})
    session = current_pco().db.session
    session.refresh(person)
    session.refresh(conflict)
    assert person.dob == date(1985, 6, 30)
    assert person.pco_snapshot == {"dob": "1990-01-01"}  # so the merge sees a local change
    assert conflict.resolution == "local"


def test_an_unknown_conflict_choice_changes_nothing(admin_client: FlaskClient) -> None:
    person = make_person()
    conflict = make_conflict(person, "last_name", local="Byron", pco="Lovelace", base="X")
    response = post(
        admin_client, f"{ADMIN_URL}conflicts/{conflict.id}/resolve", {"keep": "both"}, htmx=True
    )
    assert "choose which value to keep" in response.get_data(as_text=True)
    current_pco().db.session.refresh(conflict)
    assert conflict.resolved_at is None


def test_the_nightly_schedule_is_saved(admin_client: FlaskClient) -> None:
    from flask_pco.jobs.queue import get_schedule

    response = post(admin_client, f"{ADMIN_URL}schedule", {"enabled": "on", "hour": "3"})
    assert response.status_code == 302
    schedule = get_schedule()
    assert (schedule.enabled, schedule.hour) == (True, 3)
    assert "every night at 03:00" in admin_client.get(ADMIN_URL).get_data(as_text=True)


def test_turning_the_nightly_sync_on_without_redis_says_nothing_will_run_it(
    admin_client: FlaskClient,
) -> None:
    response = post(admin_client, f"{ADMIN_URL}schedule", {"enabled": "on", "hour": "3"}, htmx=True)
    notice = response.get_data(as_text=True)
    assert "nothing will run it yet" in notice and "PCO_REDIS_URL" in notice


def test_the_nightly_sync_is_described_as_the_pull_it_is(admin_client: FlaskClient) -> None:
    page = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert "nothing is pushed" in page and "pushes and pulls" not in page


def test_a_bad_hour_is_refused_and_changes_nothing(admin_client: FlaskClient) -> None:
    from flask_pco.jobs.queue import get_schedule

    before = get_schedule()
    response = post(
        admin_client, f"{ADMIN_URL}schedule", {"enabled": "on", "hour": "25"}, htmx=True
    )
    assert "from 0 to 23" in response.get_data(as_text=True)
    assert get_schedule() == before


def test_a_plain_form_post_redirects_back_with_a_message(admin_client: FlaskClient) -> None:
    issue = make_issue()
    response = post(admin_client, f"{ADMIN_URL}issues/{issue.id}/resolve")
    assert response.status_code == 302 and response.headers["Location"] == ADMIN_URL
    assert f"Issue {issue.id} marked resolved." in admin_client.get(ADMIN_URL).get_data(
        as_text=True
    )


def test_connection_test_shows_the_organisation_and_budget(admin_client: FlaskClient) -> None:
    html = post(admin_client, f"{ADMIN_URL}connection/test", htmx=True).get_data(as_text=True)
    assert "Grace Church Sandbox" in html
    assert "Rate budget" in html


def test_connection_test_shows_why_it_failed(database_url: str, sandbox: SandboxServer) -> None:
    app = make_app(
        database_url,
        PCO_API_URL=sandbox.url,
        PCO_APP_ID="sandbox",
        PCO_SECRET="not-the-real-secret-123",
    )
    with app.app_context():
        client = log_in(app.test_client(), make_user("admin"))
        html = post(client, f"{ADMIN_URL}connection/test", htmx=True).get_data(as_text=True)
    assert "Connection failed" in html
    assert "not-the-real-secret-123" not in html


def test_linking_a_held_match_links_the_chosen_local_person(admin_client: FlaskClient) -> None:
    first, second = make_person(), make_person()
    issue = make_issue(candidates=[first.id, second.id])
    post(admin_client, f"{ADMIN_URL}issues/{issue.id}/link", {"candidate": str(second.id)})
    current_pco().db.session.expire_all()
    assert (first.pco_id, second.pco_id) == (None, "90000001")
    assert (issue.resolved_at is not None, issue.resolution) == (True, f"linked:{second.id}")


def test_create_new_settles_a_held_match_without_linking_anyone(
    admin_client: FlaskClient,
) -> None:
    first, second = make_person(), make_person()
    issue = make_issue(candidates=[first.id, second.id])
    post(admin_client, f"{ADMIN_URL}issues/{issue.id}/link", {"create_new": "1"})
    current_pco().db.session.expire_all()
    assert (first.pco_id, second.pco_id, issue.resolution) == (None, None, "create_new")


def test_linking_to_a_person_who_is_not_a_candidate_is_refused(
    admin_client: FlaskClient,
) -> None:
    first, second, other = make_person(), make_person(), make_person()
    issue = make_issue(candidates=[first.id, second.id])
    response = post(
        admin_client, f"{ADMIN_URL}issues/{issue.id}/link", {"candidate": str(other.id)}
    )
    current_pco().db.session.expire_all()
    assert other.pco_id is None and issue.resolved_at is None
    follow = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is not a candidate of issue" in follow


def _waiting_run_removing(person: Any) -> Any:
    from example_app.models import db

    state = current_pco()
    person.pco_id, person.pco_misses = "90000009", 2
    run = make_run("needs_approval")
    run.error_message = "1 people would be deactivated: approve or refuse"
    db.session.add(
        state.models.Removal(
            run_id=run.id,
            role="person",
            local_id=person.id,
            pco_id="90000009",
            action="deactivate",
            label="Ada Lovelace",
            reason="PCO person 90000009: a complete listing of PCO's people no longer has them",
        )
    )
    db.session.commit()
    return run


def test_a_run_waiting_for_approval_is_shown_with_what_it_would_remove(
    admin_client: FlaskClient,
) -> None:
    run = _waiting_run_removing(make_person())
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert "Waiting for approval" in html and "Deactivate Ada Lovelace" in html
    assert f"runs/{run.id}/decide" in html


def test_approving_on_the_page_makes_the_removal(admin_client: FlaskClient) -> None:
    person = make_person()
    run = _waiting_run_removing(person)
    post(admin_client, f"{ADMIN_URL}runs/{run.id}/decide", {"decision": "approve"})
    current_pco().db.session.expire_all()
    assert (person.is_active, run.status, run.removed) == (False, "succeeded", 1)


def test_refusing_on_the_page_changes_nothing(admin_client: FlaskClient) -> None:
    person = make_person()
    run = _waiting_run_removing(person)
    post(admin_client, f"{ADMIN_URL}runs/{run.id}/decide", {"decision": "refuse"})
    current_pco().db.session.expire_all()
    assert (person.is_active, run.status) == (True, "refused")


def test_starting_moves_focus_to_the_progress_card(queue_client: FlaskClient) -> None:
    response = post(queue_client, f"{ADMIN_URL}runs", {"action": "pull:people"}, htmx=True)
    trigger = json.loads(response.headers["HX-Trigger-After-Settle"])
    assert trigger == {"pco-focus": "#pco-progress-title"}
    assert 'id="pco-progress-title" tabindex="-1"' in response.get_data(as_text=True)
