"""A merge of two people in PCO, seen by a pull alone (no webhooks): the local person stays one
row, and the site's own data (allergies, photo, check-ins, memberships) ends on it."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from tests.sync.conftest import sandbox_person

LOCAL_ONLY = {"allergies": "peanuts", "photo_url": "https://church.example/naomi.jpg"}


def local(models, pco_id: str):
    models.db.session.expire_all()
    Person = models.Person
    return models.db.session.scalar(select(Person).where(Person.pco_id == pco_id))


def give_local_data(models, pco_id: str, **values) -> int:
    row = local(models, pco_id)
    for column, value in values.items():
        setattr(row, column, value)
    models.db.session.commit()
    return row.id


def people(models) -> list:
    models.db.session.expire_all()
    return list(models.db.session.scalars(select(models.Person).order_by(models.Person.id)))


@pytest.mark.parametrize("incremental", [False, True], ids=["full", "incremental"])
def test_a_pull_relinks_the_removed_profiles_row_to_the_kept_one(
    sandbox, run_sync, models, incremental
):
    remove = sandbox_person(sandbox, "Naomi", "Mara", emails=["naomi@moab.example"])
    run_sync("pull", "people")
    row_id = give_local_data(models, remove, **LOCAL_ONLY)
    keep = sandbox_person(sandbox, "Naomi", "Moab")
    sandbox.merge_people(keep, remove)

    run = run_sync("pull", "people", incremental=incremental)

    [person] = people(models)
    assert (person.id, person.pco_id, person.last_name, person.is_active) == (
        row_id,
        keep,
        "Moab",
        True,
    )
    assert {c: getattr(person, c) for c in LOCAL_ONLY} == LOCAL_ONLY
    assert [e.email for e in person.emails] == ["naomi@moab.example"]
    assert (run.status, run.created, run.removed) == ("succeeded", 0, 0)


def test_a_pull_merges_two_local_people_into_the_row_of_the_kept_profile(sandbox, run_sync, models):
    keep = sandbox_person(sandbox, "Naomi", "Moab")
    remove = sandbox_person(sandbox, "Naomi", "Mara")
    run_sync("pull", "people")
    survivor_id = give_local_data(models, keep, is_verified=False)
    merged_id = give_local_data(models, remove, is_verified=True, **LOCAL_ONLY)
    sandbox.merge_people(keep, remove)

    run_sync("pull", "people", incremental=True)

    survivor, merged = local(models, keep), local(models, remove)
    assert survivor.id == survivor_id and survivor.is_active is True
    assert {c: getattr(survivor, c) for c in LOCAL_ONLY} == LOCAL_ONLY
    assert survivor.is_verified is True
    assert (merged.id, merged.is_active, merged.pco_merged_into) == (merged_id, False, survivor_id)


def test_rows_pointing_at_the_merged_person_move_to_the_survivor(sandbox, run_sync, models):
    keep = sandbox_person(sandbox, "Naomi", "Moab")
    remove = sandbox_person(sandbox, "Naomi", "Mara")
    run_sync("pull", "people")
    survivor_id, merged_id = local(models, keep).id, local(models, remove).id
    db = models.db
    family = models.Family(name="Moab")
    db.session.add(family)
    db.session.flush()
    db.session.add(models.FamilyMember(family_id=family.id, person_id=merged_id))
    db.session.add(models.CheckIn(person_id=merged_id, security_code="X1"))
    db.session.commit()
    sandbox.merge_people(keep, remove)

    run_sync("pull", "people", incremental=True)

    db.session.expire_all()
    assert [c.person_id for c in db.session.scalars(select(models.CheckIn))] == [survivor_id]
    assert [m.person_id for m in db.session.scalars(select(models.FamilyMember))] == [survivor_id]


def test_a_membership_the_survivor_already_has_is_not_doubled(sandbox, run_sync, models):
    keep = sandbox_person(sandbox, "Naomi", "Moab")
    remove = sandbox_person(sandbox, "Naomi", "Mara")
    run_sync("pull", "people")
    survivor_id, merged_id = local(models, keep).id, local(models, remove).id
    db = models.db
    family = models.Family(name="Moab")
    db.session.add(family)
    db.session.flush()
    for person_id in (survivor_id, merged_id):
        db.session.add(models.FamilyMember(family_id=family.id, person_id=person_id))
    db.session.commit()
    sandbox.merge_people(keep, remove)

    run_sync("pull", "people", incremental=True)

    db.session.expire_all()
    members = sorted(m.person_id for m in db.session.scalars(select(models.FamilyMember)))
    assert members == [survivor_id, merged_id]  # the merged row keeps its own, now inactive


def test_different_local_values_keep_the_survivors_and_are_recorded_as_conflicts(
    sandbox, run_sync, models, state
):
    keep = sandbox_person(sandbox, "Naomi", "Moab")
    remove = sandbox_person(sandbox, "Naomi", "Mara")
    run_sync("pull", "people")
    survivor_id = give_local_data(models, keep, allergies="gluten")
    merged_id = give_local_data(models, remove, allergies="peanuts")
    sandbox.merge_people(keep, remove)

    run_sync("pull", "people", incremental=True)

    assert local(models, keep).allergies == "gluten"
    [conflict] = models.db.session.scalars(select(state.models.Conflict)).all()
    assert (conflict.local_id, conflict.field, conflict.merged_from) == (
        survivor_id,
        "allergies",
        merged_id,
    )
    assert (conflict.pco_value, conflict.local_value) == ("gluten", "peanuts")


def test_a_pull_with_no_merges_asks_pco_once_for_them(sandbox, run_sync, models):
    sandbox_person(sandbox, "Naomi", "Moab")
    run_sync("pull", "people")
    sandbox.clear_requests()

    run_sync("pull", "people", incremental=True)

    asked = [r["path"] for r in sandbox.requests() if "person_mergers" in r["path"]]
    assert len(asked) == 1
    assert "where[created_at][gte]=" in asked[0].replace("%5B", "[").replace("%5D", "]")


def test_a_merge_read_twice_changes_nothing_the_second_time(sandbox, run_sync, models):
    keep = sandbox_person(sandbox, "Naomi", "Moab")
    remove = sandbox_person(sandbox, "Naomi", "Mara")
    run_sync("pull", "people")
    give_local_data(models, remove, **LOCAL_ONLY)
    sandbox.merge_people(keep, remove)
    run_sync("pull", "people", incremental=True)

    again = run_sync("pull", "people", incremental=True)  # within the cursor's overlap

    assert (again.status, again.updated, again.created) == ("succeeded", 0, 0)
    assert [p.is_active for p in people(models)] == [True, False]


def test_a_dry_run_counts_the_merge_and_changes_nothing(sandbox, run_sync, models):
    keep = sandbox_person(sandbox, "Naomi", "Moab")
    remove = sandbox_person(sandbox, "Naomi", "Mara")
    run_sync("pull", "people")
    give_local_data(models, remove, **LOCAL_ONLY)
    models.db.session.add(models.CheckIn(person_id=local(models, remove).id))
    models.db.session.commit()
    sandbox.merge_people(keep, remove)

    run = run_sync("pull", "people", incremental=True, dry_run=True)

    assert (run.status, run.updated) == ("succeeded", 1)
    assert [(p.pco_id, p.is_active, p.allergies) for p in people(models)] == [
        (keep, True, None),
        (remove, True, "peanuts"),
    ]
    assert models.db.session.scalar(select(models.CheckIn.person_id)) == local(models, remove).id


@pytest.fixture
def merges_by_hand(state):
    """The site says it cannot merge people automatically (``PCO_AUTO_MERGE = False``)."""
    state.config = dataclasses.replace(state.config, auto_merge=False)


def test_with_auto_merge_off_the_merge_is_held_and_flask_pco_merge_carries_it_out(
    sandbox, run_sync, models, state, app, merges_by_hand
):
    keep = sandbox_person(sandbox, "Naomi", "Moab")
    remove = sandbox_person(sandbox, "Naomi", "Mara")
    run_sync("pull", "people")
    survivor_id = local(models, keep).id
    merged_id = give_local_data(models, remove, **LOCAL_ONLY)
    sandbox.merge_people(keep, remove)

    run = run_sync("pull", "people", incremental=True)

    assert (run.status, run.held) == ("succeeded", 1)
    [issue] = models.db.session.scalars(select(state.models.SyncIssue)).all()
    assert (issue.kind, issue.local_id, issue.candidates) == ("merged", merged_id, [survivor_id])
    assert local(models, keep).allergies is None
    assert local(models, remove).is_active is False

    result = app.test_cli_runner().invoke(args=["pco", "merge", str(issue.id)])

    assert result.exit_code == 0, result.output
    assert f"local person {merged_id} merged into {survivor_id}" in result.output.lower()
    assert local(models, keep).allergies == "peanuts"
    assert local(models, remove).pco_merged_into == survivor_id
    models.db.session.refresh(issue)
    assert issue.resolution == f"merged:{survivor_id}"


def test_flask_pco_merge_refuses_an_issue_that_is_not_a_held_merge(app, state):
    result = app.test_cli_runner().invoke(args=["pco", "merge", "999"])

    assert result.exit_code == 1
    assert "issue 999 is not a held merge" in result.output


def group_rows(models) -> list[tuple]:
    """Every local group membership: (person's PCO id, whether PCO removed it)."""
    models.db.session.expire_all()
    Membership = models.GroupMembership
    people = {p.id: p.pco_id for p in models.db.session.scalars(select(models.Person))}
    return sorted(
        (people[m.person_id], m.pco_removed_at is not None)
        for m in models.db.session.scalars(select(Membership))
    )


def in_a_group(sandbox, run_sync, *pco_ids: str) -> None:
    """Each of these PCO people joins the first generated group; people and groups pulled."""
    group = sorted(g["id"] for g in sandbox.state()["records"]["Group"])[0]
    for pco_id in pco_ids:
        sandbox.add_group_membership(group, pco_id)
    run_sync("pull", "people")
    run_sync("pull", "groups")


@pytest.mark.parametrize("kept_is_local", [True, False], ids=["both-local", "kept-unknown"])
def test_the_removed_profiles_group_memberships_go_as_pco_deleted_them(
    sandbox, run_sync, models, kept_is_local
):
    sandbox.reset(people=0, seed=3)
    remove = sandbox_person(sandbox, "Naomi", "Mara")
    in_a_group(sandbox, run_sync, remove)
    keep = sandbox_person(sandbox, "Naomi", "Moab")
    if kept_is_local:
        run_sync("pull", "people")
    sandbox.merge_people(keep, remove)

    run_sync("pull", "people", incremental=True)

    owner = remove if kept_is_local else keep  # the relinked row now holds the kept profile
    assert group_rows(models) == [(owner, True)]  # not moved onto the survivor, not kept live
