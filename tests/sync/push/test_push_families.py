from sqlalchemy import select

from example_app.models import Family, FamilyMember, Person
from flask_pco.extension import current_pco

from .conftest import add_family, add_person, records, run_push, writes


def _lee_family(db):
    parent = add_person(db, "Ann", "Lee")
    child = add_person(db, "Kim", "Lee", is_child=True)
    return add_family(db, "Lee Household", (child, "child"), (parent, "adult")), parent, child


def test_family_becomes_a_household_with_its_members_pushed_first(db, sandbox):
    family, parent, child = _lee_family(db)
    run_push("families")
    [household] = records(sandbox, "Household")
    people = {p["remote_id"]: p["id"] for p in records(sandbox, "Person")}
    assert set(people) == {parent.id, child.id}
    assert household["name"] == "Lee Household"
    assert household["primary_contact_id"] == people[parent.id]  # the first adult
    members = {m["person_id"] for m in records(sandbox, "HouseholdMembership")}
    assert members == set(people.values())
    assert db.session.get(Family, family.id).pco_id == household["id"]


def test_family_members_store_their_household_membership_ids(db, sandbox):
    _lee_family(db)
    run_push("families")
    stored = set(db.session.scalars(select(FamilyMember.pco_id)))
    assert stored == {m["id"] for m in records(sandbox, "HouseholdMembership")}


def test_member_added_later_joins_the_household_without_pending(db, sandbox):
    family, _, _ = _lee_family(db)
    run_push("families")
    newcomer = add_person(db, "Sam", "Lee")
    db.session.add(FamilyMember(family_id=family.id, person_id=newcomer.id, relationship="adult"))
    db.session.commit()
    sandbox.clear_requests()
    run_push("families")
    paths = [(r["method"], r["path"]) for r in writes(sandbox)]
    household_id = db.session.get(Family, family.id).pco_id
    assert ("POST", f"/people/v2/households/{household_id}/household_memberships") in paths
    pco_newcomer = db.session.get(Person, newcomer.id).pco_id
    [membership] = [
        m for m in records(sandbox, "HouseholdMembership") if m["person_id"] == pco_newcomer
    ]
    assert membership["pending"] is False
    assert len(records(sandbox, "Household")) == 1


def test_rerun_with_nothing_new_makes_no_request(db, sandbox):
    _lee_family(db)
    run_push("families")
    sandbox.clear_requests()
    run_push("families")
    assert sandbox.requests() == []


def test_household_created_by_an_interrupted_run_is_found_not_duplicated(db, sandbox):
    family, parent, child = _lee_family(db)
    run_push("people")
    db.session.refresh(parent)
    db.session.refresh(child)
    # The POST landed but the run died before storing the id.
    existing = sandbox.add_household(
        [parent.pco_id, child.pco_id], name="Lee Household", primary_contact=parent.pco_id
    )
    run_push("families")
    assert [h["id"] for h in records(sandbox, "Household")] == [existing]
    assert db.session.get(Family, family.id).pco_id == existing
    assert db.session.scalars(select(FamilyMember.pco_id)).all().count(None) == 0


def test_family_dry_run_writes_nothing(db, sandbox):
    family, _, _ = _lee_family(db)
    report = run_push("families", dry_run=True)
    assert writes(sandbox) == []
    assert report.counts["created"] == 3  # two people and the household
    assert db.session.get(Family, family.id).pco_id is None


def test_full_push_runs_each_step_with_its_own_log_row(db, sandbox):
    _lee_family(db)
    report = run_push("full")
    SyncRun = current_pco().models.SyncRun
    children = select(SyncRun.sync_type).where(SyncRun.parent_id.is_not(None))
    steps = db.session.scalars(children.order_by(SyncRun.id))
    assert list(steps) == ["people", "families", "group-memberships"]
    assert report.counts["created"] == 3  # two people, one household
    assert len(records(sandbox, "Household")) == 1


def _household_deleted_after_push(db, sandbox):
    """The Lee family pushed, its household deleted in PCO, and a newcomer added here."""
    family, _, _ = _lee_family(db)
    run_push("families")
    household_id = db.session.get(Family, family.id).pco_id
    sandbox.delete("households", household_id)
    db.session.add(FamilyMember(family_id=family.id, person_id=add_person(db, "New", "Lee").id))
    db.session.commit()
    return family, household_id


def test_household_deleted_in_pco_unlinks_the_family_and_says_why(db, sandbox):
    family, household_id = _household_deleted_after_push(db, sandbox)
    run_push("families")
    assert db.session.get(Family, family.id).pco_id == household_id  # a second 404 decides
    report = run_push("families")
    assert db.session.get(Family, family.id).pco_id is None
    assert report.counts["removed"] == 1
    issue = db.session.scalar(select(current_pco().models.SyncIssue))
    assert (issue.kind, issue.local_id, issue.pco_id) == ("unlinked", family.id, household_id)


def test_a_dry_run_that_finds_a_household_deleted_changes_nothing(db, sandbox):
    family, household_id = _household_deleted_after_push(db, sandbox)
    db.session.get(Family, family.id).name = "Lee-Park Household"  # the rename reads PCO's
    db.session.commit()
    run_push("families", dry_run=True)
    assert db.session.get(Family, family.id).pco_id == household_id


def test_the_push_that_finds_a_household_deleted_goes_on_with_other_families(db, sandbox):
    other = add_family(db, "Solo", (add_person(db, "Sol", "O"), "adult"))
    _household_deleted_after_push(db, sandbox)
    db.session.add(FamilyMember(family_id=other.id, person_id=add_person(db, "New", "O").id))
    db.session.commit()
    run_push("families")
    links = select(FamilyMember.pco_id).where(FamilyMember.family_id == other.id)
    assert None not in db.session.scalars(links).all()


