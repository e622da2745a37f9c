"""Incremental pulls and interrupted runs: cheap when nothing changed, whole when re-run."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import flask_pco.sync.context as context_module
from flask_pco.sync.context import RunReporter
from flask_pco.sync.pull import writer as pull_people_module
from tests.sync.conftest import sandbox_person

#: Older than any cursor overlap, so only a change that moves ``updated_at`` is re-read.
LONG_AGO = "2020-01-01T00:00:00Z"


def local_state(models):
    """Everything a people pull writes, in a form two databases can be compared by."""
    people = models.db.session.scalars(select(models.Person).order_by(models.Person.pco_id))
    return [
        (
            p.pco_id,
            p.first_name,
            p.last_name,
            p.dob,
            p.is_active,
            sorted(e.email for e in p.emails),
            sorted(ph.phone for ph in p.phones),
        )
        for p in people
    ]


def test_a_no_change_incremental_pull_of_people_costs_two_requests(sandbox, run_sync):
    """One for the people PCO changed, one for the merges it recorded (``pull/mergers.py``)."""
    sandbox.reset(people=30, seed=4)
    run_sync("pull", "people")
    again = run_sync("pull", "people", incremental=True)
    assert (again.status, again.requests_used, again.created, again.updated) == (
        "succeeded",
        2,
        0,
        0,
    )


def test_incremental_pull_picks_up_a_sandbox_edit(sandbox, run_sync, models):
    sandbox.reset(people=30, seed=4)
    run_sync("pull", "people")
    pco_id = sandbox.state()["records"]["Person"][5]["id"]
    sandbox.edit_person(pco_id, first_name="Edited")
    run = run_sync("pull", "people", incremental=True)
    person = models.db.session.scalar(select(models.Person).where(models.Person.pco_id == pco_id))
    assert (run.updated, run.requests_used, person.first_name) == (1, 2, "Edited")


def test_incremental_pull_picks_up_an_email_only_edit(sandbox, run_sync, models):
    pco_id = sandbox_person(
        sandbox, "Only", "Email", emails=["old@example.org"], updated_at=LONG_AGO
    )
    run_sync("pull", "people")
    email_id = sandbox.state()["records"]["Email"][0]["id"]
    sandbox.edit_email(email_id, address="new@example.org")
    run = run_sync("pull", "people", incremental=True)
    person = models.db.session.scalar(select(models.Person).where(models.Person.pco_id == pco_id))
    assert (run.updated, run.requests_used) == (1, 2)
    assert [e.email for e in person.emails] == ["new@example.org"]


def test_incremental_pull_picks_up_a_deleted_phone_number(sandbox, run_sync, models):
    pco_id = sandbox_person(
        sandbox, "Two", "Phones", phone_numbers=["3125550100", "3125550101"], updated_at=LONG_AGO
    )
    run_sync("pull", "people")
    phone_id = sandbox.state()["records"]["PhoneNumber"][1]["id"]
    sandbox.delete("phone_numbers", phone_id)
    run = run_sync("pull", "people", incremental=True)
    person = models.db.session.scalar(select(models.Person).where(models.Person.pco_id == pco_id))
    assert (run.updated, run.requests_used) == (1, 2)
    assert [p.phone for p in person.phones] == ["+13125550100"]


def test_incremental_without_a_cursor_is_a_full_pull(sandbox, run_sync, count, models):
    sandbox.reset(people=12, seed=4)
    run = run_sync("pull", "people", incremental=True)
    assert (run.created, count(models.Person)) == (12, 12)


def test_incremental_pull_never_deactivates_people_it_did_not_read(sandbox, run_sync, models):
    pco_id = sandbox_person(sandbox, "Quiet", "Person")
    run_sync("pull", "people")
    sandbox.delete_person(pco_id)
    run_sync("pull", "people", incremental=True)
    assert models.db.session.scalar(select(models.Person.is_active)) is True


@pytest.fixture
def cancel_after_two_pages(monkeypatch):
    """An admin's cancel arrives after the second page was committed."""
    calls = {"n": 0}

    def cancel_requested(self):
        if self.run.sync_type == "people":
            calls["n"] += 1
        return calls["n"] == 3

    monkeypatch.setattr(RunReporter, "_cancel_requested", cancel_requested)
    monkeypatch.setattr(context_module, "PAGE_FLUSH", 0)  # look for the cancel after each page


def test_a_cancelled_run_re_run_gives_the_same_result_as_one_clean_run(
    sandbox, run_sync, models, cancel_after_two_pages, monkeypatch
):
    sandbox.reset(people=35, seed=5)
    first = run_sync("pull", "people")
    assert first.status == "cancelled"
    monkeypatch.undo()
    assert 0 < len(local_state(models)) < 35
    run_sync("pull", "people")
    resumed = local_state(models)
    wipe_people(models)
    run_sync("pull", "people")
    assert local_state(models) == resumed and len(resumed) == 35


def test_a_crash_half_way_through_a_page_loses_nothing_on_re_run(
    sandbox, run_sync, models, monkeypatch
):
    sandbox.reset(people=35, seed=5)
    original = pull_people_module.family_addresses
    calls = {"n": 0}

    def crash_on_third_page(ctx, written):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        return original(ctx, written)

    monkeypatch.setattr(pull_people_module, "family_addresses", crash_on_third_page)
    failed = run_sync("pull", "people")
    assert (failed.status, len(local_state(models))) == ("failed", 20)
    monkeypatch.undo()
    rerun = run_sync("pull", "people")
    assert (rerun.status, rerun.created) == ("succeeded", 15)
    resumed = local_state(models)
    wipe_people(models)
    run_sync("pull", "people")
    assert local_state(models) == resumed


def wipe_people(models):
    session = models.db.session
    people_rows = (
        models.PersonEmail,
        models.PersonPhone,
        models.PersonAddress,
        models.FamilyMember,
    )
    for model in (*people_rows, models.Person):
        session.query(model).delete()
    session.commit()


def test_a_person_linked_concurrently_during_a_page_is_rematched_not_duplicated(
    sandbox, run_sync, models, monkeypatch, count
):
    """A webhook links the same PCO person between our lookup and our insert: the unique
    index refuses the duplicate, the page is rolled back and applied again against fresh rows."""
    pco_id = sandbox_person(sandbox, "Race", "Winner")
    original = pull_people_module.PeopleWriter._insert_new
    raced = []

    def webhook_gets_there_first(self, people, plans):
        if not raced:
            raced.append(1)
            with models.db.engine.begin() as conn:
                conn.execute(
                    models.Person.__table__.insert().values(
                        first_name="Race",
                        last_name="Winner",
                        pco_id=pco_id,
                        is_child=False,
                        is_verified=False,
                        is_active=True,
                    )
                )
        return original(self, people, plans)

    monkeypatch.setattr(pull_people_module.PeopleWriter, "_insert_new", webhook_gets_there_first)
    run = run_sync("pull", "people")
    assert (run.status, count(models.Person)) == ("succeeded", 1)
    assert models.db.session.scalar(select(models.Person.pco_snapshot)) is not None
