"""Undo of an admin's own merge (`flask pco merge ISSUE`, ``PCO_AUTO_MERGE`` off): the merge is
a run of its own, so `flask pco undo RUN_ID` puts every row back and opens the held merge again."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select

from tests.sync.conftest import sandbox_person
from tests.sync.undo.conftest import tables


def _held_merge(
    sandbox: Any, run_sync: Any, db: Any, models: Any, state: Any, kept_allergies: str = ""
) -> Any:
    """Two people pulled, local data on the one PCO then merged away (and ``kept_allergies``
    on the other), pulled again with automatic merges off: the held merge's issue."""
    state.config = dataclasses.replace(state.config, auto_merge=False)
    keep = sandbox_person(sandbox, "Ana", "Ruiz", emails=["ana@example.org"])
    remove = sandbox_person(sandbox, "Ana", "Ruíz")
    run_sync("pull", "people")
    removed = db.session.scalar(select(models.Person).filter_by(pco_id=remove))
    removed.allergies = "peanuts"
    db.session.scalar(select(models.Person).filter_by(pco_id=keep)).allergies = kept_allergies
    db.session.add(models.CheckIn(person_id=removed.id, security_code="K7"))
    db.session.commit()
    sandbox.merge_people(keep, remove)
    run_sync("pull", "people")
    return db.session.scalars(select(state.models.SyncIssue).filter_by(kind="merged")).one()


def _cli(app: Any, *args: str) -> Any:
    result = app.test_cli_runner().invoke(args=["pco", *args])
    assert result.exit_code == 0, result.output
    return result


def _merge_run(state: Any) -> Any:
    state.db.session.expire_all()
    SyncRun = state.models.SyncRun
    return state.db.session.scalars(select(SyncRun).filter_by(direction="merge")).one()


def test_an_admins_merge_is_a_run_the_cli_names(app, sandbox, run_sync, db, models, state):
    issue = _held_merge(sandbox, run_sync, db, models, state)
    result = _cli(app, "merge", str(issue.id))
    run = _merge_run(state)
    assert (run.sync_type, run.trigger, run.status) == ("person", "cli", "succeeded")
    assert f"flask pco undo {run.id}" in result.output


def test_undo_of_an_admins_merge_puts_every_row_back(app, sandbox, run_sync, db, models, state):
    issue = _held_merge(sandbox, run_sync, db, models, state)
    before = tables(db)
    _cli(app, "merge", str(issue.id))
    assert tables(db) != before
    _cli(app, "undo", str(_merge_run(state).id))
    assert tables(db) == before


def test_undo_of_an_admins_merge_opens_the_held_merge_again(
    app, sandbox, run_sync, db, models, state
):
    issue = _held_merge(sandbox, run_sync, db, models, state)
    _cli(app, "merge", str(issue.id))
    _cli(app, "undo", str(_merge_run(state).id))
    db.session.expire_all()
    reopened = db.session.get(state.models.SyncIssue, issue.id)
    assert (reopened.resolved_at, reopened.resolution) == (None, None)


def test_undo_of_an_admins_merge_takes_away_the_conflict_it_raised(
    app, sandbox, run_sync, db, models, state
):
    issue = _held_merge(sandbox, run_sync, db, models, state, kept_allergies="gluten")
    before = tables(db)
    _cli(app, "merge", str(issue.id))
    assert len(tables(db)["pco_conflict"]) == 1
    _cli(app, "undo", str(_merge_run(state).id))
    assert tables(db) == before


def test_undo_of_the_undo_merges_again(app, sandbox, run_sync, db, models, state, undo):
    issue = _held_merge(sandbox, run_sync, db, models, state, kept_allergies="gluten")
    _cli(app, "merge", str(issue.id))
    merged = tables(db)
    undone = undo(_merge_run(state).id)
    redone = undo(undone.id)
    assert redone.status == "succeeded", redone.error_message
    assert tables(db) == merged


def test_undo_of_an_admins_merge_marks_its_removal_undone(
    app, sandbox, run_sync, db, models, state
):
    issue = _held_merge(sandbox, run_sync, db, models, state)
    _cli(app, "merge", str(issue.id))
    run = _merge_run(state)
    _cli(app, "undo", str(run.id))
    db.session.expire_all()
    removal = db.session.scalars(select(state.models.Removal).filter_by(run_id=run.id)).one()
    assert (removal.action, removal.status) == ("merge", "undone")


def test_an_admins_merge_waits_for_the_run_slot(app, sandbox, run_sync, db, models, state):
    from flask_pco.sync.runs import queue_run

    issue = _held_merge(sandbox, run_sync, db, models, state)
    queue_run(state, "people", "pull")  # a pull holds the organisation's slot
    result = app.test_cli_runner().invoke(args=["pco", "merge", str(issue.id)])
    assert result.exit_code == 1
    assert "a sync is already in progress" in result.output
    db.session.expire_all()
    assert db.session.get(state.models.SyncIssue, issue.id).resolved_at is None
