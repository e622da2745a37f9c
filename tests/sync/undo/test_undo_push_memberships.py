"""Undo of a push's group membership roles and person addresses (PATCHed back, compared in the
sandbox's store), and of the memberships and addresses it created (deleted only on request)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from flask_pco import current_pco
from flask_pco.sync.preview import plan_changes
from tests.sync.conftest import sandbox_person
from tests.sync.push.conftest import add_person
from tests.sync.undo.conftest import RECORDS, pco_state, pushed, reads, tables, the_conflict, writes

HOME = {"street_line_1": "1 Gate St", "street_line_2": "Flat 2", "city": "Bethany",
        "state": "IL", "zip": "62701", "location": "Home", "primary": True}  # fmt: skip


def _group(sandbox) -> str:
    sandbox.reset(people=2, seed=1)
    return str(sandbox.state()["records"]["Group"][0]["id"])


def _made_leader_andpushed(sandbox, run_sync, db, models):
    group = _group(sandbox)
    maria = sandbox_person(sandbox, "Maria", "Garcia")
    membership = sandbox.add_group_membership(group, maria, "member")
    run_sync("pull", "full")
    row = db.session.scalar(select(models.GroupMembership).filter_by(pco_id=membership))
    row.is_leader = True
    db.session.commit()
    before, push = pushed(run_sync, db, sandbox, "group-memberships")
    return membership, before, push


def test_undo_of_a_pushed_role_makes_the_leader_a_member_again(sandbox, run_sync, db, models, undo):
    _, before, push = _made_leader_andpushed(sandbox, run_sync, db, models)
    undone = undo(push.id)
    assert undone.status == "succeeded", undone.error_message
    assert (tables(db), pco_state(sandbox, RECORDS)) == before


def test_undo_of_a_role_reads_the_groups_memberships_once_and_sends_one_patch(
    sandbox, run_sync, db, models, undo
):
    membership, _, push = _made_leader_andpushed(sandbox, run_sync, db, models)
    group = next(m for m in sandbox.state()["records"]["Membership"] if m["id"] == membership)
    sandbox.clear_requests()
    undo(push.id)
    listing = f"/groups/v2/groups/{group['group_id']}/memberships"
    assert (reads(sandbox), writes(sandbox)) == ([listing], ["PATCH"])


def test_a_role_pco_put_back_itself_since_the_push_is_left_and_sends_nothing(
    sandbox, run_sync, db, models, undo
):
    """A role has two values: PCO holding neither the old nor the new one cannot happen, so the
    only later edit is PCO's own return to the old role, which leaves nothing to write."""
    membership, before, push = _made_leader_andpushed(sandbox, run_sync, db, models)
    sandbox.edit_group_membership(membership, role="member")
    sandbox.clear_requests()
    undone = undo(push.id)
    assert undone.status == "succeeded", undone.error_message
    assert writes(sandbox) == []
    assert pco_state(sandbox, RECORDS)["Membership"] == before[1]["Membership"]


def test_a_role_whose_membership_the_site_deleted_since_is_named_not_written(
    sandbox, run_sync, db, models, undo
):
    membership, _, push = _made_leader_andpushed(sandbox, run_sync, db, models)
    db.session.delete(
        db.session.scalar(select(models.GroupMembership).filter_by(pco_id=membership))
    )
    db.session.commit()
    sandbox.clear_requests()
    undone = undo(push.id)
    Issue = db.Model.registry._class_registry["SyncIssue"]
    reasons = [i.reason for i in db.session.scalars(select(Issue).where(Issue.run_id == undone.id))]
    assert [r for r in reasons if "no longer knows whose record" in r] != []
    assert writes(sandbox) == []


