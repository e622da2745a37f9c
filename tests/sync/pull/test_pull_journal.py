"""Every pull step journals the rows it creates, and an unchanged re-run journals nothing."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from flask_pco import current_pco

#: Pull step → record types its first run creates, with the local model it fills.
STEPS = {
    "families": {"family": "Family", "family_member": "FamilyMember"},
    "groups": {"group": "ChurchGroup", "group_membership": "GroupMembership"},
    "events": {"event": "Event"},
    "locations": {"location": "Location"},
}


def created(run_id: int) -> Counter[str]:
    Entry = current_pco().models.JournalEntry
    query = select(Entry.record_type).where(Entry.run_id == run_id, Entry.action == "create")
    return Counter(current_pco().db.session.scalars(query))


def journaled(run_id: int) -> int:
    Entry = current_pco().models.JournalEntry
    query = select(func.count()).where(Entry.run_id == run_id)
    return int(current_pco().db.session.scalar(query) or 0)


@pytest.mark.parametrize("step", STEPS)
def test_a_first_pull_journals_one_create_per_row_it_made(sandbox, run_sync, models, count, step):
    sandbox.reset(people=12, seed=3)
    run_sync("pull", "people")
    run = run_sync("pull", step)
    assert run.status == "succeeded", run.error_message
    made = created(run.id)
    for record_type, model in STEPS[step].items():
        rows = count(getattr(models, model))
        if record_type == "group":  # the "PCO Groups" department and group types count too
            assert made[record_type] >= 1
            continue
        assert made[record_type] == rows > 0, record_type


@pytest.mark.parametrize("step", STEPS)
def test_an_unchanged_pull_of_each_step_journals_nothing(sandbox, run_sync, step):
    sandbox.reset(people=12, seed=3)
    run_sync("pull", "people")
    run_sync("pull", step)
    again = run_sync("pull", step)
    assert journaled(again.id) == 0
