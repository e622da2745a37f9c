"""A push journals what it did in PCO (side ``pco``) with the commit that stores PCO's id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from flask_pco.extension import current_pco

from .conftest import add_family, add_membership, add_person, records, run_push


def entries(db: Any, **where: Any) -> list[Any]:
    Entry = current_pco().models.JournalEntry
    return list(db.session.scalars(select(Entry).filter_by(**where).order_by(Entry.id)))


def test_a_person_created_in_pco_is_journaled_on_the_pco_side_and_linked_here(db, sandbox):
    person = add_person(db)
    report = run_push("people")
    [created] = records(sandbox, "Person")
    journaled = entries(db, run_id=report.run_id, record_type="person")
    assert [(e.side, e.action, e.local_id, e.pco_id) for e in journaled] == [
        ("pco", "create", person.id, created["id"]),
        ("local", "link", person.id, created["id"]),
    ]


def test_a_local_edit_pushed_is_journaled_with_pco_s_old_value(db, sandbox):
    person = add_person(db, last_name="Garcia")
    run_push("people")
    person.last_name = "García"
    db.session.commit()
    report = run_push("people")
    [entry] = entries(db, run_id=report.run_id, side="pco")
    assert (entry.action, entry.field, entry.old_value, entry.new_value) == (
        "update",
        "last_name",
        "Garcia",
        "García",
    )
    assert entry.pco_id == records(sandbox, "Person")[0]["id"]


def test_a_push_with_nothing_new_journals_nothing(db, sandbox):
    add_person(db, emails=("dana@example.org",))
    run_push("people")
    report = run_push("people")
    assert entries(db, run_id=report.run_id) == []


def test_a_family_pushed_journals_the_household_created_in_pco(db, sandbox):
    dana = add_person(db)
    family = add_family(db, "Newcomer", (dana, "adult"))
    report = run_push("families")
    [household] = records(sandbox, "Household")
    created = entries(db, run_id=report.run_id, record_type="family", action="create")
    assert [(e.side, e.local_id, e.pco_id) for e in created] == [
        ("pco", family.id, household["id"])
    ]


def test_a_membership_pushed_journals_its_create_in_pco(db, sandbox, pco_group):
    membership = add_membership(db, pco_group, add_person(db))
    report = run_push("group-memberships")
    created = entries(db, run_id=report.run_id, record_type="group_membership", side="pco")
    assert [(e.action, e.local_id) for e in created] == [("create", membership.id)]
    assert created[0].pco_id is not None


def test_a_dry_run_push_journals_nothing(db, sandbox):
    add_person(db)
    report = run_push("people", dry_run=True)
    assert entries(db, run_id=report.run_id) == []
