"""Every kind of create PCO never confirmed waits out the grace period before it is sent again.

A POST that timed out may still be committed by PCO after the next run has looked and not found
it; sending it again then would make a second email, phone, household or membership. The
person's case is in ``test_push_unconfirmed.py``; these are the records a person carries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from example_app.models import ChurchGroup, Family, FamilyMember, Person, PersonEmail, PersonPhone
from flask_pco.extension import current_pco
from flask_pco.mapping.payloads import (
    email_attributes,
    group_membership_attributes,
    household_membership_payload,
    household_relationships,
    phone_attributes,
)
from flask_pco.models import utcnow
from flask_pco.sync.push.records import UNCONFIRMED

from .conftest import add_family, add_membership, add_person, records, run_push, writes

GRACE = 120  # PCO_UNCONFIRMED_GRACE's default


@dataclass(frozen=True)
class Case:
    """One record type: how to make a local row PCO lacks, and how PCO would hold it."""

    resource_type: str
    step: str
    #: (db, pco_group) → the local row whose create went unconfirmed.
    make: Callable[[Any, str], Any]
    #: The row's PCO record, as the lost POST would have made it: (row) → PCO id.
    land: Callable[[Any], str]
    #: The PCO records of this type that belong to the row.
    remote: Callable[[Any, Any], list[dict[str, Any]]]


def _pushed_person(db: Any, first_name: str = "Dana") -> Any:
    person = add_person(db, first_name)
    run_push("people")
    db.session.refresh(person)
    return person


def _make_email(db: Any, _group: str) -> Any:
    person = _pushed_person(db)
    row = PersonEmail(person_id=person.id, email="dana@late.example", is_primary=True)
    db.session.add(row)
    db.session.commit()
    return row


def _make_phone(db: Any, _group: str) -> Any:
    person = _pushed_person(db)
    row = PersonPhone(person_id=person.id, phone="+15035550123", kind="mobile", is_primary=True)
    db.session.add(row)
    db.session.commit()
    return row


def _make_family(db: Any, _group: str) -> Any:
    ann, kim = _pushed_person(db, "Ann"), _pushed_person(db, "Kim")
    return add_family(db, "Grace Test Household", (ann, "adult"), (kim, "child"))


def _make_household_member(db: Any, _group: str) -> Any:
    family = _make_family(db, _group)
    run_push("families")
    sam = _pushed_person(db, "Sam")
    row = FamilyMember(family_id=family.id, person_id=sam.id, relationship="adult")
    db.session.add(row)
    db.session.commit()
    return row


def _make_group_membership(db: Any, group: str) -> Any:
    return add_membership(db, group, _pushed_person(db))


def _person_pco_id(row: Any) -> str:
    """The PCO id of the person a contact or membership row belongs to."""
    return str(current_pco().db.session.get(Person, row.person_id).pco_id)


def _create(path: str, resource_type: str, attributes: Any, relationships: Any = None) -> str:
    return str(current_pco().client().create(path, resource_type, attributes, relationships).id)


def _land_email(row: Any) -> str:
    path = f"/people/v2/people/{_person_pco_id(row)}/emails"
    return _create(path, "Email", email_attributes(row.email, primary=True))


def _land_phone(row: Any) -> str:
    path = f"/people/v2/people/{_person_pco_id(row)}/phone_numbers"
    return _create(path, "PhoneNumber", phone_attributes(row.phone, row.kind, primary=True))


def _land_household(family: Any) -> str:
    session = current_pco().db.session
    rows = session.query(FamilyMember).filter_by(family_id=family.id).order_by(FamilyMember.id)
    members = [_person_pco_id(m) for m in rows]
    relationships = household_relationships(members, members[0])
    return _create("/people/v2/households", "Household", {"name": family.name}, relationships)


def _land_household_member(row: Any) -> str:
    household = current_pco().db.session.get(Family, row.family_id).pco_id
    attributes, relationships = household_membership_payload(_person_pco_id(row))
    path = f"/people/v2/households/{household}/household_memberships"
    return _create(path, "HouseholdMembership", attributes, relationships)


def _land_group_membership(row: Any) -> str:
    group = current_pco().db.session.get(ChurchGroup, row.group_id).pco_id
    attributes = group_membership_attributes(_person_pco_id(row), is_leader=False)
    return _create(f"/groups/v2/groups/{group}/memberships", "Membership", attributes)


def _of_person(table: str) -> Callable[[Any, Any], list[dict[str, Any]]]:
    def remote(sandbox: Any, row: Any) -> list[dict[str, Any]]:
        person = _person_pco_id(row)
        return [r for r in records(sandbox, table) if str(r.get("person_id")) == person]

    return remote


def _households_named(sandbox: Any, family: Any) -> list[dict[str, Any]]:
    return [h for h in records(sandbox, "Household") if h["name"] == family.name]


CASES = [
    Case("Email", "people", _make_email, _land_email, _of_person("Email")),
    Case("PhoneNumber", "people", _make_phone, _land_phone, _of_person("PhoneNumber")),
    Case("Household", "families", _make_family, _land_household, _households_named),
    Case(
        "HouseholdMembership",
        "families",
        _make_household_member,
        _land_household_member,
        _of_person("HouseholdMembership"),
    ),
    Case(
        "Membership",
        "group-memberships",
        _make_group_membership,
        _land_group_membership,
        _of_person("Membership"),
    ),
]


@pytest.fixture(params=CASES, ids=[c.resource_type for c in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    return request.param  # type: ignore[no-any-return]


def unconfirmed_create(db: Any, case: Case, row: Any, seconds_ago: float) -> None:
    """What a push leaves when its POST timed out and PCO did not list the record yet."""
    db.session.add(
        current_pco().models.SyncIssue(
            kind=UNCONFIRMED,
            resource_type=case.resource_type,
            local_id=row.id,
            reason=f"PCO did not confirm the {case.resource_type} write (timed out)",
            created_at=utcnow() - timedelta(seconds=seconds_ago),
        )
    )
    db.session.commit()


def test_a_recent_unconfirmed_create_is_not_sent_again(db, sandbox, pco_group, case):
    row = case.make(db, pco_group)
    unconfirmed_create(db, case, row, seconds_ago=5)
    sandbox.clear_requests()
    run_push(case.step)
    assert [w for w in writes(sandbox) if w["method"] == "POST"] == []
    db.session.refresh(row)
    assert row.pco_id is None


def test_the_held_create_is_reported_with_when_it_will_be_sent(db, sandbox, pco_group, case):
    row = case.make(db, pco_group)
    unconfirmed_create(db, case, row, seconds_ago=5)
    reporter = run_push(case.step)
    Issue = current_pco().models.SyncIssue
    held = db.session.query(Issue).filter_by(kind="held", resource_type=case.resource_type).one()
    assert held.local_id == row.id
    assert "may still land" in held.reason and "creates it from" in held.reason
    assert reporter.counts["failed"] == 1


def test_after_the_grace_period_the_record_is_created_once(db, sandbox, pco_group, case):
    row = case.make(db, pco_group)
    unconfirmed_create(db, case, row, seconds_ago=GRACE + 1)
    run_push(case.step)
    run_push(case.step)
    [created] = case.remote(sandbox, row)
    db.session.refresh(row)
    assert row.pco_id is not None
    assert row.pco_id.endswith(str(created["id"]))


def test_a_create_that_landed_meanwhile_is_linked_not_held(db, sandbox, pco_group, case):
    row = case.make(db, pco_group)
    landed = case.land(row)
    unconfirmed_create(db, case, row, seconds_ago=5)
    reporter = run_push(case.step)
    db.session.refresh(row)
    assert row.pco_id == landed
    assert len(case.remote(sandbox, row)) == 1
    assert reporter.counts["failed"] == 0
