"""A person's addresses go to PCO like their emails and phones: an address added here is created
(once, even when the push runs again), one PCO already holds is linked, an edit is PATCHed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from example_app.models import Person, PersonAddress
from flask_pco.extension import current_pco
from flask_pco.sync.engine import execute_run
from flask_pco.sync.runs import queue_run

from .conftest import add_person, records, run_push, writes

HOME = {"street_line_1": "1 Gate St", "street_line_2": "Flat 2", "city": "Bethany",
        "state": "IL", "zip": "62701", "location": "Home", "is_primary": True}  # fmt: skip


def add_address(db: Any, person: Any, **fields: Any) -> Any:
    row = PersonAddress(person_id=person.id, **{**HOME, **fields})
    db.session.add(row)
    db.session.commit()
    return row


def pull_people() -> None:
    state = current_pco()
    execute_run(state, queue_run(state, "people", "pull"), state.client())


def pco_addresses(sandbox: Any) -> list[tuple[Any, ...]]:
    return sorted(
        (a["street_line_1"], a["street_line_2"], a["city"], a["zip"], a["location"], a["primary"])
        for a in records(sandbox, "Address")
    )


def test_an_address_added_here_is_created_in_pco_and_linked(db, sandbox):
    row = add_address(db, add_person(db))

    run_push("people")

    [created] = records(sandbox, "Address")
    assert pco_addresses(sandbox) == [("1 Gate St", "Flat 2", "Bethany", "62701", "Home", True)]
    assert created["person_id"] == db.session.get(Person, row.person_id).pco_id
    db.session.refresh(row)
    assert row.pco_id == created["id"]


def test_a_second_push_creates_no_second_address(db, sandbox):
    add_address(db, add_person(db))
    run_push("people")
    sandbox.clear_requests()

    run_push("people")

    assert len(records(sandbox, "Address")) == 1
    assert writes(sandbox) == []


def test_an_address_pco_already_holds_is_linked_not_added_again(db, sandbox):
    pco_id = sandbox.add_person(first_name="Dana", last_name="Newcomer", birthdate="1990-05-17")
    sandbox.add_address(pco_id, street_line_1="1 GATE ST", city="Bethany", location="Home")
    person = add_person(db)
    row = add_address(db, person)

    run_push("people")

    [held] = records(sandbox, "Address")
    db.session.refresh(row)
    assert (len(records(sandbox, "Person")), row.pco_id) == (1, held["id"])


@pytest.mark.parametrize("change", [{"city": "Bethphage"}, {"street_line_2": "Flat 3"}])
def test_an_address_edited_here_is_patched_in_pco(db, sandbox, change):
    sandbox.add_person(first_name="Martha", last_name="Bethany", addresses=[
        {**{k: v for k, v in HOME.items() if k != "is_primary"}, "primary": True}])  # fmt: skip
    pull_people()
    row = db.session.scalar(select(PersonAddress))
    for name, value in change.items():
        setattr(row, name, value)
    db.session.commit()
    sandbox.clear_requests()

    run_push("people")

    [address] = records(sandbox, "Address")
    assert {name: address[name] for name in change} == change
    assert address["street_line_1"] == "1 Gate St"  # the other line kept
    assert [w["method"] for w in writes(sandbox)] == ["PATCH"]


def test_an_address_edited_on_both_sides_keeps_pco_and_says_so(db, sandbox, count):
    pco_id = sandbox.add_person(first_name="Martha", last_name="Bethany", addresses=[
        {"street_line_1": "1 Gate St", "city": "Bethany", "primary": True}])  # fmt: skip
    pull_people()
    row = db.session.scalar(select(PersonAddress))
    row.city = "Local town"
    db.session.commit()
    [address] = records(sandbox, "Address")
    sandbox.edit("addresses", address["id"], city="PCO town")

    run_push("people")

    [address] = records(sandbox, "Address")
    Conflict = current_pco().models.Conflict
    assert address["city"] == "PCO town"
    assert count(Conflict, Conflict.role == "person_address") == 1
    assert pco_id == address["person_id"]
