"""Members a group lists who are not local yet are pulled, not skipped: ``sync groups --group ID``
brings the group, its memberships and its people, matched before anyone is created, in few
requests."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from tests.sync.conftest import PER_PAGE


def chosen_group(sandbox) -> tuple[dict, list[dict]]:
    """The generated group with the most members, and its memberships."""
    records = sandbox.state()["records"]
    by_group: dict[str, list[dict]] = {}
    for membership in records["Membership"]:
        by_group.setdefault(membership["group_id"], []).append(membership)
    group_id = max(by_group, key=lambda g: len(by_group[g]))
    group = next(g for g in records["Group"] if g["id"] == group_id)
    return group, by_group[group_id]


def person_by_id(sandbox, pco_id: str) -> dict:
    return next(p for p in sandbox.state()["records"]["Person"] if p["id"] == pco_id)


def test_one_group_pulls_its_members_who_are_not_local_yet(sandbox, run_sync, models, count):
    sandbox.reset(people=30, seed=3)
    group, memberships = chosen_group(sandbox)

    run = run_sync("pull", "groups", group_id=group["id"])

    assert run.status == "succeeded", run.error_message
    local = models.db.session.scalars(select(models.GroupMembership)).all()
    assert {m.pco_id for m in local} == {m["id"] for m in memberships}
    people = {p.id: p.pco_id for p in models.db.session.scalars(select(models.Person))}
    assert sorted(people[m.person_id] for m in local) == sorted(m["person_id"] for m in memberships)
    assert count(models.Person) == len(memberships)  # the group's people, nobody else
    assert run.skipped == 0 and run.created == 2 + 2 * len(memberships)  # area, group


def test_one_group_costs_a_request_per_member_not_local_and_no_more(sandbox, run_sync):
    sandbox.reset(people=30, seed=3)
    group, memberships = chosen_group(sandbox)
    sandbox.clear_requests()

    run_sync("pull", "groups", group_id=group["id"])

    paths = Counter(r["path"].split("?")[0] for r in sandbox.requests())
    # The organisation's country, for phone numbers: asked once per process, if at all.
    assert paths.pop("/people/v2", 0) <= 1
    # The site's custom fields (example_app maps two): their definitions, once per run.
    assert paths.pop("/people/v2/field_definitions") == 1
    pages = -(-len(memberships) // PER_PAGE)
    assert paths == Counter(
        {
            f"/groups/v2/groups/{group['id']}": 1,
            f"/groups/v2/group_types/{group['group_type_id']}": 1,
            f"/groups/v2/groups/{group['id']}/memberships": pages,
            **{f"/people/v2/people/{m['person_id']}": 1 for m in memberships},
            # The members name campuses this site has not pulled: read once for the run.
            "/people/v2/campuses": 1,
        }
    )


def test_members_already_local_cost_no_request(sandbox, run_sync):
    sandbox.reset(people=30, seed=3)
    group, _ = chosen_group(sandbox)
    run_sync("pull", "people")
    sandbox.clear_requests()

    run_sync("pull", "groups", group_id=group["id"])

    assert not [r for r in sandbox.requests() if r["path"].startswith("/people/")]


def test_a_member_who_exists_unlinked_here_is_linked_not_duplicated(
    sandbox, run_sync, models, local_person, count
):
    sandbox.reset(people=30, seed=3)
    group, memberships = chosen_group(sandbox)
    pco_person = person_by_id(sandbox, memberships[0]["person_id"])
    email = next(
        e["address"]
        for e in sandbox.state()["records"]["Email"]
        if e["person_id"] == pco_person["id"]
    )
    mine = local_person(pco_person["first_name"], "Othername", emails=(email.upper(),))

    run = run_sync("pull", "groups", group_id=group["id"])

    assert run.status == "succeeded", run.error_message
    models.db.session.refresh(mine)
    assert mine.pco_id == pco_person["id"]
    assert count(models.Person) == len(memberships)


def test_a_member_kept_in_a_pco_merge_takes_over_the_removed_profiles_row(
    sandbox, run_sync, models, count
):
    sandbox.reset(people=30, seed=3)
    group, _ = chosen_group(sandbox)
    removed = sandbox.add_person(first_name="Naomi", last_name="Mara")
    run_sync("pull", "people")
    row = models.db.session.scalar(select(models.Person).where(models.Person.pco_id == removed))
    people = count(models.Person)
    kept = sandbox.add_person(first_name="Naomi", last_name="Moab")
    sandbox.add_group_membership(group["id"], kept)
    sandbox.merge_people(kept, removed)

    run = run_sync("pull", "groups", group_id=group["id"])

    assert run.status == "succeeded", run.error_message
    models.db.session.refresh(row)
    assert (row.pco_id, row.last_name) == (kept, "Moab")  # relinked, not a second person
    assert count(models.Person) == people


def test_a_groups_pull_before_any_people_pull_brings_the_members(
    sandbox, run_sync, models, count, state
):
    sandbox.reset(people=30, seed=3)
    members = {m["person_id"] for m in sandbox.state()["records"]["Membership"]}

    run = run_sync("pull", "groups")

    assert run.status == "succeeded", run.error_message
    pulled = set(models.db.session.scalars(select(models.Person.pco_id)))
    assert pulled == members
    assert count(models.GroupMembership) == len(sandbox.state()["records"]["Membership"])
    assert models.db.session.scalar(select(func.count()).select_from(state.models.SyncIssue)) == 0


def test_a_dry_run_of_one_group_counts_its_new_members_and_writes_nothing(
    sandbox, run_sync, models, count
):
    sandbox.reset(people=30, seed=3)
    group, memberships = chosen_group(sandbox)

    dry = run_sync("pull", "groups", group_id=group["id"], dry_run=True)
    written = count(models.Person), count(models.GroupMembership)
    real = run_sync("pull", "groups", group_id=group["id"])

    assert written == (0, 0)
    assert (dry.status, dry.created) == ("succeeded", real.created)
    assert real.created == 2 + 2 * len(memberships)
