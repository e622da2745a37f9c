"""Undo of a merge of two local people (PCO merged their profiles, a pull carried it out): the
retired row is current again and what moved to the survivor goes back to it."""

from __future__ import annotations

from sqlalchemy import select

from tests.sync.conftest import sandbox_person
from tests.sync.undo.conftest import tables


def _merged_by_a_pull(sandbox, run_sync, db, models):
    keep = sandbox_person(sandbox, "Ana", "Ruiz", emails=["ana@example.org"])
    remove = sandbox_person(sandbox, "Ana", "Ruíz")
    run_sync("pull", "people")
    removed = db.session.scalar(select(models.Person).filter_by(pco_id=remove))
    removed.allergies = "peanuts"
    db.session.add(models.CheckIn(person_id=removed.id, security_code="K7"))
    db.session.commit()
    before = tables(db)
    sandbox.merge_people(keep, remove)
    run = run_sync("pull", "people")
    assert run.status == "succeeded", run.error_message
    db.session.expire_all()
    assert db.session.get(models.Person, removed.id).pco_merged_into is not None
    return removed.id, before, run


def test_undo_of_a_merge_gives_the_retired_person_their_data_back(
    sandbox, run_sync, db, models, undo
):
    removed_id, _, run = _merged_by_a_pull(sandbox, run_sync, db, models)
    undone = undo(run.id)
    assert undone.status == "succeeded", undone.error_message
    person = db.session.get(models.Person, removed_id)
    assert (person.is_active, person.pco_merged_into, person.allergies) == (True, None, "peanuts")
    assert [c.person_id for c in db.session.scalars(select(models.CheckIn))] == [removed_id]


def test_undo_of_a_merge_puts_every_row_back_as_it_was(sandbox, run_sync, db, models, undo):
    _, before, run = _merged_by_a_pull(sandbox, run_sync, db, models)
    undo(run.id)
    assert tables(db) == before
