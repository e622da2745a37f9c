"""pull groups: the PCO Groups department, group types as areas, groups, memberships."""

from __future__ import annotations

from sqlalchemy import select


def groups(models, kind):
    return {
        g.pco_id: g
        for g in models.db.session.scalars(
            select(models.ChurchGroup).where(models.ChurchGroup.kind == kind)
        )
    }


def test_groups_land_under_a_pco_groups_department_with_types_as_areas(sandbox, run_sync, models):
    sandbox.reset(people=30, seed=3)
    records = sandbox.state()["records"]
    run_sync("pull", "people")
    run = run_sync("pull", "groups")
    assert run.status == "succeeded", run.error_message
    (department,) = groups(models, "department").values()
    areas, pulled = groups(models, "area"), groups(models, "group")
    assert department.name == "PCO Groups"
    assert {a.parent_id for a in areas.values()} == {department.id}
    assert set(pulled) == {g["id"] for g in records["Group"]}
    for group in records["Group"]:
        assert pulled[group["id"]].parent_id == areas["type:" + group["group_type_id"]].id


def test_memberships_are_pulled_with_leaders(sandbox, run_sync, models):
    sandbox.reset(people=30, seed=3)
    records = sandbox.state()["records"]
    run_sync("pull", "people")
    run_sync("pull", "groups")
    local = {
        m.pco_id: m.is_leader for m in models.db.session.scalars(select(models.GroupMembership))
    }
    assert local == {m["id"]: m["role"] == "leader" for m in records["Membership"]}


def test_local_group_metadata_survives_and_a_role_change_is_pulled(sandbox, run_sync, models):
    sandbox.reset(people=30, seed=3)
    membership = sandbox.state()["records"]["Membership"][0]
    run_sync("pull", "people")
    run_sync("pull", "groups")
    group = groups(models, "group")[membership["group_id"]]
    group.meeting_day, group.childcare = "Tuesday", True
    models.db.session.commit()
    sandbox.edit_group_membership(
        membership["id"], role="member" if membership["role"] == "leader" else "leader"
    )
    run_sync("pull", "groups")
    models.db.session.refresh(group)
    row = models.db.session.scalar(
        select(models.GroupMembership).where(models.GroupMembership.pco_id == membership["id"])
    )
    assert (group.meeting_day, group.childcare) == ("Tuesday", True)
    assert row.is_leader == (membership["role"] != "leader")


def test_a_second_groups_pull_changes_nothing(sandbox, run_sync):
    sandbox.reset(people=30, seed=3)
    run_sync("pull", "people")
    run_sync("pull", "groups")
    again = run_sync("pull", "groups")
    assert (again.created, again.updated) == (0, 0)


def test_one_group_can_be_synced_now(sandbox, run_sync, models):
    sandbox.reset(people=30, seed=3)
    records = sandbox.state()["records"]
    chosen = records["Group"][0]
    run_sync("pull", "people")
    run = run_sync("pull", "groups", group_id=chosen["id"])
    assert run.status == "succeeded", run.error_message
    assert set(groups(models, "group")) == {chosen["id"]}
    expected = {m["id"] for m in records["Membership"] if m["group_id"] == chosen["id"]}
    assert {m.pco_id for m in models.db.session.scalars(select(models.GroupMembership))} == expected


def test_one_group_pco_does_not_have_fails_the_run_naming_it(sandbox, run_sync, state):
    run = run_sync("pull", "groups", group_id="424242")
    assert (run.status, run.error_message) == ("failed", "PCO group 424242 does not exist")
    (issue,) = state.db.session.scalars(select(state.models.SyncIssue))
    assert (issue.kind, issue.resource_type, issue.pco_id) == ("not_found", "Group", "424242")


def test_a_group_id_stays_one_segment_of_the_url(sandbox, run_sync):
    run_sync("pull", "groups", group_id="../x")
    (request,) = sandbox.requests()
    assert request["path"].startswith("/groups/v2/groups/../x?")


def test_a_membership_removed_in_pco_is_removed_but_local_ones_stay(sandbox, run_sync, models):
    sandbox.reset(people=30, seed=3)
    membership = sandbox.state()["records"]["Membership"][0]
    run_sync("pull", "people")
    run_sync("pull", "groups")
    group = groups(models, "group")[membership["group_id"]]
    outsider = models.db.session.scalar(
        select(models.Person)
        .where(
            models.Person.pco_id.not_in(
                [m["person_id"] for m in sandbox.state()["records"]["Membership"]]
            )
        )
        .limit(1)
    )
    models.db.session.add(models.GroupMembership(group_id=group.id, person_id=outsider.id))
    models.db.session.commit()
    sandbox.delete("group_memberships", membership["id"])
    run_sync("pull", "groups")
    run = run_sync("pull", "groups")
    current = select(models.GroupMembership.pco_id).where(
        models.GroupMembership.pco_removed_at.is_(None)
    )
    pco_ids = set(models.db.session.scalars(current))
    assert membership["id"] not in pco_ids and None in pco_ids
    assert run.removed == 1
    removed = models.db.session.scalar(
        select(models.GroupMembership).where(models.GroupMembership.pco_id == membership["id"])
    )
    assert removed.pco_removed_run == run.id  # kept, marked removed


def test_a_local_membership_of_the_same_person_is_linked_not_duplicated(sandbox, run_sync, models):
    sandbox.reset(people=30, seed=3)
    membership = sandbox.state()["records"]["Membership"][0]
    run_sync("pull", "people")
    run_sync("pull", "groups")
    row = models.db.session.scalar(
        select(models.GroupMembership).where(models.GroupMembership.pco_id == membership["id"])
    )
    row.pco_id = None  # as if the site had added this person to the group itself
    models.db.session.commit()
    run_sync("pull", "groups")
    rows = models.db.session.scalars(
        select(models.GroupMembership).where(
            models.GroupMembership.person_id == row.person_id,
            models.GroupMembership.group_id == row.group_id,
        )
    ).all()
    assert [r.pco_id for r in rows] == [membership["id"]]


def test_a_member_pco_adds_back_is_restored_not_duplicated(sandbox, run_sync, models, state):
    from flask_pco.mapping.payloads import group_membership_attributes

    sandbox.reset(people=30, seed=3)
    membership = sandbox.state()["records"]["Membership"][0]
    run_sync("pull", "people")
    run_sync("pull", "groups")
    sandbox.delete("group_memberships", membership["id"])
    run_sync("pull", "groups")
    run_sync("pull", "groups")
    state.client().create(
        f"/groups/v2/groups/{membership['group_id']}/memberships",
        "Membership",
        group_membership_attributes(membership["person_id"], is_leader=False),
    )
    run_sync("pull", "groups")
    person = models.db.session.scalar(
        select(models.Person).where(models.Person.pco_id == membership["person_id"])
    )
    group = groups(models, "group")[membership["group_id"]]
    rows = models.db.session.scalars(
        select(models.GroupMembership).where(
            models.GroupMembership.person_id == person.id,
            models.GroupMembership.group_id == group.id,
        )
    ).all()
    assert len(rows) == 1 and rows[0].pco_removed_at is None
    assert rows[0].pco_id not in (None, membership["id"])
