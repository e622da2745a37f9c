"""Each run row says how many records it has gone through, of how many: what a progress bar
(the CLI's, the admin page's) shows. Pulls take the total from PCO's ``total_count``."""

from __future__ import annotations

from sqlalchemy import select

from .conftest import PER_PAGE


def test_a_pull_goes_through_as_many_people_as_pco_has(sandbox, run_sync):
    sandbox.reset(people=PER_PAGE * 2 + 3, seed=1)
    run = run_sync("pull", "people")
    assert (run.progress_done, run.progress_total) == (23, 23)


def test_a_pull_that_finds_nothing_changed_has_nothing_to_go_through(sandbox, run_sync):
    sandbox.reset(people=5, seed=1)
    run_sync("pull", "people")
    run = run_sync("pull", "people", incremental=True)
    assert (run.progress_done, run.progress_total) == (0, 0)


def test_a_list_pull_expects_the_people_of_every_list(sandbox, run_sync, state):
    sandbox.reset(people=30, seed=1)
    lists = state.client().get("/people/v2/lists").data[:2]
    listed = sum(
        state.client().get(f"/people/v2/lists/{each.id}/people").total_count or 0 for each in lists
    )
    run = run_sync("pull", "people", list_ids=[each.id for each in lists])
    assert listed > 0
    assert run.progress_total == listed == run.progress_done


def test_a_groups_pull_counts_group_types_and_groups(sandbox, run_sync, state):
    sandbox.reset(people=20, seed=1)
    types = state.client().get("/groups/v2/group_types").total_count
    groups = state.client().get("/groups/v2/groups").total_count
    run = run_sync("pull", "groups")
    assert (run.progress_done, run.progress_total) == (types + groups, types + groups)


def test_each_step_of_a_full_pull_has_its_own_progress(sandbox, run_sync, models, state):
    sandbox.reset(people=12, seed=1)
    households = state.client().get("/people/v2/households").total_count
    run_sync("pull", "full")
    SyncRun = state.models.SyncRun
    steps = dict(
        models.db.session.execute(
            select(SyncRun.sync_type, SyncRun.progress_total).where(SyncRun.parent_id.is_not(None))
        ).all()
    )
    assert households > 0
    assert (steps["people"], steps["families"]) == (12, households)


def test_a_push_goes_through_the_people_it_has_to_push(local_person, run_sync):
    for first in ("Ann", "Bea", "Cy"):
        local_person(first)
    run = run_sync("push", "people")
    assert (run.progress_done, run.progress_total) == (3, 3)
