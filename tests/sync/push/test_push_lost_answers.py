"""Writes PCO carried out but whose answer was lost (a gateway's 504 or a client timeout after the
commit): the push finds them again and never creates them twice."""

from __future__ import annotations

import time

import pytest

from example_app.models import (
    Family,
    FamilyMember,
    GroupMembership,
    Person,
    PersonEmail,
    PersonPhone,
)
from flask_pco.extension import current_pco

from .conftest import (
    add_family,
    add_membership,
    add_person,
    lost_answers,
    records,
    run_push,
    writes,
)

PEOPLE = "/people/v2/people"


@pytest.fixture
def answers_lost(sandbox):
    """Every write PCO carries out loses its answer (a 504 from the gateway, at once)."""
    sandbox.set_faults(lost_answer_rate=1.0)
    return sandbox


def issues(db):
    return db.session.query(current_pco().models.SyncIssue).all()


def test_person_whose_create_answer_is_lost_is_adopted_at_once(db, answers_lost):
    person = add_person(db)
    run_push("people")
    [created] = records(answers_lost, "Person")
    assert created["remote_id"] == person.id
    assert db.session.get(Person, person.id).pco_id == created["id"]
    assert lost_answers(answers_lost) == [("POST", PEOPLE)]


def test_adopted_person_counts_as_created_and_leaves_no_issue(db, answers_lost):
    add_person(db)
    reporter = run_push("people")
    assert (reporter.counts["created"], reporter.counts["failed"]) == (1, 0)
    assert issues(db) == []


@pytest.mark.parametrize("push_config", [{"PCO_TIMEOUT": 1}])
def test_person_whose_create_timed_out_after_the_commit_is_adopted(db, sandbox, push_config):
    person = add_person(db)
    sandbox.set_faults(lost_answer_rate=1.0, lost_answer_seconds=2.5)  # past PCO_TIMEOUT
    run_push("people")
    [created] = records(sandbox, "Person")
    assert db.session.get(Person, person.id).pco_id == created["id"]
    assert issues(db) == []
    # The gateway logs the POST once it gives up: wait, so it cannot land in the next test's log.
    deadline = time.monotonic() + 15
    while not lost_answers(sandbox) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert lost_answers(sandbox) == [("POST", PEOPLE)]


def test_email_whose_create_answer_is_lost_is_linked_by_the_next_run(db, answers_lost):
    person = add_person(db, emails=("dana@lost.example",))
    run_push("people")
    run_push("people")
    [email] = records(answers_lost, "Email")
    assert email["address"] == "dana@lost.example"
    row = db.session.query(PersonEmail).filter_by(person_id=person.id).one()
    assert row.pco_id == email["id"]
    assert ("POST", f"{PEOPLE}/{email['person_id']}/emails") in lost_answers(answers_lost)


def test_phone_whose_create_answer_is_lost_is_linked_by_the_next_run(db, answers_lost):
    person = add_person(db, phones=(("+15035550123", "mobile"),))
    run_push("people")
    run_push("people")
    [phone] = records(answers_lost, "PhoneNumber")
    assert phone["e164"] == "+15035550123"
    row = db.session.query(PersonPhone).filter_by(person_id=person.id).one()
    assert row.pco_id == phone["id"]
    assert ("POST", f"{PEOPLE}/{phone['person_id']}/phone_numbers") in lost_answers(answers_lost)


def test_rerun_after_lost_contact_answers_writes_nothing(db, answers_lost):
    add_person(db, emails=("dana@lost.example",), phones=(("+15035550123", "mobile"),))
    run_push("people")
    answers_lost.clear_requests()
    reporter = run_push("people")
    assert writes(answers_lost) == []
    assert reporter.counts["failed"] == 0


def _family_of_two(db):
    parent = add_person(db, "Ann", "Lee")
    child = add_person(db, "Kim", "Lee", is_child=True)
    return add_family(db, "Lee Household", (parent, "adult"), (child, "child"))


def test_household_whose_create_answer_is_lost_is_found_and_linked(db, answers_lost):
    family = _family_of_two(db)
    run_push("families")
    [household] = records(answers_lost, "Household")
    assert db.session.get(Family, family.id).pco_id == household["id"]
    members = {m["person_id"] for m in records(answers_lost, "HouseholdMembership")}
    assert members == {p["id"] for p in records(answers_lost, "Person")}
    assert ("POST", "/people/v2/households") in lost_answers(answers_lost)


def test_household_found_after_a_lost_answer_counts_as_created(db, answers_lost):
    _family_of_two(db)
    reporter = run_push("families")
    assert (reporter.counts["created"], reporter.counts["updated"]) == (3, 0)  # 2 people, 1 home


def test_rerun_after_a_lost_household_answer_writes_nothing(db, answers_lost):
    _family_of_two(db)
    run_push("families")
    answers_lost.clear_requests()
    run_push("families")
    assert writes(answers_lost) == []


def test_household_membership_whose_answer_is_lost_is_linked_not_added_twice(db, sandbox):
    family = _family_of_two(db)
    run_push("families")
    newcomer = add_person(db, "Sam", "Lee")
    db.session.add(FamilyMember(family_id=family.id, person_id=newcomer.id, relationship="adult"))
    db.session.commit()
    sandbox.set_faults(lost_answer_rate=1.0)
    run_push("families")
    run_push("families")
    pco_id = db.session.get(Person, newcomer.id).pco_id
    [joined] = [m for m in records(sandbox, "HouseholdMembership") if m["person_id"] == pco_id]
    row = db.session.query(FamilyMember).filter_by(person_id=newcomer.id).one()
    assert row.pco_id == joined["id"]
    household = db.session.get(Family, family.id).pco_id
    assert ("POST", f"/people/v2/households/{household}/household_memberships") in lost_answers(
        sandbox
    )


def test_group_membership_whose_answer_is_lost_is_linked_not_added_twice(db, sandbox, pco_group):
    person = add_person(db)
    membership = add_membership(db, pco_group, person, is_leader=True)
    sandbox.set_faults(lost_answer_rate=1.0)
    run_push("group-memberships")
    run_push("group-memberships")
    pco_id = db.session.get(Person, person.id).pco_id
    [joined] = [
        m
        for m in records(sandbox, "Membership")
        if m["group_id"] == pco_group and m["person_id"] == pco_id
    ]
    assert joined["role"] == "leader"
    assert db.session.get(GroupMembership, membership.id).pco_id == joined["id"]
    path = f"/groups/v2/groups/{pco_group}/memberships"
    assert ("POST", path) in lost_answers(sandbox)
