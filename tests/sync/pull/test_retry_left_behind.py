"""People a pull could not write are fetched again by the next pulls, even incremental ones
that PCO's unchanged record would not bring: written once the site lets them, tried a
bounded number of times, and never after an admin chose to ignore them."""

from __future__ import annotations

from sqlalchemy import select, update

from flask_pco import current_pco
from tests.helpers import allow_last_names
from tests.sync.conftest import sandbox_person

REFUSED = "Refusedname"


def issues(pco_id):
    state = current_pco()
    Issue = state.models.SyncIssue
    return list(state.db.session.scalars(select(Issue).where(Issue.pco_id == pco_id)))


def unchanged_person(sandbox, first):
    """A PCO person last edited long ago: an incremental pull's listing does not bring them."""
    sandbox.set_clock("2020-01-01T00:00:00Z")
    pco_id = sandbox_person(sandbox, first, REFUSED)
    sandbox.set_clock(None)
    return pco_id


def refetches(sandbox, pco_id):
    return [
        r for r in sandbox.requests() if r["path"].split("?")[0] == f"/people/v2/people/{pco_id}"
    ]


def test_an_incremental_pull_writes_a_person_the_site_now_accepts(
    sandbox, run_sync, models, refused_last_name
):
    sandbox.reset(people=0)
    refused_last_name(models.db, REFUSED)
    pco_id = unchanged_person(sandbox, "Ann")
    run_sync("pull", "people")
    assert [i.resolved_at for i in issues(pco_id)] == [None]
    allow_last_names(models.db)

    run = run_sync("pull", "people", incremental=True)

    assert run.status == "succeeded", run.error_message
    person = models.db.session.scalar(select(models.Person).where(models.Person.pco_id == pco_id))
    assert person is not None and person.last_name == REFUSED
    assert [i.resolution for i in issues(pco_id)] == ["retried"]


def test_a_person_still_refused_is_tried_a_bounded_number_of_times(
    sandbox, run_sync, models, refused_last_name
):
    sandbox.reset(people=0)
    refused_last_name(models.db, REFUSED)
    pco_id = unchanged_person(sandbox, "Bo")
    run_sync("pull", "people")
    sandbox.clear_requests()

    for _ in range(5):
        run_sync("pull", "people", incremental=True)

    assert len(refetches(sandbox, pco_id)) == 3
    assert all(i.resolved_at is None for i in issues(pco_id))


def test_a_person_an_admin_ignored_is_not_tried_again(sandbox, run_sync, models, refused_last_name):
    sandbox.reset(people=0)
    refused_last_name(models.db, REFUSED)
    pco_id = unchanged_person(sandbox, "Cy")
    run_sync("pull", "people")
    Issue = current_pco().models.SyncIssue
    models.db.session.execute(
        update(Issue).values(resolved_at=Issue.created_at, resolution="dismissed")
    )
    models.db.session.commit()
    allow_last_names(models.db)
    sandbox.clear_requests()

    run_sync("pull", "people", incremental=True)

    assert refetches(sandbox, pco_id) == []


def test_a_full_pull_that_writes_the_person_closes_their_issues(
    sandbox, run_sync, models, refused_last_name
):
    sandbox.reset(people=0)
    refused_last_name(models.db, REFUSED)
    pco_id = sandbox_person(sandbox, "Di", REFUSED)
    run_sync("pull", "people")
    allow_last_names(models.db)

    run_sync("pull", "people")

    assert [i.resolution for i in issues(pco_id)] == ["retried"]
