"""Removals are two-phase, soft, counted, and a large batch waits for an admin's approval."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from flask_pco.exceptions import ConfigError
from flask_pco.sync.approvals import approve_run, refuse_run, waiting_runs

PEOPLE = 40


@pytest.fixture
def pulled(sandbox, run_sync, models):
    """PEOPLE people pulled from PCO; returns the PCO ids of those active here."""
    sandbox.reset(people=PEOPLE, seed=7)
    run_sync("pull", "people")
    rows = select(models.Person.pco_id).where(models.Person.is_active.is_(True))
    return sorted(models.db.session.scalars(rows))


def active(models) -> int:
    return int(
        models.db.session.scalar(
            select(func.count()).select_from(models.Person).where(models.Person.is_active.is_(True))
        )
    )


def delete_in_pco(sandbox, pco_ids):
    for pco_id in pco_ids:
        sandbox.delete_person(pco_id)


def removals(state, status=None):
    Removal = state.models.Removal
    query = select(Removal)
    if status:
        query = query.where(Removal.status == status)
    return state.db.session.scalars(query).all()


def test_one_listing_missing_people_deactivates_nobody(sandbox, run_sync, models, pulled):
    delete_in_pco(sandbox, pulled[:3])
    run = run_sync("pull", "people")
    assert (run.status, run.removed, active(models)) == ("succeeded", 0, len(pulled))


def test_a_second_listing_missing_them_deactivates_them(sandbox, run_sync, models, pulled, state):
    delete_in_pco(sandbox, pulled[:3])
    run_sync("pull", "people")
    run = run_sync("pull", "people")
    assert (run.status, run.removed, active(models)) == ("succeeded", 3, len(pulled) - 3)
    assert {r.status for r in removals(state)} == {"applied"}
    assert {r.run_id for r in removals(state)} == {run.id}


def test_a_person_listed_again_between_two_looks_is_kept(sandbox, run_sync, models, pulled):
    delete_in_pco(sandbox, pulled[:1])
    run_sync("pull", "people")
    person = models.db.session.scalar(
        select(models.Person).where(models.Person.pco_id == pulled[1])
    )
    person.pco_misses = 1  # a look that wrongly missed this one
    models.db.session.commit()
    run_sync("pull", "people")
    models.db.session.refresh(person)
    assert (person.is_active, person.pco_misses) == (True, 0)


def test_an_incremental_pull_confirms_a_miss_with_one_request_each(
    sandbox, run_sync, models, pulled
):
    delete_in_pco(sandbox, pulled[:2])
    run_sync("pull", "people")
    sandbox.clear_requests()
    run = run_sync("pull", "people", incremental=True)
    assert (run.removed, active(models)) == (2, len(pulled) - 2)
    person_gets = [r for r in sandbox.requests() if r["path"].startswith("/people/v2/people/")]
    assert len(person_gets) == 2


def test_many_deletions_wait_for_approval_and_change_nothing(
    sandbox, run_sync, models, pulled, state
):
    delete_in_pco(sandbox, pulled[:30])
    run_sync("pull", "people")
    run = run_sync("pull", "people")
    assert (run.status, run.removed, active(models)) == ("needs_approval", 0, len(pulled))
    assert "30 people would be deactivated" in run.error_message
    [waiting] = waiting_runs(state)
    assert (waiting.run.id, waiting.count) == (run.id, 30)


def test_approving_makes_the_held_removals(sandbox, run_sync, models, pulled, state):
    delete_in_pco(sandbox, pulled[:30])
    run_sync("pull", "people")
    run = run_sync("pull", "people")
    approve_run(state, run.id)
    state.db.session.refresh(run)
    assert (run.status, run.removed, active(models)) == ("succeeded", 30, len(pulled) - 30)
    assert len(removals(state, "applied")) == 30


def test_refusing_makes_none_of_them(sandbox, run_sync, models, pulled, state):
    delete_in_pco(sandbox, pulled[:30])
    run_sync("pull", "people")
    run = run_sync("pull", "people")
    refuse_run(state, run.id)
    state.db.session.refresh(run)
    assert (run.status, active(models)) == ("refused", len(pulled))
    assert len(removals(state, "refused")) == 30


def test_approval_skips_a_person_pco_has_again(sandbox, run_sync, models, pulled, state):
    delete_in_pco(sandbox, pulled[:30])
    run_sync("pull", "people")
    run = run_sync("pull", "people")
    back = models.db.session.scalar(select(models.Person).where(models.Person.pco_id == pulled[0]))
    back.pco_misses = 0  # a later look found them after all
    models.db.session.commit()
    message = approve_run(state, run.id)
    assert "29 removed, 1 no longer due" in message
    models.db.session.refresh(back)
    assert back.is_active is True


def test_a_later_run_asking_again_supersedes_the_older_one(
    sandbox, run_sync, models, pulled, state
):
    delete_in_pco(sandbox, pulled[:30])
    run_sync("pull", "people")
    older = run_sync("pull", "people")
    newer = run_sync("pull", "people")
    state.db.session.refresh(older)
    assert (older.status, newer.status) == ("superseded", "needs_approval")
    assert [w.run.id for w in waiting_runs(state)] == [newer.id]
    with pytest.raises(ConfigError, match="not waiting for approval"):
        approve_run(state, older.id)


def test_a_full_run_waits_when_one_of_its_steps_does(sandbox, run_sync, models, pulled, state):
    delete_in_pco(sandbox, pulled[:30])
    run_sync("pull", "people")
    run = run_sync("pull", "full")
    assert run.status == "needs_approval" and "people:" in run.error_message
    approve_run(state, run.id)
    state.db.session.refresh(run)
    assert (run.status, run.removed, active(models)) == ("succeeded", 30, len(pulled) - 30)


def test_the_cap_needs_both_the_number_and_the_share(sandbox, run_sync, models, pulled):
    delete_in_pco(sandbox, pulled[:2])  # 2 is 5 % of 40, but not more than 25
    run_sync("pull", "people")
    assert run_sync("pull", "people").status == "succeeded"


def test_approving_a_run_that_is_not_waiting_is_refused(run_sync, state, sandbox):
    run = run_sync("pull", "people")
    with pytest.raises(ConfigError, match="not waiting for approval"):
        approve_run(state, run.id)
    with pytest.raises(ConfigError, match="there is no run 999"):
        refuse_run(state, 999)
