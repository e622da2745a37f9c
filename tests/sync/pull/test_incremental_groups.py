"""An incremental pull lists a group's memberships only when they may have changed: PCO's
``memberships_count`` differs from this site's, or Groups membership webhooks have not kept the
site current since every group was last listed (``pull/group_listings.py``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from flask_pco.models import utcnow
from flask_pco.sync.engine import execute_run
from flask_pco.sync.pull.group_listings import LISTED_ALL
from flask_pco.sync.runs import queue_run
from flask_pco.sync.webhook_health import MEMBERSHIP_EVENTS
from flask_pco.sync.webhooks.repair import check_subscriptions
from flask_pco.sync.webhooks.subscriptions import install_subscriptions
from tests.conftest import make_app
from tests.helpers import NO_RATE_LIMIT, sandbox_settings

#: The issue's church has 300 groups; the tests that only need "every group" use fewer.
CHURCH_OF_300 = pytest.mark.parametrize("groups", [300])
#: Nothing listens here: the sandbox's deliveries to the site fail, as if PCO never sent them.
NOBODY = "http://127.0.0.1:9"


@pytest.fixture
def app(database_url: str, sandbox_server: Any) -> Iterator[Flask]:
    """The example app with PCO's largest page (100), as a church runs it."""
    settings = sandbox_settings(sandbox_server.url, PCO_PUBLIC_URL=NOBODY, **NO_RATE_LIMIT)
    application = make_app(database_url, **settings)
    with application.app_context():
        yield application


@pytest.fixture
def groups() -> int:
    return 40


@pytest.fixture
def church(sandbox: Any, sandbox_server: Any, state: Any, run_sync: Any, groups: int) -> Any:
    """``groups`` groups with a few members each, pulled in full, with membership webhooks installed
    and checked healthy before that pull."""
    sandbox.reset(people=20, seed=5)
    store = sandbox_server.sandbox.store
    people = sorted(store.tables["Person"])
    with store.lock:
        type_id = sorted(store.tables["GroupType"])[0]
        for n in range(groups - len(store.tables["Group"])):
            group = store.insert("Group", {"name": f"Group {n}", "group_type_id": type_id}, False)
            for person_id in people[n % 7 : n % 7 + 2]:
                record = {"group_id": group["id"], "person_id": person_id, "role": "member"}
                store.insert("Membership", record, emit=False)
    install_subscriptions(state)
    check_subscriptions(state)
    _age(state, timedelta(minutes=5))  # installed and checked before the full pull
    run = run_sync("pull", "full")
    assert run.status == "succeeded", run.error_message
    sandbox.clear_requests()
    return store


def _age(state: Any, by: timedelta) -> None:
    """Move the subscriptions' creation and the noted trouble ``by`` into the past."""
    session, models = state.db.session, state.models
    for row in session.scalars(select(models.WebhookSubscription)):
        row.created_at -= by
    note = session.get(models.Setting, "membership_webhooks_trouble_at")
    if note is not None:
        note.value = (utcnow() - by).isoformat()
    session.commit()


def membership_listings(sandbox: Any) -> int:
    paths = Counter(r["path"].split("?")[0] for r in sandbox.requests())
    return sum(n for path, n in paths.items() if path.endswith("/memberships"))


@CHURCH_OF_300
def test_an_unchanged_incremental_full_pull_of_300_groups_costs_at_most_ten_requests(
    church, sandbox, run_sync
):
    run = run_sync("pull", "full", incremental=True)

    assert run.status == "succeeded", run.error_message
    assert (run.created, run.updated) == (0, 0)
    assert membership_listings(sandbox) == 0
    assert len(sandbox.requests()) <= 10


def test_a_group_whose_count_changed_is_listed_and_gets_its_new_member(
    church, sandbox, run_sync, models
):
    group_id = sorted(church.tables["Group"])[3]
    newcomer = sandbox.add_person(first_name="Ruth", last_name="Moab")
    sandbox.add_group_membership(group_id, newcomer)  # its webhook reaches nobody
    sandbox.clear_requests()

    run = run_sync("pull", "full", incremental=True)

    assert membership_listings(sandbox) == 1
    group = models.db.session.scalar(
        select(models.ChurchGroup).where(models.ChurchGroup.pco_id == group_id)
    )
    members = models.db.session.scalars(
        select(models.GroupMembership).where(models.GroupMembership.group_id == group.id)
    ).all()
    assert run.status == "succeeded" and len(members) == len(
        church.lookup("Membership", "group_id", group_id)
    )


def test_the_nightly_run_lists_every_group(church, sandbox, state, groups):
    run = queue_run(state, "full", "pull", trigger="nightly", incremental=True)
    execute_run(state, run, state.client())

    assert membership_listings(sandbox) == groups


def test_every_group_is_listed_once_a_day_has_passed_since_the_last_full_listing(
    church, sandbox, state, run_sync, groups
):
    cursor = state.models.SyncCursor
    row = state.db.session.scalar(select(cursor).where(cursor.resource == LISTED_ALL))
    row.synced_from -= timedelta(days=1, minutes=1)
    state.db.session.commit()

    run_sync("pull", "full", incremental=True)

    assert membership_listings(sandbox) == groups


def test_every_group_is_listed_after_the_hourly_check_reactivated_a_membership_subscription(
    church, sandbox, state, run_sync, groups
):
    subscriptions = church.tables["Subscription"].values()
    created = next(s for s in subscriptions if s["name"] == MEMBERSHIP_EVENTS[0])
    sandbox.edit_subscription(created["id"], active=False)  # PCO gave up on it for a while
    assert check_subscriptions(state).reactivated == (MEMBERSHIP_EVENTS[0],)
    sandbox.clear_requests()

    run_sync("pull", "full", incremental=True)

    assert membership_listings(sandbox) == groups


def test_every_group_is_listed_while_a_membership_delivery_waits(
    church, sandbox, state, run_sync, groups
):
    state.db.session.add(
        state.models.WebhookDelivery(
            event_id="e-waiting", name=MEMBERSHIP_EVENTS[0], payload="{}", status="failed"
        )
    )
    state.db.session.commit()

    run_sync("pull", "full", incremental=True)

    assert membership_listings(sandbox) == groups


def test_without_a_recent_subscription_check_every_group_is_listed(
    church, sandbox, state, run_sync, groups
):
    state.db.session.delete(state.db.session.get(state.models.Setting, "webhook_check"))
    state.db.session.commit()

    run_sync("pull", "full", incremental=True)

    assert membership_listings(sandbox) == groups


def test_a_complete_listing_of_every_group_moves_the_cursor_to_the_run_start(church, state):
    cursor = state.models.SyncCursor
    listed = state.db.session.scalar(
        select(cursor.synced_from).where(cursor.resource == LISTED_ALL)
    )

    assert listed is not None and utcnow() - timedelta(minutes=5) < listed < utcnow()