def test_a_membership_the_push_created_is_deleted_on_request(sandbox, run_sync, db, models, undo):
    group = _group(sandbox)
    run_sync("pull", "full")
    local_group = db.session.scalar(select(models.ChurchGroup).filter_by(pco_id=group))
    person = db.session.scalar(select(models.Person).where(models.Person.pco_id.is_not(None)))
    taken = {m["person_id"] for m in sandbox.state()["records"]["Membership"]
             if m["group_id"] == group}  # fmt: skip
    if person.pco_id in taken:  # one PCO already has would be linked, not created
        person = add_person(db, "Dana", "Newcomer")
        run_sync("push", "people")
    db.session.add(models.GroupMembership(group_id=local_group.id, person_id=person.id))
    db.session.commit()
    before, push = pushed(run_sync, db, sandbox, "group-memberships")
    sandbox.clear_requests()
    undone = undo(push.id, delete_created=True)
    assert undone.status == "succeeded", undone.error_message
    assert (tables(db), pco_state(sandbox, RECORDS)) == before
    assert writes(sandbox) == ["DELETE"]


def _member_added_and_pushed(sandbox, run_sync, db, models):
    """A site person added to a household PCO has: the push POSTs one household membership."""
    maria = sandbox_person(sandbox, "Maria", "Garcia")
    household = sandbox.add_household([maria], "Garcia", primary_contact=maria)
    run_sync("pull", "full")
    family = db.session.scalar(select(models.Family).filter_by(pco_id=household))
    dana = add_person(db, "Dana", "Garcia")
    run_sync("push", "people")
    db.session.add(
        models.FamilyMember(family_id=family.id, person_id=dana.id, relationship="adult")
    )
    db.session.commit()
    return pushed(run_sync, db, sandbox, "families")


def test_household_memberships_the_push_created_for_existing_people_are_deleted_on_request(
    sandbox, run_sync, db, models, undo
):
    before, push = _member_added_and_pushed(sandbox, run_sync, db, models)
    sandbox.clear_requests()
    undone = undo(push.id, delete_created=True)
    assert undone.status == "succeeded", undone.error_message
    assert (tables(db), pco_state(sandbox, RECORDS)) == before
    assert writes(sandbox) == ["DELETE"]


def test_the_preview_lists_the_household_membership_it_would_delete_and_deletes_nothing(
    sandbox, run_sync, db, models, undo
):
    _, push = _member_added_and_pushed(sandbox, run_sync, db, models)
    after = pco_state(sandbox, RECORDS)
    sandbox.clear_requests()
    preview = undo(push.id, delete_created=True, dry_run=True)
    assert preview.status == "succeeded", preview.error_message
    planned = [(e.record_type, e.action) for e in plan_changes(current_pco(), preview.id).entries
               if e.side == "pco"]  # fmt: skip
    assert planned == [("family_member", "remove")]
    assert (writes(sandbox), pco_state(sandbox, RECORDS)) == ([], after)


# A person's address ----------------------------------------------------------------------


def _address_edited_andpushed(sandbox, run_sync, db, models, **change):
    maria = sandbox_person(sandbox, "Maria", "Garcia", addresses=[HOME])
    run_sync("pull", "people")
    row = db.session.scalar(select(models.PersonAddress))
    for name, value in change.items():
        setattr(row, name, value)
    db.session.commit()
    before, push = pushed(run_sync, db, sandbox, "people")
    return maria, row.pco_id, before, push


def test_undo_of_a_pushed_person_address_patches_it_back(sandbox, run_sync, db, models, undo):
    *_, before, push = _address_edited_andpushed(
        sandbox, run_sync, db, models, city="Bethphage", street_line_2="Flat 3"
    )
    undone = undo(push.id)
    assert undone.status == "succeeded", undone.error_message
    assert (tables(db), pco_state(sandbox, RECORDS)) == before


def test_undo_of_a_person_address_reads_the_people_listing_only(
    sandbox, run_sync, db, models, undo
):
    *_, push = _address_edited_andpushed(sandbox, run_sync, db, models, city="Bethphage")
    sandbox.clear_requests()
    undo(push.id)
    assert (reads(sandbox), writes(sandbox)) == (["/people/v2/people"], ["PATCH"])


