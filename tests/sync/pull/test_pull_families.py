"""pull families: households → families and members, relationships, addresses, removals."""

from __future__ import annotations

from sqlalchemy import select

from flask_pco import current_pco

SCENARIO = {
    "people": [
        {
            "first_name": "Pat",
            "last_name": "Doe",
            "addresses": [
                {
                    "street_line_1": "1 Elm St",
                    "street_line_2": "Apt 4",
                    "city": "Salem",
                    "state": "OR",
                    "zip": "97301",
                }
            ],
        },
        {"first_name": "Kid", "last_name": "Doe", "child": True},
        {"first_name": "Lou", "last_name": "Doe"},
        {"first_name": "Solo", "last_name": "Roe"},
    ],
    "households": [
        {"name": "Doe Household", "people": [0, 1, 2], "primary_contact": 0},
        {"name": "Roe Household", "people": [3]},
    ],
}


def families(models):
    return {f.pco_id: f for f in models.db.session.scalars(select(models.Family))}


def members(models, family):
    """The family's current members: links a sync marked removed are kept, but not current."""
    links = models.db.session.scalars(
        select(models.FamilyMember).where(
            models.FamilyMember.family_id == family.id,
            models.FamilyMember.pco_removed_at.is_(None),
        )
    )
    return {(link.person.first_name, link.relationship) for link in links}


def test_households_become_families_with_members_and_relationships(sandbox, run_sync, models):
    ids = sandbox.load_scenario(SCENARIO)
    run_sync("pull", "people")
    run = run_sync("pull", "families")
    assert (run.status, run.created) == ("succeeded", 2)
    doe = families(models)[ids["households"][0]]
    assert doe.name == "Doe Household"
    assert members(models, doe) == {("Pat", "adult"), ("Kid", "child"), ("Lou", "adult")}


def test_the_family_takes_its_primary_contacts_address(sandbox, run_sync, models):
    ids = sandbox.load_scenario(SCENARIO)
    run_sync("pull", "full")
    doe = families(models)[ids["households"][0]]
    assert (doe.street, doe.city, doe.state, doe.zip) == ("1 Elm St, Apt 4", "Salem", "OR", "97301")


def test_a_local_family_address_pco_never_sent_is_kept(sandbox, run_sync, models):
    scenario = {
        **SCENARIO,
        "people": [{**SCENARIO["people"][0], "addresses": []}, *SCENARIO["people"][1:]],
    }
    ids = sandbox.load_scenario(scenario)
    run_sync("pull", "full")
    doe = families(models)[ids["households"][0]]
    doe.street = "9 Local Rd"
    models.db.session.commit()
    run_sync("pull", "full")
    models.db.session.refresh(doe)
    assert doe.street == "9 Local Rd"


def test_a_member_removed_in_pco_is_unlinked_but_local_links_stay(sandbox, run_sync, models):
    ids = sandbox.load_scenario(SCENARIO)
    run_sync("pull", "full")
    doe = families(models)[ids["households"][0]]
    solo = models.db.session.scalar(select(models.Person).where(models.Person.first_name == "Solo"))
    models.db.session.add(
        models.FamilyMember(family_id=doe.id, person_id=solo.id, relationship="adult")
    )
    models.db.session.commit()
    lou = next(
        m
        for m in sandbox.state()["records"]["HouseholdMembership"]
        if m["person_id"] == ids["people"][2]
    )
    sandbox.delete("household_memberships", lou["id"])
    first = run_sync("pull", "families", incremental=True)
    assert ("Lou", "adult") in members(models, doe)  # one look can be wrong: a second decides
    assert first.removed == 0
    run = run_sync("pull", "families", incremental=True)  # re-reads the household
    assert members(models, doe) == {("Pat", "adult"), ("Kid", "child"), ("Solo", "adult")}
    assert run.removed == 1
    lou_link = models.db.session.scalar(
        select(models.FamilyMember).where(models.FamilyMember.pco_removed_at.is_not(None))
    )
    assert lou_link.pco_removed_run == run.id  # kept, marked removed, by which run
    assert (
        models.db.session.scalar(select(models.Person).where(models.Person.first_name == "Lou"))
        is not None
    )


def test_incremental_families_reads_only_changed_households(sandbox, run_sync, models):
    ids = sandbox.load_scenario(SCENARIO)
    run_sync("pull", "full")
    sandbox.edit_household(ids["households"][1], name="Roe Family")
    run = run_sync("pull", "families", incremental=True)
    assert (run.updated, run.requests_used) == (1, 1)
    assert families(models)[ids["households"][1]].name == "Roe Family"


def test_members_not_pulled_yet_are_skipped_with_a_reason(sandbox, run_sync, models, state):
    sandbox.load_scenario(SCENARIO)
    run = run_sync("pull", "families")
    assert (run.status, run.created, run.skipped) == ("succeeded", 2, 4)
    issue = models.db.session.scalar(select(state.models.SyncIssue))
    assert "not pulled yet" in issue.reason


