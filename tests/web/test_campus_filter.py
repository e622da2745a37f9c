"""The admin page narrows its history and held matches to one campus's people."""

from __future__ import annotations

from flask.testing import FlaskClient

from .conftest import ADMIN_URL, make_issue, make_person, make_run


def campuses() -> tuple[int, int]:
    from example_app.models import Campus, db

    hilltop, valley = Campus(name="Hilltop", pco_id="1"), Campus(name="Valley", pco_id="2")
    db.session.add_all([hilltop, valley])
    db.session.commit()
    return hilltop.id, valley.id


def changed(run: object, person: object) -> None:
    """The journal entry a run leaves for a person it changed."""
    from example_app.models import db
    from flask_pco.extension import current_pco

    entry = current_pco().models.JournalEntry(
        side="local", record_type="person", local_id=person.id, action="update", run_id=run.id
    )
    db.session.add(entry)
    db.session.commit()


def test_the_history_shows_only_runs_that_changed_the_campuss_people(
    admin_client: FlaskClient,
) -> None:
    hilltop, valley = campuses()
    anna = make_person(first_name="Anna", primary_campus_id=hilltop)
    eli = make_person(first_name="Eli", primary_campus_id=valley)
    full = make_run("succeeded")
    step = make_run("succeeded", sync_type="people", parent_id=full.id)
    other = make_run("succeeded", sync_type="people")
    changed(step, anna)
    changed(other, eli)
    page = admin_client.get(f"{ADMIN_URL}?campus={hilltop}").get_data(as_text=True)
    assert f'id="pco-run-{full.id}"' in page and f'id="pco-run-{other.id}"' not in page
    everything = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert f'id="pco-run-{full.id}"' in everything and f'id="pco-run-{other.id}"' in everything


def test_held_matches_are_narrowed_to_the_campuss_people(admin_client: FlaskClient) -> None:
    hilltop, valley = campuses()
    anna = make_person(first_name="Anna", last_name="Asher", primary_campus_id=hilltop)
    eli = make_person(first_name="Eli", last_name="Shiloh", primary_campus_id=valley)
    make_issue(candidates=[anna.id], pco_id="90000001")
    make_issue(candidates=[eli.id], pco_id="90000002")
    page = admin_client.get(f"{ADMIN_URL}?campus={valley}").get_data(as_text=True)
    assert "Eli Shiloh" in page and "Anna Asher" not in page


def test_a_campus_that_does_not_exist_filters_nothing_and_says_so(
    admin_client: FlaskClient,
) -> None:
    campuses()
    run = make_run("succeeded")
    page = admin_client.get(f"{ADMIN_URL}?campus=nope").get_data(as_text=True)
    assert "No campus has the id &#39;nope&#39;: showing all" in page
    assert f'id="pco-run-{run.id}"' in page


def test_a_site_without_campuses_shows_no_filter(admin_client: FlaskClient) -> None:
    assert 'id="pco-campus-filter"' not in admin_client.get(ADMIN_URL).get_data(as_text=True)
