"""Undo of a push: PCO's fields PATCHed back (compared in the sandbox's store), the site's rows
as before, and what the push created in PCO kept unless the admin asks for its deletion."""

from __future__ import annotations

from sqlalchemy import select

from flask_pco import current_pco
from flask_pco.sync.preview import plan_changes
from tests.sync.conftest import sandbox_person
from tests.sync.push.conftest import add_family, add_person
from tests.sync.undo.conftest import pco_state, tables, writes


def _renamed_here_and_pushed(sandbox, run_sync, db, models):
    maria = sandbox_person(sandbox, "Maria", "Garcia")
    run_sync("pull", "people")
    person = db.session.scalar(select(models.Person).filter_by(pco_id=maria))
    person.last_name = "Garcia-Lopez"
    db.session.commit()
    before = (tables(db), pco_state(sandbox))
    push = run_sync("push", "people")
    assert push.status == "succeeded", push.error_message
    assert sandbox.state()["records"]["Person"][0]["last_name"] == "Garcia-Lopez"
    return maria, before, push


def test_undo_of_a_push_patches_pco_back_and_leaves_the_site_as_before(
    sandbox, run_sync, db, models, undo
):
    _, before, push = _renamed_here_and_pushed(sandbox, run_sync, db, models)
    undone = undo(push.id)
    assert undone.status == "succeeded", undone.error_message
    assert (tables(db), pco_state(sandbox)) == before


def test_undo_of_a_push_reads_pco_in_one_listing_not_one_get_per_person(
    sandbox, run_sync, db, models, undo
):
    _, _, push = _renamed_here_and_pushed(sandbox, run_sync, db, models)
    sandbox.clear_requests()
    undo(push.id)
    reads = [r["path"].split("?")[0] for r in sandbox.requests() if r["method"] == "GET"]
    assert reads == ["/people/v2/people"]


def test_undo_of_the_undo_of_a_push_pushes_again(sandbox, run_sync, db, models, undo):
    _, _, push = _renamed_here_and_pushed(sandbox, run_sync, db, models)
    after = (tables(db), pco_state(sandbox))
    again = undo(undo(push.id).id)
    assert again.status == "succeeded", again.error_message
    assert (tables(db), pco_state(sandbox)) == after


def test_a_field_pco_changed_since_the_push_becomes_a_conflict(sandbox, run_sync, db, models, undo):
    maria, _, push = _renamed_here_and_pushed(sandbox, run_sync, db, models)
    sandbox.edit_person(maria, last_name="Garcia Lopez")
    undo(push.id)
    assert sandbox.state()["records"]["Person"][0]["last_name"] == "Garcia Lopez"
    Conflict = db.Model.registry._class_registry["Conflict"]
    [conflict] = db.session.scalars(select(Conflict))
    assert (conflict.base_value, conflict.local_value, conflict.pco_value) == (
        "Garcia-Lopez",
        "Garcia-Lopez",
        "Garcia Lopez",
    )


def _new_person_pushed(sandbox, run_sync, db):
    dana = add_person(db, "Dana", "Newcomer", emails=("dana@example.org",))
    before = (tables(db), pco_state(sandbox))
    push = run_sync("push", "people")
    assert push.status == "succeeded", push.error_message
    assert len(sandbox.state()["records"]["Person"]) == 1
    return dana, before, push


def test_a_person_the_push_created_in_pco_is_kept_and_listed(sandbox, run_sync, db, undo):
    dana, _, push = _new_person_pushed(sandbox, run_sync, db)
    undone = undo(push.id)
    assert len(sandbox.state()["records"]["Person"]) == 1
    Issue = db.Model.registry._class_registry["SyncIssue"]
    reasons = [i.reason for i in db.session.scalars(select(Issue).where(Issue.run_id == undone.id))]
    assert any("created in PCO by run" in r and "kept" in r for r in reasons)
    assert db.session.get(type(dana), dana.id).pco_id is not None  # still linked: no duplicate


def test_with_delete_created_the_person_goes_from_pco_and_the_site_is_as_before(
    sandbox, run_sync, db, undo
):
    _, before, push = _new_person_pushed(sandbox, run_sync, db)
    undone = undo(push.id, delete_created=True)
    assert undone.status == "succeeded", undone.error_message
    assert (tables(db), pco_state(sandbox)) == before


