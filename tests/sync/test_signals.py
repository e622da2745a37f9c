"""The host's signals: sent once per record after the commit, never for rolled-back work or a
dry run, and a receiver that raises does not stop the sync."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from flask_pco import (
    conflict_recorded,
    family_changed,
    membership_changed,
    person_deactivated,
    person_pulled,
    run_finished,
    run_started,
)
from tests.sync.conftest import sandbox_person


def test_a_first_pull_sends_person_pulled_once_per_new_person(sandbox, run_sync, models, hear, app):
    sandbox.reset(people=12, seed=3)
    pulled = hear(person_pulled)
    run = run_sync("pull", "people")
    people = {p.pco_id: p for p in models.db.session.scalars(select(models.Person))}
    assert sorted(c["pco_id"] for c in pulled.calls) == sorted(people)
    call = pulled.by_pco_id()[next(iter(people))]
    person = people[call["pco_id"]]
    assert (call["sender"], call["local_id"], call["run_id"], call["created"]) == (
        app,
        person.id,
        run.id,
        True,
    )
    assert call["changes"]["last_name"] == (None, person.last_name)
    assert call["committed"] is True


def test_a_rename_in_pco_sends_the_field_with_old_and_new(sandbox, run_sync, models, hear):
    pco_id = sandbox_person(sandbox, "Maria", "Garcia")
    run_sync("pull", "people")
    pulled = hear(person_pulled)
    sandbox.edit_person(pco_id, last_name="García", first_name="María")
    run_sync("pull", "people")
    [call] = pulled.calls
    assert call["changes"] == {"last_name": ("Garcia", "García"), "first_name": ("Maria", "María")}
    assert (call["created"], call["actions"], call["side"]) == (False, ("update",), "local")


def test_an_unchanged_pull_sends_no_record_signal(sandbox, run_sync, hear):
    sandbox.reset(people=12, seed=3)
    run_sync("pull", "people")
    pulled = hear(person_pulled)
    run_sync("pull", "people")
    assert pulled.calls == []


def test_a_run_sends_started_and_finished_with_its_counts(sandbox, run_sync, hear):
    sandbox.reset(people=5, seed=3)
    started, finished = hear(run_started), hear(run_finished)
    run = run_sync("pull", "people")
    [begun], [ended] = started.calls, finished.calls
    assert (begun["run_id"], begun["sync_type"], begun["direction"]) == (run.id, "people", "pull")
    assert (ended["run_id"], ended["status"], ended["counts"]["created"]) == (
        run.id,
        "succeeded",
        5,
    )


def test_a_dry_run_sends_nothing(sandbox, run_sync, models, hear):
    sandbox.reset(people=12, seed=3)
    heard = [hear(signal) for signal in (person_pulled, family_changed, run_started, run_finished)]
    run = run_sync("pull", "full", dry_run=True)
    assert run.status == "succeeded"
    assert models.db.session.scalars(select(models.Person)).all() == []
    assert [h.calls for h in heard] == [[], [], [], []]


def test_a_refused_page_sends_only_for_the_records_written(sandbox, run_sync, models, hear):
    sandbox.reset(people=20, seed=3)
    household_ids = [h["id"] for h in sandbox.state()["records"]["Household"]]
    sandbox.edit_household(household_ids[0], name="H" * 250)  # families.name holds 200
    run_sync("pull", "people")
    changed = hear(family_changed)
    run_sync("pull", "families")
    families = {f.id for f in models.db.session.scalars(select(models.Family))}
    heard = [c["local_id"] for c in changed.calls if c["record_type"] == "family"]
    assert sorted(heard) == sorted(families)  # each once; the refused one never


def test_a_removal_sends_person_deactivated(sandbox, run_sync, models, hear):
    sandbox.reset(people=40, seed=7)
    run_sync("pull", "people")
    gone = models.db.session.scalar(select(models.Person).order_by(models.Person.id))
    sandbox.delete_person(gone.pco_id)
    deactivated, pulled = hear(person_deactivated), hear(person_pulled)
    run_sync("pull", "people")
    assert deactivated.calls == []  # one missed look is not enough
    run_sync("pull", "people")
    [call] = deactivated.calls
    assert (call["local_id"], call["pco_id"], call["changes"]) == (
        gone.id,
        gone.pco_id,
        {"is_active": (True, False)},
    )
    assert pulled.calls == []


def test_a_conflict_sends_conflict_recorded_with_both_values(
    sandbox, run_sync, models, state, hear
):
    pco_id = sandbox_person(sandbox, "Original", "Name")
    run_sync("pull", "people")
    mine = models.db.session.scalar(select(models.Person).filter_by(pco_id=pco_id))
    mine.first_name = "LocalEdit"
    models.db.session.commit()
    sandbox.edit_person(pco_id, first_name="PcoEdit")
    conflicts = hear(conflict_recorded)
    run = run_sync("pull", "people")
    [call] = conflicts.calls
    conflict = models.db.session.scalar(select(state.models.Conflict))
    assert (call["record_type"], call["local_id"], call["pco_id"], call["run_id"]) == (
        "person",
        mine.id,
        pco_id,
        run.id,
    )
    assert call["changes"] == {"first_name": ("LocalEdit", "PcoEdit")}
    assert call["conflict_ids"] == [conflict.id]


def test_a_receiver_that_raises_does_not_break_the_run(sandbox, run_sync, models, hear, caplog):
    sandbox.reset(people=12, seed=3)

    def bad_query(sender: Any, **payload: Any) -> None:  # leaves PostgreSQL's transaction failed
        models.db.session.execute(text("SELECT no_such_column FROM people"))

    def down(sender: Any, **payload: Any) -> None:
        raise RuntimeError("mail server down at smtp://mail:hunter2@example.org")

    person_pulled.connect(bad_query)
    person_pulled.connect(down)
    pulled = hear(person_pulled)  # connected after the broken ones: still hears every person
    try:
        run = run_sync("pull", "full")
    finally:
        person_pulled.disconnect(bad_query)
        person_pulled.disconnect(down)
    assert run.status == "succeeded"
    assert len(pulled.calls) == len(models.db.session.scalars(select(models.Person)).all()) == 12
    assert "raised RuntimeError" in caplog.text
    assert "hunter2" not in caplog.text


def test_a_group_pull_sends_membership_changed_once_per_membership(sandbox, run_sync, models, hear):
    sandbox.reset(people=12, seed=3)
    changed = hear(membership_changed)
    run_sync("pull", "full")
    memberships = {m.id for m in models.db.session.scalars(select(models.GroupMembership))}
    assert memberships
    assert sorted(c["local_id"] for c in changed.calls) == sorted(memberships)
    assert {c["record_type"] for c in changed.calls} == {"group_membership"}


def test_a_conflict_in_a_refused_page_is_sent_once_for_the_retry_that_commits(
    sandbox, run_sync, models, hear
):
    sandbox.reset(people=20, seed=3)
    run_sync("pull", "people")
    run_sync("pull", "families")
    households = [h["id"] for h in sandbox.state()["records"]["Household"]]
    mine = models.db.session.scalar(select(models.Family).filter_by(pco_id=households[1]))
    mine.name = "Edited Here"
    models.db.session.commit()
    sandbox.edit_household(households[1], name="Edited In PCO")
    sandbox.edit_household(households[0], name="H" * 250)  # PostgreSQL refuses its page
    conflicts = hear(conflict_recorded)
    run_sync("pull", "families")
    [call] = conflicts.calls
    assert (call["local_id"], call["changes"]) == (
        mine.id,
        {"name": ("Edited Here", "Edited In PCO")},
    )
