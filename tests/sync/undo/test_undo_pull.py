"""Undo of a pull: the site's rows as they were before it, and an undo of the undo as after."""

from __future__ import annotations

from sqlalchemy import select

from tests.sync.conftest import sandbox_person
from tests.sync.undo.conftest import journal, tables


def _pulled_then_changed(sandbox, run_sync, db):
    """A first pull, then PCO changes: a rename, a new email, a new person. Returns the
    tables after the first pull and the second pull's run."""
    maria = sandbox_person(sandbox, "Maria", "Garcia", emails=["maria@example.org"])
    sandbox_person(sandbox, "Ana", "Ruiz")
    run_sync("pull", "people")
    before = tables(db)
    sandbox.edit_person(maria, last_name="García")
    sandbox_person(sandbox, "Lucas", "Moreau", emails=["lucas@example.org"])
    second = run_sync("pull", "people")
    assert second.status == "succeeded"
    assert tables(db) != before
    return before, second


def test_undo_of_a_pull_puts_every_row_back_as_it_was(sandbox, run_sync, db, undo):
    before, second = _pulled_then_changed(sandbox, run_sync, db)
    undone = undo(second.id)
    assert undone.status == "succeeded", undone.error_message
    assert (undone.direction, undone.sync_type) == ("undo", "run")
    assert tables(db) == before


def test_undo_of_a_pull_sends_nothing_to_pco(sandbox, run_sync, db, undo):
    _, second = _pulled_then_changed(sandbox, run_sync, db)
    sandbox.clear_requests()
    undo(second.id)
    assert [r for r in sandbox.requests() if r["method"] != "GET"] == []


def test_undo_of_an_undo_puts_the_pull_s_changes_back(sandbox, run_sync, db, undo):
    _, second = _pulled_then_changed(sandbox, run_sync, db)
    after = tables(db)
    first_undo = undo(second.id)
    again = undo(first_undo.id)
    assert again.status == "succeeded", again.error_message
    assert tables(db) == after


def test_the_undo_is_journaled_as_its_own_run(sandbox, run_sync, db, undo):
    _, second = _pulled_then_changed(sandbox, run_sync, db)
    undone = undo(second.id)
    renamed = [(e.field, e.old_value, e.new_value) for e in journal(undone.id) if e.field]
    assert ("last_name", "García", "Garcia") in renamed


def test_a_field_edited_here_since_becomes_a_conflict_not_an_overwrite(
    sandbox, run_sync, db, undo, models
):
    maria = sandbox_person(sandbox, "Maria", "Garcia")
    run_sync("pull", "people")
    sandbox.edit_person(maria, last_name="García")
    second = run_sync("pull", "people")
    person = db.session.scalar(select(models.Person).filter_by(pco_id=maria))
    person.last_name = "García-López"
    db.session.commit()
    undone = undo(second.id)
    db.session.expire_all()
    assert db.session.get(models.Person, person.id).last_name == "García-López"
    Conflict = db.Model.registry._class_registry["Conflict"]
    [conflict] = db.session.scalars(select(Conflict))
    assert (conflict.field, conflict.base_value, conflict.local_value, conflict.pco_value) == (
        "last_name",
        "García",
        "García-López",
        "Garcia",
    )
    assert undone.skipped == 1


def test_a_person_the_pull_created_stays_when_the_site_added_to_them(
    sandbox, run_sync, db, undo, models
):
    run_sync("pull", "people")
    sandbox_person(sandbox, "Lucas", "Moreau")
    second = run_sync("pull", "people")
    lucas = db.session.scalar(select(models.Person).filter_by(first_name="Lucas"))
    db.session.add(models.PersonEmail(person_id=lucas.id, email="typed@here.org"))
    db.session.commit()
    undone = undo(second.id)
    db.session.expire_all()
    assert db.session.get(models.Person, lucas.id) is not None
    Issue = db.Model.registry._class_registry["SyncIssue"]
    [issue] = db.session.scalars(select(Issue).where(Issue.run_id == undone.id))
    assert "kept, created by run" in issue.reason
    assert "1 record of the site point at it" in issue.reason


def test_undo_of_a_first_full_pull_removes_what_it_brought_and_its_undo_brings_it_back(
    sandbox, run_sync, db, undo
):
    sandbox.reset(people=12, seed=3)
    before = tables(db)
    full = run_sync("pull", "full")
    assert full.status == "succeeded", full.error_message
    after = tables(db)
    assert after["families"] and after["group_membership"]
    first = undo(full.id)
    assert first.status == "succeeded", first.error_message
    assert tables(db) == before
    again = undo(first.id)
    assert again.status == "succeeded", again.error_message
    assert tables(db) == after


def test_undoing_the_same_run_again_changes_nothing(sandbox, run_sync, db, undo):
    before, second = _pulled_then_changed(sandbox, run_sync, db)
    undo(second.id)
    again = undo(second.id)  # as a re-run after an undo that stopped half-way would
    assert again.status == "succeeded", again.error_message
    assert journal(again.id) == []
    assert tables(db) == before


def test_undo_unlinks_a_local_person_the_pull_linked(sandbox, run_sync, db, undo, local_person):
    local_person("Ana", "Ruiz", emails=("ana@example.org",))
    sandbox_person(sandbox, "Ana", "Ruiz", emails=["ana@example.org"], birthdate="1990-02-03")
    before = tables(db)
    pull = run_sync("pull", "people")
    assert tables(db)["people"][0]["pco_id"] is not None
    undo(pull.id)
    assert tables(db) == before
