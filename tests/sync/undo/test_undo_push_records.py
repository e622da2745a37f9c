"""Undo of a push's writes beyond a person's fields: a family's address (on its primary
contact's Address), a group membership's role and a person's address are PATCHed back, compared
in the sandbox's store; PCO's later edit makes a conflict; PCO is read in one listing."""

from __future__ import annotations

from sqlalchemy import select

from flask_pco import current_pco
from flask_pco.sync.history import change_line, labels, record_entries
from tests.sync.conftest import sandbox_person
from tests.sync.undo.conftest import (
    RECORDS,
    journal,
    pco_state,
    pushed,
    reads,
    tables,
    the_conflict,
    writes,
)

ADDRESS = {"street_line_1": "1 Main St", "city": "Portland", "state": "OR", "zip": "97201",
           "location": "Home", "primary": True}  # fmt: skip
# A family's address ----------------------------------------------------------------------


def _family_zip_pushed(sandbox, run_sync, db, models):
    maria = sandbox_person(sandbox, "Maria", "Garcia", addresses=[ADDRESS])
    sandbox.add_household([maria], "Garcia", primary_contact=maria)
    run_sync("pull", "full")
    family = db.session.scalar(select(models.Family))
    assert (family.street, family.zip) == ("1 Main St", "97201")
    family.zip = "97202"
    db.session.commit()
    before, push = pushed(run_sync, db, sandbox, "families")
    return before, push


def test_undo_of_a_pushed_family_address_patches_the_address_back(
    sandbox, run_sync, db, models, undo
):
    before, push = _family_zip_pushed(sandbox, run_sync, db, models)
    undone = undo(push.id)
    assert undone.status == "succeeded", undone.error_message
    assert (tables(db), pco_state(sandbox, RECORDS)) == before


def test_undo_of_a_family_address_reads_the_people_listing_and_sends_one_patch(
    sandbox, run_sync, db, models, undo
):
    _, push = _family_zip_pushed(sandbox, run_sync, db, models)
    sandbox.clear_requests()
    undo(push.id)
    assert (reads(sandbox), writes(sandbox)) == (["/people/v2/people"], ["PATCH"])


def test_a_family_address_pco_changed_since_the_push_becomes_a_conflict(
    sandbox, run_sync, db, models, undo
):
    _, push = _family_zip_pushed(sandbox, run_sync, db, models)
    [address] = sandbox.state()["records"]["Address"]
    sandbox.edit("addresses", address["id"], zip="97203")
    undo(push.id)
    assert sandbox.state()["records"]["Address"][0]["zip"] == "97203"
    conflict = the_conflict(db)
    assert (conflict.role, conflict.field) == ("family", "zip")
    assert (conflict.base_value, conflict.local_value, conflict.pco_value) == (
        "97202",
        "97202",
        "97203",
    )


def _family_with_an_address_pco_lacks(sandbox, run_sync, db, models):
    """A pulled family given an address here, which its PCO household's contact lacks."""
    maria = sandbox_person(sandbox, "Maria", "Garcia")
    sandbox.add_household([maria], "Garcia", primary_contact=maria)
    run_sync("pull", "full")
    family = db.session.scalar(select(models.Family))
    family.street, family.city, family.zip = "1 Main St", "Portland", "97201"
    db.session.commit()
    return family


def test_an_address_a_push_created_for_a_family_is_deleted_on_request(
    sandbox, run_sync, db, models, undo
):
    _family_with_an_address_pco_lacks(sandbox, run_sync, db, models)
    before, push = pushed(run_sync, db, sandbox, "families")
    undone = undo(push.id, delete_created=True)
    assert undone.status == "succeeded", undone.error_message
    assert pco_state(sandbox, RECORDS) == before[1]
    family = db.session.scalar(select(models.Family))
    assert family.street == "1 Main St"  # the site's own address stays, to be pushed again


def test_an_address_a_push_created_for_a_family_is_kept_without_the_request(
    sandbox, run_sync, db, models, undo
):
    _family_with_an_address_pco_lacks(sandbox, run_sync, db, models)
    _, push = pushed(run_sync, db, sandbox, "families")
    after = pco_state(sandbox, RECORDS)
    undone = undo(push.id)
    assert undone.status == "succeeded", undone.error_message
    assert pco_state(sandbox, RECORDS) == after


def test_undo_of_the_undo_of_a_family_address_pushes_it_again(sandbox, run_sync, db, models, undo):
    _, push = _family_zip_pushed(sandbox, run_sync, db, models)
    after = (tables(db), pco_state(sandbox, RECORDS))
    again = undo(undo(push.id).id)
    assert again.status == "succeeded", again.error_message
    assert (tables(db), pco_state(sandbox, RECORDS)) == after


def _created_address_entry(sandbox, run_sync, db, models):
    family = _family_with_an_address_pco_lacks(sandbox, run_sync, db, models)
    push = run_sync("push", "families")
    [entry] = [e for e in journal(push.id) if e.action == "create"]
    return family, entry


def test_the_address_a_push_created_for_a_family_is_named_after_the_family(
    sandbox, run_sync, db, models
):
    family, entry = _created_address_entry(sandbox, run_sync, db, models)
    [address] = sandbox.state()["records"]["Address"]
    assert (entry.record_type, entry.pco_id, entry.side) == ("family_address", address["id"], "pco")
    line = change_line(entry, labels(current_pco(), [entry]))
    assert line == f"address of Garcia (family #{family.id}): created (PCO)"


def test_the_address_a_push_created_for_a_family_is_in_the_familys_history(
    sandbox, run_sync, db, models
):
    family, entry = _created_address_entry(sandbox, run_sync, db, models)
    Entry = current_pco().models.JournalEntry
    query = select(Entry.id).where(record_entries(current_pco(), "family", family.id))
    assert entry.id in set(db.session.scalars(query))


def test_a_family_address_journaled_with_the_households_id_is_named_not_written(
    sandbox, run_sync, db, models, undo
):
    """Entries an older version wrote name the household, not the Address: left, and said."""
    _, push = _family_zip_pushed(sandbox, run_sync, db, models)
    family = db.session.scalar(select(models.Family))
    for entry in journal(push.id):
        if entry.field == "zip":
            entry.pco_id = family.pco_id
    db.session.commit()
    after = pco_state(sandbox, RECORDS)
    undone = undo(push.id)
    assert pco_state(sandbox, RECORDS) == after
    Issue = db.Model.registry._class_registry["SyncIssue"]
    reasons = [i.reason for i in db.session.scalars(select(Issue).where(Issue.run_id == undone.id))]
    assert any("without its Address's PCO id" in r for r in reasons)