#: What a full push of a new family with a group membership creates in PCO.
_CREATED = ("Person", "Email", "Household", "HouseholdMembership", "Membership")


def _new_family_pushed(sandbox, run_sync, db, models):
    sandbox.reset(people=2, seed=1)
    run_sync("pull", "full")
    # a PCO group, not one of the rows the site keeps for group types ("type:..." ids)
    first = str(sandbox.state()["records"]["Group"][0]["id"])
    group = db.session.scalar(select(models.ChurchGroup).filter_by(pco_id=first))
    dana = add_person(db, "Dana", "Newcomer", emails=("dana@example.org",))
    sam = add_person(db, "Sam", "Newcomer")
    add_family(db, "Newcomer", (dana, "adult"), (sam, "child"))
    db.session.add(models.GroupMembership(group_id=group.id, person_id=dana.id))
    db.session.commit()
    before = (tables(db), pco_state(sandbox, _CREATED))
    push = run_sync("push", "full")
    assert push.status == "succeeded", push.error_message
    assert [m["group_id"] for m in sandbox.state()["records"]["Membership"]
            if m["person_id"] == dana.pco_id] == [first]  # fmt: skip
    return before, push


def test_undo_of_a_full_push_with_delete_created_leaves_pco_and_the_site_as_before(
    sandbox, run_sync, db, models, undo
):
    before, push = _new_family_pushed(sandbox, run_sync, db, models)
    undone = undo(push.id, delete_created=True)
    assert undone.status == "succeeded", undone.error_message
    assert (tables(db), pco_state(sandbox, _CREATED)) == before


def test_the_delete_created_preview_lists_memberships_before_what_they_join_and_deletes_nothing(
    sandbox, run_sync, db, models, undo
):
    _, push = _new_family_pushed(sandbox, run_sync, db, models)
    after = pco_state(sandbox, _CREATED)
    sandbox.clear_requests()
    preview = undo(push.id, delete_created=True, dry_run=True)
    assert preview.status == "succeeded", preview.error_message
    removed = [e.record_type for e in plan_changes(current_pco(), preview.id).entries
               if e.action == "remove" and e.side == "pco"]  # fmt: skip
    # the household's memberships were made by its POST and go with its DELETE
    assert removed == ["group_membership", "family", "person", "email", "person"]
    assert writes(sandbox) == []
    assert pco_state(sandbox, _CREATED) == after


def test_undo_of_a_pushed_email_change_patches_the_email_back(sandbox, run_sync, db, models, undo):
    maria = sandbox_person(sandbox, "Maria", "Garcia", emails=["maria@example.org"])
    run_sync("pull", "people")
    person = db.session.scalar(select(models.Person).filter_by(pco_id=maria))
    email = db.session.scalar(select(models.PersonEmail).filter_by(person_id=person.id))
    email.email = "maria@new.example.org"
    db.session.commit()
    before = (tables(db), pco_state(sandbox))
    push = run_sync("push", "people")
    assert sandbox.state()["records"]["Email"][0]["address"] == "maria@new.example.org"
    undone = undo(push.id)
    assert undone.status == "succeeded", undone.error_message
    assert (tables(db), pco_state(sandbox)) == before


def test_undo_of_a_pushed_phone_change_patches_the_number_back(sandbox, run_sync, db, models, undo):
    maria = sandbox_person(sandbox, "Maria", "Garcia", phone_numbers=["+15555550123"])
    run_sync("pull", "people")
    person = db.session.scalar(select(models.Person).filter_by(pco_id=maria))
    phone = db.session.scalar(select(models.PersonPhone).filter_by(person_id=person.id))
    phone.phone = "+15555550199"
    db.session.commit()
    before = (tables(db), pco_state(sandbox))
    push = run_sync("push", "people")
    assert pco_state(sandbox)["PhoneNumber"] != before[1]["PhoneNumber"]
    undone = undo(push.id)
    assert undone.status == "succeeded", undone.error_message
    assert (tables(db), pco_state(sandbox)) == before
