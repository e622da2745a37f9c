"""The Changes view's queries: the journal filtered by person, record, side, action and run,
newest first and paged; a family's history with its members' links."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from flask_pco.sync.history import (
    ChangeFilter,
    change_line,
    labels,
    matching_people,
    search_changes,
)
from tests.sync.conftest import sandbox_person


def renamed_maria(sandbox: Any, run_sync: Any) -> tuple[Any, Any]:
    """Maria and Ana pulled, then Maria renamed in PCO and pulled again: (first, second run)."""
    maria = sandbox_person(sandbox, "Maria", "Garcia", emails=["maria@example.org"])
    sandbox_person(sandbox, "Ana", "Ruiz", emails=["ana@example.org"])
    first = run_sync("pull", "people")
    sandbox.edit_person(maria, last_name="García")
    return first, run_sync("pull", "people")


def test_a_run_filter_lists_its_entries_newest_first_in_pages(sandbox, run_sync, state):
    sandbox.reset(people=12, seed=3)
    run = run_sync("pull", "people")
    wanted = ChangeFilter(run_id=run.id, record_type="person")
    first, last = search_changes(state, wanted, 1, 5), search_changes(state, wanted, 3, 5)
    ids = [e.id for e in first.entries]
    assert (first.total, first.pages, len(last.entries), last.has_next) == (12, 3, 2, False)
    assert ids == sorted(ids, reverse=True) and ids[0] > last.entries[0].id


def test_a_name_search_finds_the_persons_entries_only(sandbox, run_sync, state, models):
    renamed_maria(sandbox, run_sync)
    maria = state.db.session.scalar(select(models.Person).filter_by(first_name="Maria"))
    found = search_changes(state, ChangeFilter(person="garcía MAR"))
    assert [(e.action, e.local_id) for e in found.entries] == [
        ("update", maria.id),
        ("create", maria.id),
    ]


def test_an_email_search_ignores_letter_case(sandbox, run_sync, state, models):
    renamed_maria(sandbox, run_sync)
    maria = state.db.session.scalar(select(models.Person).filter_by(first_name="Maria"))
    assert matching_people(state, "MARIA@example.ORG") == [maria.id]


def test_a_name_search_takes_like_wildcards_literally(sandbox, run_sync, state):
    renamed_maria(sandbox, run_sync)
    assert search_changes(state, ChangeFilter(person="%")).total == 0
    assert search_changes(state, ChangeFilter(person="_")).total == 0


def test_side_and_action_filters_leave_the_rename_alone(sandbox, run_sync, state):
    _, second = renamed_maria(sandbox, run_sync)
    found = search_changes(state, ChangeFilter(side="local", action="update"))
    assert [(e.run_id, e.field, e.new_value) for e in found.entries] == [
        (second.id, "last_name", "García")
    ]
    assert search_changes(state, ChangeFilter(side="pco")).total == 0


def test_a_full_runs_filter_includes_its_steps(sandbox, run_sync, state):
    sandbox.reset(people=4, seed=5)
    run = run_sync("pull", "full")
    found = search_changes(state, ChangeFilter(run_id=run.id), per_page=500)
    assert found.total > 0 and {e.run_id for e in found.entries} - {run.id}


def test_a_familys_history_holds_its_members_links(sandbox, run_sync, state, models):
    ruth = sandbox_person(sandbox, "Ruth", "Moab")
    boaz = sandbox_person(sandbox, "Boaz", "Moab")
    sandbox.add_household([ruth, boaz], "Moab Household", primary_contact=ruth)
    run_sync("pull", "full")
    family = state.db.session.scalar(select(models.Family))
    found = search_changes(state, ChangeFilter(record=("family", family.id)))
    assert {e.record_type for e in found.entries} == {"family", "family_member"}
    assert all(e.local_id == family.id for e in found.entries if e.record_type == "family")


def test_a_familys_entries_are_named_by_the_family(sandbox, run_sync, state, models):
    ruth = sandbox_person(sandbox, "Ruth", "Moab")
    sandbox.add_household([ruth], "Moab Household", primary_contact=ruth)
    run_sync("pull", "full")
    family = state.db.session.scalar(select(models.Family))
    found = search_changes(state, ChangeFilter(record_type="family"))
    names = labels(state, found.entries)
    lines = [change_line(e, names) for e in found.entries]
    assert f"Moab Household (family #{family.id}): created (local)" in lines
