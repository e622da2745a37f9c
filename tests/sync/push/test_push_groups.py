import pytest
from sqlalchemy import select

from example_app.models import ChurchGroup, GroupMembership, Person
from flask_pco.extension import current_pco

from .conftest import add_membership, add_person, records, run_push, writes


def _memberships_of(sandbox, group_id, person_pco_id):
    return [
        m
        for m in records(sandbox, "Membership")
        if m["group_id"] == group_id and m["person_id"] == person_pco_id
    ]


@pytest.mark.parametrize(("is_leader", "role"), [(True, "leader"), (False, "member")])
def test_membership_is_created_with_the_role_of_its_leader_flag(
    db, sandbox, pco_group, is_leader, role
):
    person = add_person(db)
    membership = add_membership(db, pco_group, person, is_leader=is_leader)
    run_push("group-memberships")
    person_pco_id = db.session.get(Person, person.id).pco_id
    [created] = _memberships_of(sandbox, pco_group, person_pco_id)
    assert created["role"] == role
    assert db.session.get(GroupMembership, membership.id).pco_id == created["id"]


def test_leader_flag_change_is_patched_as_a_role_change(db, sandbox, pco_group):
    person = add_person(db)
    membership = add_membership(db, pco_group, person)
    run_push("group-memberships")
    membership.is_leader = True
    db.session.commit()
    sandbox.clear_requests()
    run_push("group-memberships")
    [patch] = writes(sandbox)
    assert patch["method"] == "PATCH"
    [pco] = _memberships_of(sandbox, pco_group, db.session.get(Person, person.id).pco_id)
    assert pco["role"] == "leader"


def test_person_already_in_the_group_is_linked_not_added_twice(db, sandbox, pco_group):
    pco_member = next(m for m in records(sandbox, "Membership") if m["group_id"] == pco_group)
    person = add_person(db, pco_id=pco_member["person_id"])
    membership = add_membership(db, pco_group, person, is_leader=pco_member["role"] != "leader")
    run_push("group-memberships")
    assert writes(sandbox) == []
    row = db.session.get(GroupMembership, membership.id)
    assert row.pco_id == pco_member["id"]
    assert row.is_leader == (pco_member["role"] == "leader")  # no common base: PCO's role wins


def test_memberships_of_local_only_groups_are_not_pushed(db, sandbox, pco_group):
    group = ChurchGroup(name="Kitchen rota", kind="group")
    db.session.add(group)
    db.session.flush()
    db.session.add(GroupMembership(group_id=group.id, person_id=add_person(db).id))
    db.session.commit()
    run_push("group-memberships")
    assert sandbox.requests() == []


def test_membership_rerun_makes_no_request(db, sandbox, pco_group):
    add_membership(db, pco_group, add_person(db), is_leader=True)
    run_push("group-memberships")
    sandbox.clear_requests()
    run_push("group-memberships")
    assert sandbox.requests() == []


def test_membership_removed_in_pco_is_reported_not_recreated(db, sandbox, pco_group):
    membership = add_membership(db, pco_group, add_person(db))
    run_push("group-memberships")
    sandbox.delete("group_memberships", db.session.get(GroupMembership, membership.id).pco_id)
    membership = db.session.get(GroupMembership, membership.id)
    membership.is_leader = True
    db.session.commit()
    sandbox.clear_requests()
    run_push("group-memberships")
    assert writes(sandbox) == []
    issue = db.session.scalar(select(current_pco().models.SyncIssue))
    assert issue.kind == "failed" and issue.local_id == membership.id