def test_a_person_address_pco_changed_since_the_push_becomes_a_conflict(
    sandbox, run_sync, db, models, undo
):
    _, address, _, push = _address_edited_andpushed(sandbox, run_sync, db, models, city="Bethphage")
    sandbox.edit("addresses", address, city="Bethel")
    undo(push.id)
    assert sandbox.state()["records"]["Address"][0]["city"] == "Bethel"
    conflict = the_conflict(db)
    assert (conflict.role, conflict.field, conflict.pco_value) == (
        "person_address",
        "city",
        "Bethel",
    )


def test_a_person_address_the_push_created_is_deleted_on_request(
    sandbox, run_sync, db, models, undo
):
    sandbox_person(sandbox, "Maria", "Garcia")
    run_sync("pull", "people")
    person = db.session.scalar(select(models.Person))
    fields = {k: v for k, v in HOME.items() if k != "primary"}
    db.session.add(models.PersonAddress(person_id=person.id, is_primary=True, **fields))
    db.session.commit()
    before, push = pushed(run_sync, db, sandbox, "people")
    undone = undo(push.id, delete_created=True)
    assert undone.status == "succeeded", undone.error_message
    assert (tables(db), pco_state(sandbox, RECORDS)) == before


def test_the_undo_preview_lists_the_address_it_would_patch_and_writes_nothing(
    sandbox, run_sync, db, models, undo
):
    *_, push = _address_edited_andpushed(sandbox, run_sync, db, models, city="Bethphage")
    after = pco_state(sandbox, RECORDS)
    preview = undo(push.id, dry_run=True)
    assert preview.status == "succeeded", preview.error_message
    planned = [(e.record_type, e.field, e.old_value, e.new_value, e.side)
               for e in plan_changes(current_pco(), preview.id).entries]  # fmt: skip
    assert planned == [("person_address", "city", "Bethphage", "Bethany", "pco")]
    assert pco_state(sandbox, RECORDS) == after


#: People from 2023-03-21 on: an Address's two street lines travel as two attributes.
STREET_LINES = {"PCO_API_VERSIONS": {"people": "2023-03-21"}}


@pytest.mark.parametrize("undo_config", [STREET_LINES])
def test_undo_of_a_person_address_on_a_newer_people_version_patches_the_line_back(
    sandbox, run_sync, db, models, undo
):
    assert current_pco().client().versions["people"] == "2023-03-21"
    *_, before, push = _address_edited_andpushed(
        sandbox, run_sync, db, models, street_line_2="Flat 3"
    )
    sandbox.clear_requests()
    undone = undo(push.id)
    assert undone.status == "succeeded", undone.error_message
    assert (tables(db), pco_state(sandbox, RECORDS)) == before
    assert writes(sandbox) == ["PATCH"]


def test_undo_of_a_full_push_reads_people_once_and_the_group_once(
    sandbox, run_sync, db, models, undo
):
    """A family's address, a person's address and a role, changed in one full push: one people
    listing (addresses included) and one memberships listing, then one PATCH each."""
    group = _group(sandbox)
    maria = sandbox_person(sandbox, "Maria", "Garcia", addresses=[HOME])
    sandbox.add_household([maria], "Garcia", primary_contact=maria)
    membership = sandbox.add_group_membership(group, maria, "member")
    run_sync("pull", "full")
    db.session.scalar(select(models.Family).filter_by(name="Garcia")).zip = "62702"
    person = db.session.scalar(select(models.Person).filter_by(pco_id=maria))
    db.session.scalar(select(models.PersonAddress).filter_by(person_id=person.id)).city = "Bethel"
    db.session.scalar(select(models.GroupMembership).filter_by(pco_id=membership)).is_leader = True
    db.session.commit()
    before, push = pushed(run_sync, db, sandbox, "full")
    sandbox.clear_requests()
    undone = undo(push.id)
    assert undone.status == "succeeded", undone.error_message
    assert sorted(reads(sandbox)) == ["/groups/v2/groups/" + group + "/memberships",
                                      "/people/v2/people"]  # fmt: skip
    assert writes(sandbox) == ["PATCH"] * 3
    assert (tables(db), pco_state(sandbox, RECORDS)) == before