def test_full_pull_runs_every_step_with_a_log_row_each(sandbox, run_sync, state):
    sandbox.reset(people=20, seed=7)
    run = run_sync("pull", "full")
    children = state.db.session.scalars(
        select(state.models.SyncRun)
        .where(state.models.SyncRun.parent_id == run.id)
        .order_by(state.models.SyncRun.id)
    ).all()
    assert run.status == "succeeded", run.error_message
    assert [c.sync_type for c in children] == [
        "campuses",
        "people",
        "families",
        "groups",
        "events",
        "locations",
    ]
    assert all(c.status == "succeeded" for c in children)


def test_a_dry_run_of_a_full_pull_writes_nothing(sandbox, run_sync, models, count, state):
    sandbox.reset(people=20, seed=7)
    run = run_sync("pull", "full", dry_run=True)
    assert run.status == "succeeded", run.error_message
    assert run.created > 0
    for model in (
        models.Person,
        models.PersonEmail,
        models.Family,
        models.FamilyMember,
        models.ChurchGroup,
        models.GroupMembership,
        models.Event,
        models.Location,
        state.models.SyncCursor,
        state.models.Conflict,
    ):
        assert count(model) == 0, model


def test_a_child_flag_changed_in_pco_updates_the_family_link_on_a_people_pull(
    sandbox, run_sync, models
):
    ids = sandbox.load_scenario(SCENARIO)
    run_sync("pull", "full")
    sandbox.edit_person(ids["people"][2], child=True)
    run_sync("pull", "people", incremental=True)
    doe = families(models)[ids["households"][0]]
    assert ("Lou", "child") in members(models, doe)


def _doe_deleted_in_pco(sandbox, run_sync, models):
    """The scenario pulled, then the Doe household deleted in PCO: (its id, the local family)."""
    ids = sandbox.load_scenario(SCENARIO)
    run_sync("pull", "full")
    doe_id = ids["households"][0]
    family = families(models)[doe_id]
    sandbox.delete("households", doe_id)
    return doe_id, family


def test_a_full_pull_keeps_a_family_whose_household_pco_deleted(sandbox, run_sync, models):
    _, family = _doe_deleted_in_pco(sandbox, run_sync, models)
    run_sync("pull", "families")
    kept = models.db.session.get(models.Family, family.id)
    assert kept.name == "Doe Household"
    assert members(models, kept) == {("Pat", "adult"), ("Kid", "child"), ("Lou", "adult")}


def test_a_full_pull_unlinks_a_family_whose_household_pco_deleted(sandbox, run_sync, models):
    doe_id, family = _doe_deleted_in_pco(sandbox, run_sync, models)
    first = run_sync("pull", "families")
    assert first.removed == 0 and doe_id in families(models)  # a second look decides
    run = run_sync("pull", "families")
    assert (run.status, run.removed) == ("succeeded", 1)
    assert models.db.session.get(models.Family, family.id).pco_id is None
    links = select(models.FamilyMember.pco_id).where(models.FamilyMember.family_id == family.id)
    assert set(models.db.session.scalars(links)) == {None}
    issue = models.db.session.scalar(select(current_pco().models.SyncIssue))
    assert (issue.kind, issue.local_id, issue.pco_id) == ("unlinked", family.id, doe_id)


def test_an_incremental_pull_unlinks_nothing(sandbox, run_sync, models):
    doe_id, _ = _doe_deleted_in_pco(sandbox, run_sync, models)
    run_sync("pull", "families", incremental=True)
    assert doe_id in families(models)


def test_the_other_families_stay_linked(sandbox, run_sync, models):
    ids = sandbox.load_scenario(SCENARIO)
    run_sync("pull", "full")
    sandbox.delete("households", ids["households"][0])
    run_sync("pull", "families")
    run_sync("pull", "families")
    assert set(families(models)) == {None, ids["households"][1]}


def test_a_member_pco_adds_back_is_restored_on_the_same_link(sandbox, run_sync, models):
    ids = sandbox.load_scenario(SCENARIO)
    run_sync("pull", "full")
    doe = families(models)[ids["households"][0]]
    lou = next(
        m
        for m in sandbox.state()["records"]["HouseholdMembership"]
        if m["person_id"] == ids["people"][2]
    )
    sandbox.delete("household_memberships", lou["id"])
    run_sync("pull", "families")
    run_sync("pull", "families")
    assert ("Lou", "adult") not in members(models, doe)
    sandbox.add_household_member(ids["households"][0], ids["people"][2])
    run = run_sync("pull", "families")
    assert ("Lou", "adult") in members(models, doe)
    links = select(models.FamilyMember).where(models.FamilyMember.family_id == doe.id)
    assert len(models.db.session.scalars(links).all()) == 3
    assert run.updated == 1
