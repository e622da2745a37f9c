"""A push with nothing to push reads only what could need it: the people and contacts are
looked at as plain rows, never loaded as objects, and only a changed or unlinked one is."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, select

from .conftest import add_family, add_membership, add_person, run_push


@pytest.fixture
def loaded() -> Iterator[list[str]]:
    """The class name of every person, email or phone object loaded from the database."""
    from example_app.models import Person, PersonEmail, PersonPhone

    seen: list[str] = []

    def note(target: Any, _context: Any) -> None:
        seen.append(type(target).__name__)

    for model in (Person, PersonEmail, PersonPhone):
        event.listen(model, "load", note)
    yield seen
    for model in (Person, PersonEmail, PersonPhone):
        event.remove(model, "load", note)


def linked_people(db: Any, count: int) -> list[Any]:
    people = [
        add_person(
            db,
            f"Person{n}",
            "Linked",
            emails=(f"p{n}@example.org",),
            phones=((f"+1555010{n:04d}", "Home"),),
        )
        for n in range(count)
    ]
    run_push("people")
    return people


def test_a_push_with_everything_linked_and_unchanged_loads_no_person_or_contact(
    db, sandbox, loaded
):
    linked_people(db, 6)
    db.session.expunge_all()
    loaded.clear()

    report = run_push("people")

    assert report.summary().startswith("0 created, 0 updated")
    assert loaded == []


def test_only_the_person_changed_here_is_loaded_and_pushed(db, sandbox, loaded):
    from example_app.models import Person

    people = linked_people(db, 6)
    db.session.get(Person, people[2].id).first_name = "Renamed"
    db.session.commit()
    db.session.expunge_all()
    loaded.clear()

    report = run_push("people")

    assert "1 updated" in report.summary()
    assert loaded.count("Person") == 1  # with its own contacts, which it pushes too
    names = [p["first_name"] for p in sandbox.state()["records"]["Person"]]
    assert "Renamed" in names


#: One edit of each column type the database compares with the snapshot as text.
EDITS = [
    ("Person", "dob", date(1980, 1, 2)),
    ("Person", "is_child", True),
    ("Person", "gender", "Female"),
    ("PersonEmail", "is_primary", False),
    ("PersonPhone", "kind", "Work"),
    ("Person", "dob", None),  # a value cleared here
]


@pytest.mark.parametrize(("model", "column", "value"), EDITS, ids=[f"{e[1]}={e[2]}" for e in EDITS])
def test_an_edit_of_any_column_type_is_found_by_the_database_and_pushed(
    db, sandbox, loaded, model, column, value
):
    from example_app import models

    people = linked_people(db, 4)
    table = getattr(models, model)
    owner = table.id if model == "Person" else table.person_id
    row = db.session.scalar(select(table).where(owner == people[1].id))
    setattr(row, column, value)
    db.session.commit()
    db.session.expunge_all()
    loaded.clear()
    sandbox.clear_requests()

    run_push("people")

    assert loaded.count("Person") == 1  # the one edited, and nobody else
    assert [r["method"] for r in sandbox.requests() if r["method"] != "GET"] == ["PATCH"]


def test_a_value_the_snapshot_never_held_is_found_by_the_database(db, sandbox, loaded):
    """A key missing from the snapshot reads as empty, as in the exact comparison: a row
    with a value there may need a push, and is looked at."""
    from example_app.models import Person

    people = linked_people(db, 3)
    person = db.session.get(Person, people[0].id)
    person.pco_snapshot = {k: v for k, v in person.pco_snapshot.items() if k != "dob"}
    db.session.commit()
    db.session.expunge_all()
    loaded.clear()

    run_push("people")

    assert loaded.count("Person") == 1


def test_an_email_added_here_to_a_linked_person_is_pushed(db, sandbox):
    from example_app.models import PersonEmail

    people = linked_people(db, 3)
    db.session.add(PersonEmail(person_id=people[1].id, email="new@example.org", is_primary=False))
    db.session.commit()

    run_push("people")

    assert db.session.scalar(
        select(PersonEmail.pco_id).where(PersonEmail.email == "new@example.org")
    )


def test_a_full_push_with_families_and_memberships_linked_loads_none_of_them(
    db, sandbox, pco_group
):
    from example_app.models import Family, FamilyMember, GroupMembership

    people = linked_people(db, 3)
    add_family(db, "Linked", (people[0], "adult"), (people[1], "child"))
    add_membership(db, pco_group, people[2])
    assert run_push("full").summary().startswith("2 created")  # the household, the membership
    db.session.expunge_all()
    seen: list[str] = []

    def note(target: Any, _context: Any) -> None:
        seen.append(type(target).__name__)

    for model in (Family, FamilyMember, GroupMembership):
        event.listen(model, "load", note)
    try:
        report = run_push("full")
    finally:
        for model in (Family, FamilyMember, GroupMembership):
            event.remove(model, "load", note)

    assert report.summary().startswith("0 created, 0 updated")
    assert seen == []
