"""Merging two local people on a site unlike example_app: its own column names, no active flag,
and a rule of its own (one badge per member) that a merge must not break."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from flask_pco import current_pco
from flask_pco.sync.merges import merge_held
from tests.lean_site import PEOPLE_ONLY, Badge, Member, dispose, lean_app, lean_db


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    application = lean_app(database_url, PEOPLE_ONLY)
    with application.app_context():
        yield application
    dispose(application)


def held_merge_of(kept: Member, removed: Member) -> int:
    """A merge held for an admin, as a pull with ``PCO_AUTO_MERGE`` off records it."""
    issue = current_pco().models.SyncIssue(
        kind="merged",
        resource_type="Person",
        pco_id=removed.pco_id,
        local_id=removed.id,
        candidates=[kept.id],
        reason=f"merged in PCO: PCO person {removed.pco_id} was merged into {kept.pco_id}",
    )
    lean_db.session.add(issue)
    lean_db.session.commit()
    return int(issue.id)


def two_members(*badges: str) -> tuple[Member, Member]:
    kept = Member(given_name="Naomi", surname="Moab", pco_id="101")
    removed = Member(given_name="Naomi", surname="Mara", pco_id="102")
    lean_db.session.add_all([kept, removed])
    lean_db.session.flush()
    for member, code in zip((kept, removed), badges, strict=False):
        if code:
            lean_db.session.add(Badge(member_id=member.id, code=code))
    lean_db.session.commit()
    return kept, removed


def badge_owners() -> dict[str, int]:
    lean_db.session.expire_all()
    return {b.code: b.member_id for b in lean_db.session.scalars(select(Badge))}


def test_the_merged_members_badge_moves_to_the_survivor(app: Any) -> None:
    kept, removed = two_members("", "B-2")

    merge_held(current_pco(), held_merge_of(kept, removed))

    assert badge_owners() == {"B-2": kept.id}


def test_a_move_the_sites_own_rule_refuses_leaves_those_rows_and_says_so(app: Any) -> None:
    kept, removed = two_members("B-1", "B-2")

    merge_held(current_pco(), held_merge_of(kept, removed))

    assert badge_owners() == {"B-1": kept.id, "B-2": removed.id}
    Issue = current_pco().models.SyncIssue
    [note] = lean_db.session.scalars(select(Issue).where(Issue.kind == "invalid")).all()
    assert "badges.member_id stay with" in note.reason


def test_a_site_without_an_active_flag_still_sees_the_merged_row_as_removed(app: Any) -> None:
    kept, removed = two_members()

    merge_held(current_pco(), held_merge_of(kept, removed))

    lean_db.session.expire_all()
    merged = lean_db.session.get(Member, removed.id)
    assert merged.pco_merged_into == kept.id and merged.pco_removed_at is not None
