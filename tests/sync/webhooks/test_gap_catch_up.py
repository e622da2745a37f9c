"""A gap in deliveries while PCO changed: the catch-up pull brings people, households and group
memberships, everything a webhook would have brought."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from example_app import pco
from example_app.models import Family, FamilyMember, GroupMembership, Person, db
from flask_pco import current_pco
from flask_pco.jobs.queue import start_sync
from flask_pco.jobs.webhooks import check_webhook_gap
from flask_pco.models import utcnow


def last_delivery_hours_ago(hours: float) -> None:
    db.session.add(
        pco.models.WebhookDelivery(
            event_id="e-before-the-gap",
            name="people.v2.events.person.updated",
            payload="{}",
            status="applied",
            received_at=utcnow() - timedelta(hours=hours),
        )
    )
    db.session.commit()


def pulled_church(church: Any) -> dict[str, Any]:
    """PCO with people, households and groups, all pulled; then deliveries stop."""
    church.sandbox.control.reset(people=30, seed=3)
    run = start_sync("pull", "full", mode="inline")
    assert run.status == "succeeded", run.error_message
    last_delivery_hours_ago(7)  # PCO_WEBHOOK_GAP is 6 hours
    return church.sandbox.control.state()["records"]


def catch_up() -> None:
    assert check_webhook_gap(current_pco(), mode="inline") is True
    db.session.expire_all()


def local_family(household_id: str) -> Any:
    return db.session.scalar(select(Family).where(Family.pco_id == household_id))


def test_catch_up_brings_a_member_who_joined_a_household(church):
    records = pulled_church(church)
    household = records["Household"][0]
    members = {m["person_id"] for m in records["HouseholdMembership"]}
    newcomer = next(p["id"] for p in records["Person"] if p["id"] not in members)
    church.sandbox.control.add_household_member(household["id"], newcomer)

    catch_up()

    family = local_family(household["id"])
    people = db.session.scalars(
        select(Person.pco_id)
        .join(FamilyMember, FamilyMember.person_id == Person.id)
        .where(FamilyMember.family_id == family.id)
    ).all()
    assert newcomer in people


def test_catch_up_brings_a_group_membership_change(church):
    records = pulled_church(church)
    membership = records["Membership"][0]
    leader = membership["role"] != "leader"
    church.sandbox.control.edit_group_membership(
        membership["id"], role="leader" if leader else "member"
    )

    catch_up()

    row = db.session.scalar(
        select(GroupMembership).where(GroupMembership.pco_id == membership["id"])
    )
    assert row.is_leader is leader


def test_catch_up_pulls_only_what_webhooks_feed(church):
    pulled_church(church)

    catch_up()

    SyncRun = pco.models.SyncRun
    [run] = db.session.scalars(
        select(SyncRun).where(SyncRun.trigger == "webhook-gap", SyncRun.parent_id.is_(None))
    ).all()
    children = db.session.scalars(
        select(SyncRun.sync_type).where(SyncRun.parent_id == run.id)
    ).all()
    assert (run.sync_type, run.incremental, run.status) == ("full", True, "succeeded")
    assert sorted(children) == ["families", "groups", "people"]
