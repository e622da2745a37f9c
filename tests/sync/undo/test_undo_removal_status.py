"""After an undo, the ``pco_removal`` rows of what it put back say ``undone``, not ``applied``;
the undo's journal names them, and an undo of the undo makes them ``applied`` again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from flask_pco.sync.approvals import approve_run, waiting_runs
from tests.sync.undo.conftest import journal


def _two_people_deactivated(sandbox: Any, run_sync: Any, db: Any, models: Any) -> Any:
    """A pull that deactivated two people PCO deleted: the run."""
    sandbox.reset(people=20, seed=7)
    run_sync("pull", "people")
    listed = select(models.Person.pco_id).where(models.Person.is_active.is_(True))
    for pco_id in sorted(db.session.scalars(listed))[:2]:
        sandbox.delete_person(pco_id)
    run_sync("pull", "people")  # the first look that misses them
    run = run_sync("pull", "people")
    assert run.removed == 2
    return run


def _statuses(state: Any, run_id: int) -> list[str]:
    state.db.session.expire_all()
    Removal = state.models.Removal
    query = select(Removal.status).where(Removal.run_id == run_id).order_by(Removal.id)
    return list(state.db.session.scalars(query))


def test_undo_of_a_pull_marks_its_removals_undone(sandbox, run_sync, db, models, state, undo):
    run = _two_people_deactivated(sandbox, run_sync, db, models)
    assert _statuses(state, run.id) == ["applied", "applied"]
    undo(run.id)
    assert _statuses(state, run.id) == ["undone", "undone"]


def test_the_undo_s_journal_says_which_run_undid_the_removals(
    sandbox, run_sync, db, models, state, undo
):
    run = _two_people_deactivated(sandbox, run_sync, db, models)
    undone = undo(run.id)
    marked = [e for e in journal(undone.id) if e.record_type == "pco_removal"]
    assert [(e.field, e.old_value, e.new_value) for e in marked if e.field == "status"] == [
        ("status", "applied", "undone")
    ] * 2


def test_undo_of_the_undo_marks_the_removals_applied_again(
    sandbox, run_sync, db, models, state, undo
):
    run = _two_people_deactivated(sandbox, run_sync, db, models)
    redone = undo(undo(run.id).id)
    assert redone.status == "succeeded", redone.error_message
    assert _statuses(state, run.id) == ["applied", "applied"]


def _delete_person(db: Any, models: Any, person_id: int) -> None:
    """Delete a local person with every row that points at them (an admin's cleanup)."""
    people = models.Person.__table__
    for table in reversed(people.metadata.sorted_tables):
        for key in table.foreign_keys:
            if key.column.table is people:
                db.session.execute(delete(table).where(key.parent == person_id))
    db.session.execute(delete(people).where(people.c.id == person_id))
    db.session.commit()


def test_a_removal_whose_record_is_gone_stays_applied(sandbox, run_sync, db, models, state, undo):
    run = _two_people_deactivated(sandbox, run_sync, db, models)
    Removal = state.models.Removal
    gone = db.session.scalars(select(Removal.local_id).where(Removal.run_id == run.id)).first()
    _delete_person(db, models, gone)
    undo(run.id)
    assert sorted(_statuses(state, run.id)) == ["applied", "undone"]


def _waiting_for_approval(sandbox: Any, run_sync: Any, db: Any, models: Any) -> Any:
    """A pull that renamed someone and held 30 deactivations for an admin (over the removal
    cap): the run."""
    sandbox.reset(people=60, seed=7)
    run_sync("pull", "people")
    active = select(models.Person.pco_id).where(models.Person.is_active.is_(True))
    listed = sorted(db.session.scalars(active))
    for pco_id in listed[:30]:
        sandbox.delete_person(pco_id)
    run_sync("pull", "people")  # the first look that misses them
    sandbox.edit_person(listed[-1], last_name="Renamed")
    run = run_sync("pull", "people")
    assert (run.status, run.updated) == ("needs_approval", 1)
    return run


def _run_status(state: Any, run_id: int) -> str:
    state.db.session.expire_all()
    return str(state.db.session.get(state.models.SyncRun, run_id).status)


def test_undo_of_a_run_waiting_for_approval_withdraws_its_held_removals(
    sandbox, run_sync, db, models, state, undo
):
    run = _waiting_for_approval(sandbox, run_sync, db, models)
    assert undo(run.id).status == "succeeded"
    assert set(_statuses(state, run.id)) == {"undone"}
    assert _run_status(state, run.id) == "superseded"
    assert waiting_runs(state) == []


def test_undo_of_that_undo_makes_the_removals_wait_for_the_admin_again(
    sandbox, run_sync, db, models, state, undo
):
    run = _waiting_for_approval(sandbox, run_sync, db, models)
    redone = undo(undo(run.id).id)
    assert redone.status == "succeeded", redone.error_message
    assert set(_statuses(state, run.id)) == {"pending"}
    assert _run_status(state, run.id) == "needs_approval"
    assert "30 removed" in approve_run(state, run.id)