def test_the_next_push_gives_the_unlinked_family_one_new_household(db, sandbox):
    family, household_id = _household_deleted_after_push(db, sandbox)
    run_push("families")
    run_push("families")  # the second look unlinks it
    run_push("families")
    [household] = records(sandbox, "Household")
    assert db.session.get(Family, family.id).pco_id == household["id"] != household_id
    members = {m["person_id"] for m in records(sandbox, "HouseholdMembership")}
    assert members == {p.pco_id for p in db.session.scalars(select(Person))}


def test_a_household_already_linked_to_another_family_is_not_linked_twice(db, sandbox):
    family, parent, child = _lee_family(db)
    run_push("families")
    twin = add_family(db, "Lee Household", (parent, "adult"), (child, "child"))
    run_push("families")
    assert db.session.get(Family, twin.id).pco_id is None
    assert len(records(sandbox, "Household")) == 1
    issue = db.session.scalar(select(current_pco().models.SyncIssue))
    assert (issue.kind, issue.local_id) == ("held", twin.id)
    assert f"linked to family {family.id}" in issue.reason


def test_family_renamed_here_renames_the_household(db, sandbox):
    family, _, _ = _lee_family(db)
    run_push("families")
    family = db.session.get(Family, family.id)
    family.name = "Lee-Park Household"
    db.session.commit()
    sandbox.clear_requests()
    run_push("families")
    assert [r["method"] for r in writes(sandbox)] == ["PATCH"]
    assert records(sandbox, "Household")[0]["name"] == "Lee-Park Household"
    sandbox.clear_requests()
    run_push("families")
    assert sandbox.requests() == []


def test_family_renamed_on_both_sides_keeps_pcos_name_and_records_a_conflict(db, sandbox):
    family, _, _ = _lee_family(db)
    run_push("families")
    family = db.session.get(Family, family.id)
    sandbox.edit_household(family.pco_id, name="Lee Family (PCO)")
    family.name = "Lee Family (site)"
    db.session.commit()
    sandbox.clear_requests()
    run_push("families")
    assert writes(sandbox) == []
    assert db.session.get(Family, family.id).name == "Lee Family (PCO)"
    conflict = db.session.scalar(select(current_pco().models.Conflict))
    assert (conflict.role, conflict.local_value) == ("family", "Lee Family (site)")


def _addressed_family(db):
    family, parent, _child = _lee_family(db)
    family = db.session.get(Family, family.id)
    family.street, family.city, family.state, family.zip = "1 Main St", "Portland", "OR", "97201"
    db.session.commit()
    return family, parent


def test_family_address_goes_on_the_primary_contact(db, sandbox):
    _family, parent = _addressed_family(db)
    run_push("families")
    [address] = records(sandbox, "Address")
    assert address["person_id"] == db.session.get(Person, parent.id).pco_id
    assert (address["street_line_1"], address["city"], address["state"], address["zip"]) == (
        "1 Main St",
        "Portland",
        "OR",
        "97201",
    )
    assert (address["location"], address["primary"]) == ("Home", True)
    sandbox.clear_requests()
    run_push("families")
    assert sandbox.requests() == []


def test_family_address_edited_here_updates_the_contacts_address(db, sandbox):
    family, _ = _addressed_family(db)
    run_push("families")
    family = db.session.get(Family, family.id)
    family.zip = "97202"
    db.session.commit()
    sandbox.clear_requests()
    run_push("families")
    assert [r["method"] for r in writes(sandbox)] == ["PATCH"]
    [address] = records(sandbox, "Address")
    assert (address["zip"], address["street_line_1"]) == ("97202", "1 Main St")


def test_push_then_pull_then_push_changes_nothing_and_sends_nothing(db, sandbox):
    from flask_pco.sync.engine import execute_run
    from flask_pco.sync.runs import queue_run

    family, _ = _addressed_family(db)
    run_push("full")
    state = current_pco()
    execute_run(state, queue_run(state, "full", "pull"), state.client())
    family = db.session.get(Family, family.id)
    assert (family.name, family.street, family.zip) == ("Lee Household", "1 Main St", "97201")
    assert db.session.scalar(select(current_pco().models.Conflict)) is None
    sandbox.clear_requests()
    run_push("full")
    assert sandbox.requests() == []


def _household_lookups(sandbox):
    """The GETs of a person's households (the look before a household is created)."""
    return [
        r
        for r in sandbox.requests()
        if r["method"] == "GET" and r["path"].split("?")[0].endswith("/households")
    ]


def test_a_family_of_people_this_push_created_is_created_without_looking(db, sandbox):
    _lee_family(db)
    run_push("full")
    assert _household_lookups(sandbox) == []
    assert len(records(sandbox, "Household")) == 1


def test_a_family_whose_people_were_already_in_pco_is_looked_for_first(db, sandbox):
    _lee_family(db)
    run_push("people")
    sandbox.clear_requests()
    run_push("families")
    assert len(_household_lookups(sandbox)) == 1


def test_two_families_of_the_same_new_people_make_one_household(db, sandbox):
    _, parent, child = _lee_family(db)
    twin = add_family(db, "Lee Household", (parent, "adult"), (child, "child"))
    run_push("full")
    assert len(records(sandbox, "Household")) == 1
    assert db.session.get(Family, twin.id).pco_id is None
