"""End to end: group membership changes made in the sandbox reach the live site as signed
Groups membership events, duplicated and shuffled, and leave it as PCO is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from example_app.models import ChurchGroup, GroupMembership, Person, db
from flask_pco.extension import current_pco
from flask_pco.sync.engine import execute_run
from flask_pco.sync.runs import queue_run
from tests.helpers import sandbox_settings
from tests.sync.webhooks.conftest import LiveApp, deliveries

NAMES = [f"groups.v2.events.membership.{a}" for a in ("created", "updated", "destroyed")]


@pytest.fixture
def site(database_url: str, sandbox: Any) -> Iterator[Any]:
    """The live site with people and groups pulled, subscribed to the membership events only."""
    control = sandbox.control
    control.reset(people=30, seed=3)
    live = LiveApp(
        database_url,
        configure=lambda url: {"PCO_WEBHOOK_SECRET": control.subscribe(url, names=NAMES)},
        **sandbox_settings(sandbox.url),
    )
    with live.app.app_context():
        state = current_pco()
        for step in ("people", "groups"):
            execute_run(state, queue_run(state, step, "pull"), state.client())
        yield sandbox
    live.stop()


def local_members(group_id: str) -> dict[str, bool]:
    """The group's current local memberships: PCO id → is_leader."""
    db.session.expire_all()
    group = db.session.scalar(select(ChurchGroup.id).where(ChurchGroup.pco_id == group_id))
    query = select(GroupMembership).where(
        GroupMembership.group_id == group, GroupMembership.pco_removed_at.is_(None)
    )
    return {m.pco_id: m.is_leader for m in db.session.scalars(query)}


def pco_members(store: Any, group_id: str) -> dict[str, bool]:
    memberships = store.tables["Membership"]
    ids = store.lookup("Membership", "group_id", group_id)
    return {m: memberships[m]["role"] == "leader" for m in ids}


def test_membership_churn_duplicated_and_shuffled_ends_as_pco_has_it(site):
    control, store = site.control, site.sandbox.store
    group_id = store.tables["Group"][sorted(store.tables["Group"])[0]]["id"]
    members = store.lookup("Membership", "group_id", group_id)
    outsiders = [p for p in sorted(store.tables["Person"]) if p not in {
        str(store.tables["Membership"][m]["person_id"]) for m in members}]  # fmt: skip
    control.set_webhook_chaos(duplicate_rate=1.0, shuffle=True)

    stranger = control.add_person(first_name="Ruth", last_name="Moab", emails=["ruth@example.org"])
    control.add_group_membership(group_id, stranger, role="leader")
    brief = control.add_group_membership(group_id, outsiders[0])
    control.edit_group_membership(brief, role="leader")
    control.delete("group_memberships", brief)
    control.edit_group_membership(members[0], role="member")
    control.delete("group_memberships", members[1])
    control.flush_webhooks()

    assert local_members(group_id) == pco_members(store, group_id)
    assert db.session.scalar(select(func.count()).select_from(Person)) == len(
        store.tables["Person"]
    )
    sent = control.deliveries()
    assert {d["status"] for d in sent} == {200}
    assert len(deliveries(db)) == len({d["event"] for d in sent})  # each event stored once
