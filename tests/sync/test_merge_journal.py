"""A merge journals what it moved and whom it retired, on a site with its own names."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from flask_pco import current_pco
from flask_pco.sync.merges import merge_held
from tests.lean_site import lean_db
from tests.sync.test_merge_rules import app, held_merge_of, two_members

__all__ = ["app"]


def merge_entries() -> list[Any]:
    Entry = current_pco().models.JournalEntry
    query = select(Entry).where(Entry.action == "merge").order_by(Entry.id)
    return list(lean_db.session.scalars(query))


def test_a_merge_journals_the_moved_rows_and_the_retired_person(app: Any) -> None:
    kept, removed = two_members("", "B-2")
    merge_held(current_pco(), held_merge_of(kept, removed))
    moved = [(e.record_type, e.field, e.old_value, e.new_value) for e in merge_entries()]
    assert ("badges", "member_id", removed.id, kept.id) in moved
    assert ("person", "merged_into", None, kept.id) in moved


def test_an_admins_merge_is_a_run_of_its_own_that_its_entries_name(app: Any) -> None:
    kept, removed = two_members("", "B-2")
    merge_held(current_pco(), held_merge_of(kept, removed))
    SyncRun = current_pco().models.SyncRun
    run = lean_db.session.scalars(select(SyncRun)).one()
    assert (run.direction, run.sync_type, run.status) == ("merge", "person", "succeeded")
    assert {e.run_id for e in merge_entries()} == {run.id}


def test_rows_a_site_s_rule_kept_in_place_are_not_journaled_as_moved(app: Any) -> None:
    kept, removed = two_members("B-1", "B-2")
    merge_held(current_pco(), held_merge_of(kept, removed))
    assert [e for e in merge_entries() if e.record_type == "badges"] == []
