"""A dry run's plan is what the real run then journals: the same records, fields and values;
and a dry run journals nothing in the real tables, only its plan."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from flask_pco import current_pco
from flask_pco.sync.preview import KEPT_PLANS, comparable_changes, plan_changes, side_by_side
from tests.sync.test_dry_run_agreement import STEPS, messy  # noqa: F401  (the fixture)


def _journal(run: Any) -> list[Any]:
    SyncRun, Entry = current_pco().models.SyncRun, current_pco().models.JournalEntry
    session = current_pco().db.session
    steps = list(session.scalars(select(SyncRun.id).where(SyncRun.parent_id == run.id)))
    query = select(Entry).where(Entry.run_id.in_([run.id, *steps])).order_by(Entry.id)
    return list(session.scalars(query))


def _count(model: Any) -> int:
    return int(current_pco().db.session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(("direction", "sync_type"), STEPS)
def test_a_dry_run_plan_is_what_the_real_run_then_journals(
    messy,  # noqa: F811
    run_sync,
    direction,
    sync_type,
):
    dry = run_sync(direction, sync_type, dry_run=True)
    assert dry.status == "succeeded", dry.error_message
    real = run_sync(direction, sync_type)
    planned, journaled = side_by_side(plan_changes(current_pco(), dry.id).entries, _journal(real))
    assert planned == journaled
    assert planned  # the scenario gives each run changes to plan


def test_a_dry_run_journals_nothing_but_keeps_its_plan(sandbox, run_sync):
    sandbox.reset(people=6, seed=3)
    dry = run_sync("pull", "people", dry_run=True)
    assert dry.status == "succeeded", dry.error_message
    assert _count(current_pco().models.JournalEntry) == 0
    plan = plan_changes(current_pco(), dry.id)
    people = [(e.action, e.side) for e in plan.entries if e.record_type == "person"]
    assert people == [("create", "local")] * 6  # the sandbox's six people


def test_a_planned_person_is_named_as_the_dry_run_would_create_them(sandbox, run_sync):
    sandbox.reset(people=6, seed=3)
    dry = run_sync("pull", "people", dry_run=True)
    entries = plan_changes(current_pco(), dry.id).entries
    names = {e.label for e in entries if e.record_type == "person"}
    people = sandbox.state()["records"]["Person"]
    assert names == {f"{p['first_name']} {p['last_name']}" for p in people}


def test_only_the_latest_plans_are_kept(sandbox, run_sync):
    sandbox.reset(people=1, seed=3)
    runs = [run_sync("pull", "people", dry_run=True) for _ in range(KEPT_PLANS + 2)]
    Plan = current_pco().models.PlanEntry
    kept = set(current_pco().db.session.scalars(select(Plan.run_id).distinct()))
    assert kept == {run.id for run in runs[2:]}


def test_created_ids_compare_by_the_order_they_were_made_in():
    class Entry:
        def __init__(self, **values: Any) -> None:
            self.__dict__.update(field=None, old_value=None, new_value=None, **values)

    def push(first_id: str) -> list[Any]:
        return [
            Entry(side="pco", record_type="person", local_id=7, pco_id=first_id, action="create"),
            Entry(side="pco", record_type="person", local_id=8, pco_id="55", action="update"),
        ]

    assert comparable_changes(push("dry-1")) == comparable_changes(push("9001"))
    assert comparable_changes(push("dry-1"))[1][3] == "55"  # an existing record keeps its id
