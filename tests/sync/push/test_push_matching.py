"""The push links people PCO already has, as a pull would, and holds every doubt: never a
duplicate in PCO, whatever the local data looks like."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from example_app.models import Person
from flask_pco.exceptions import ConfigError
from flask_pco.extension import current_pco
from flask_pco.sync import holds
from flask_pco.sync.engine import execute_run
from flask_pco.sync.runs import queue_run

from .conftest import add_person, records, run_push, writes

DOB = date(1984, 3, 9)


def run_pull(name: str = "people") -> None:
    state = current_pco()
    execute_run(state, queue_run(state, name, "pull"), state.client())


def pco_people(sandbox):
    return records(sandbox, "Person")


def open_holds(db):
    Issue = current_pco().models.SyncIssue
    return db.session.scalars(
        select(Issue).where(Issue.kind == "ambiguous", Issue.resolved_at.is_(None))
    ).all()


def test_a_person_pco_has_by_name_and_birthdate_is_linked_not_created(db, sandbox):
    person = add_person(db, "Maria", "Garcia", dob=DOB)
    existing = sandbox.add_person(first_name="Maria", last_name="Garcia", birthdate="1984-03-09")
    report = run_push("people")
    assert [p["id"] for p in pco_people(sandbox)] == [existing]
    assert db.session.get(Person, person.id).pco_id == existing
    assert pco_people(sandbox)[0]["remote_id"] == person.id
    assert (report.counts["created"], report.counts["updated"]) == (0, 1)


def test_people_a_pull_held_are_never_created(db, sandbox):
    first = add_person(db, "Pat", "Doe", dob=DOB)
    second = add_person(db, "Pat", "Doe", dob=DOB)
    sandbox.add_person(first_name="Pat", last_name="Doe", birthdate="1984-03-09")
    run_pull()
    [hold] = open_holds(db)
    assert sorted(hold.candidates) == sorted([first.id, second.id])
    report = run_push("people")
    assert len(pco_people(sandbox)) == 1
    assert writes(sandbox) == []
    assert report.counts["held"] == 2


def test_a_person_holding_an_email_a_pull_held_is_not_created(db, sandbox):
    add_person(db, "Sam", "Jones", emails=("family@example.org",))
    add_person(db, "Sam", "Lee", emails=("family@example.org",))
    sandbox.add_person(first_name="Sam", last_name="Park", emails=["family@example.org"])
    run_pull()
    assert len(open_holds(db)) == 1
    run_push("people")
    assert len(pco_people(sandbox)) == 1


def test_two_local_people_matching_one_pco_person_are_both_held_without_a_pull(db, sandbox):
    add_person(db, "Pat", "Doe", dob=DOB)
    add_person(db, "Pat", "Doe", dob=DOB)
    existing = sandbox.add_person(first_name="Pat", last_name="Doe", birthdate="1984-03-09")
    report = run_push("people")
    assert [p["id"] for p in pco_people(sandbox)] == [existing]
    assert report.counts["held"] == 2
    assert {h.candidates[0] for h in open_holds(db)} == {int(existing)}


def test_a_local_duplicate_of_a_linked_person_is_held(db, sandbox):
    add_person(db, "Ann", "Lee", dob=DOB)
    run_push("people")
    twin = add_person(db, "Ann", "Lee", dob=DOB)
    run_push("people")
    assert len(pco_people(sandbox)) == 1
    [hold] = open_holds(db)
    assert hold.local_id == twin.id and "looks like local person" in hold.reason


def test_a_shared_family_email_creates_the_member_pco_lacks(db, sandbox):
    bob = add_person(db, "Bob", "Smith", emails=("smiths@example.org",))
    alice = sandbox.add_person(first_name="Alice", last_name="Smith", emails=["smiths@example.org"])
    run_push("people")
    people = {p["first_name"]: p for p in pco_people(sandbox)}
    assert sorted(people) == ["Alice", "Bob"]
    assert people["Alice"]["id"] == alice and people["Alice"].get("remote_id") is None
    assert db.session.get(Person, bob.id).pco_id == people["Bob"]["id"]


def test_a_held_person_linked_by_an_admin_is_pushed_as_that_pco_person(db, sandbox):
    person = add_person(db, "Pat", "Doe", dob=DOB)
    add_person(db, "Pat", "Doe", dob=DOB)
    existing = sandbox.add_person(first_name="Pat", last_name="Doe", birthdate="1984-03-09")
    run_push("people")
    hold = next(h for h in open_holds(db) if h.local_id == person.id)
    holds.link_held(current_pco(), hold.id, existing)
    assert db.session.get(Person, person.id).pco_id == existing
    run_push("people")
    assert len(pco_people(sandbox)) == 1


def test_create_new_makes_the_next_push_create_the_held_person(db, sandbox):
    person = add_person(db, "Ann", "Lee", dob=DOB)
    run_push("people")
    twin = add_person(db, "Ann", "Lee", dob=DOB)
    run_push("people")
    [hold] = open_holds(db)
    holds.create_new(current_pco(), hold.id)
    run_push("people")
    assert len(pco_people(sandbox)) == 2
    assert db.session.get(Person, twin.id).pco_id not in (None, person.pco_id)


def test_a_hold_a_later_push_no_longer_needs_is_cleared(db, sandbox):
    add_person(db, "Pat", "Doe", dob=DOB)
    second = add_person(db, "Pat", "Doe", dob=DOB)
    existing = sandbox.add_person(first_name="Pat", last_name="Doe", birthdate="1984-03-09")
    run_push("people")
    second.dob = date(1990, 1, 1)  # the admin corrects the second Pat's birth date
    db.session.commit()
    run_push("people")
    assert len(pco_people(sandbox)) == 2
    assert open_holds(db) == []
    assert db.session.get(Person, second.id).pco_id not in (None, existing)


def test_linking_to_an_id_that_is_not_a_candidate_is_refused_and_changes_nothing(db, sandbox):
    person = add_person(db, "Pat", "Doe", dob=DOB)
    add_person(db, "Pat", "Doe", dob=DOB)
    sandbox.add_person(first_name="Pat", last_name="Doe", birthdate="1984-03-09")
    run_push("people")
    hold = next(h for h in open_holds(db) if h.local_id == person.id)
    with pytest.raises(ConfigError, match="is not a candidate"):
        holds.link_held(current_pco(), hold.id, "424242")
    assert db.session.get(Person, person.id).pco_id is None
    assert hold.resolved_at is None


def test_a_pull_hold_settled_as_create_new_creates_a_local_person(db, sandbox):
    add_person(db, "Pat", "Doe", dob=DOB)
    add_person(db, "Pat", "Doe", dob=DOB)
    existing = sandbox.add_person(first_name="Pat", last_name="Doe", birthdate="1984-03-09")
    run_pull()
    [hold] = open_holds(db)
    holds.create_new(current_pco(), hold.id)
    run_pull()
    people = db.session.scalars(select(Person).order_by(Person.id)).all()
    assert [p.pco_id for p in people] == [None, None, existing]
