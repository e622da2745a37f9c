"""Undo of a pull's removals: the people it deactivated are active again, the memberships it
marked removed are current again."""

from __future__ import annotations

from sqlalchemy import select

from tests.sync.undo.conftest import tables


def test_undo_reactivates_the_people_a_pull_deactivated(sandbox, run_sync, db, models, undo):
    sandbox.reset(people=40, seed=7)
    run_sync("pull", "people")
    listed = select(models.Person.pco_id).where(models.Person.is_active.is_(True))
    gone = sorted(db.session.scalars(listed))[:2]
    for pco_id in gone:
        sandbox.delete_person(pco_id)
    run_sync("pull", "people")  # the first look that misses them
    before = tables(db)
    second = run_sync("pull", "people")
    assert second.removed == 2
    undone = undo(second.id)
    assert undone.status == "succeeded", undone.error_message
    assert tables(db) == before
    active = select(models.Person.is_active).where(models.Person.pco_id.in_(gone))
    assert list(db.session.scalars(active)) == [True, True]


def test_undo_restores_the_group_memberships_a_pull_marked_removed(
    sandbox, run_sync, db, models, undo
):
    sandbox.reset(people=12, seed=3)
    run_sync("pull", "full")
    membership = db.session.scalars(select(models.GroupMembership)).first()
    sandbox.delete("group_memberships", membership.pco_id)
    run_sync("pull", "groups")
    before = tables(db)
    second = run_sync("pull", "groups")
    db.session.expire_all()
    assert db.session.get(models.GroupMembership, membership.id).pco_removed_at is not None
    undone = undo(second.id)
    assert undone.status == "succeeded", undone.error_message
    assert tables(db) == before
