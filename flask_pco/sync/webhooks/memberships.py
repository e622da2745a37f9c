"""Groups membership events (``groups.v2.events.membership.*``), written as the groups pull
writes a membership.

They arrive, are verified, stored once per event id and batched exactly like People events
(``events``, ``flask_pco.jobs``); only what applying one does is here. PCO's order is not
guaranteed (REFERENCE §6.6), so:

* ``created`` and ``updated`` re-fetch the membership with our pinned version (one GET), under
  the membership's lock, and write what PCO says now: deliveries in any order end on PCO's
  latest state. A Membership has no ``updated_at``, so the version kept on the local row
  (``pco_updated_at``) is the ``event_time`` of the last event applied; an event older than it
  is stale and costs no request;
* once a membership's ``destroyed`` is applied, its other events are ignored (PCO never
  reuses ids); a re-fetch answering 404 says the same;
* ``destroyed`` marks the local membership removed, never deletes it, through the webhook
  removal cap, as the pull's removal does (no second look: it is PCO's own word).

A member with no local row is pulled on demand through the people pull (matched before
anything is created, after the merges since the last read), and a group not local yet is
pulled with its area; neither is a reason to drop the membership.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_pco.client.ids import is_pco_id, path_id
from flask_pco.exceptions import DocumentError, NotFoundError
from flask_pco.mapping.groups import MembershipData, membership_from_resource
from flask_pco.sync.context import SyncContext
from flask_pco.sync.locks import lock_record
from flask_pco.sync.pull.base import PageTally
from flask_pco.sync.pull.group_rows import rows_by_pco_id
from flask_pco.sync.pull.groups import fetch_group, write_group
from flask_pco.sync.pull.memberships import membership_label, unlinked_members, write_membership
from flask_pco.sync.removals import propose
from flask_pco.sync.webhooks.deliveries import EventDelivery
from flask_pco.sync.webhooks.handlers import (
    Outcome,
    destroyed_after,
    linked_person,
    not_a_pco_id,
    refresh_person,
)

__all__ = ["apply_membership"]

#: The roles a site needs for memberships to be applied at all.
ROLES = ("person", "group", "group_membership")

#: ``write_membership``'s outcome → the delivery's status and note.
OUTCOMES: dict[str, Outcome] = {
    "created": ("applied", "created"),
    "updated": ("applied", "updated"),
    "unchanged": ("ignored", "already up to date (an echo of our own write, or a repeat)"),
}


def apply_membership(ctx: SyncContext, delivery: EventDelivery) -> Outcome:
    """Apply one Groups membership event; the caller commits with the delivery's status."""
    membership_id = delivery.resource.id
    if not delivery.name.startswith("groups."):
        return "ignored", f"{delivery.name} is not an event flask-pco applies"
    if not all(ctx.roles.has(role) for role in ROLES):
        return "ignored", "this site has no group or group membership models registered"
    if not is_pco_id(membership_id):
        return not_a_pco_id("membership", membership_id)
    if delivery.action == "destroyed":
        return _destroyed(ctx, membership_id)
    if delivery.action not in ("created", "updated"):
        return "ignored", f"{delivery.name} is not an event flask-pco applies"
    if destroyed_after(ctx, membership_id, delivery):
        return "ignored", f"PCO membership {membership_id} was deleted; this event is older"
    row = rows_by_pco_id(ctx, "group_membership", [membership_id]).get(membership_id)
    if _stale(row, delivery.event_time):
        return "ignored", f"stale: a later event of PCO membership {membership_id} is applied"
    return _refresh(ctx, delivery)


def _refresh(ctx: SyncContext, delivery: EventDelivery) -> Outcome:
    """Pull the group and the member if they are new here, then re-fetch and write."""
    membership_id = delivery.resource.id
    group_id = delivery.resource.related_id("group")
    if not group_id or not is_pco_id(group_id):
        return not_a_pco_id("group", str(group_id or ""))
    group = _local_group(ctx, group_id)
    if group is None:
        return "ignored", f"PCO group {group_id} no longer exists"
    payload_person = delivery.resource.related_id("person")
    if payload_person and is_pco_id(payload_person):  # before the lock: it may commit
        _local_person(ctx, payload_person)
    lock_record(ctx.session, "membership", membership_id)
    membership = _fetch(ctx, group_id, membership_id)
    if isinstance(membership, str):
        return "ignored", membership
    person = _local_person(ctx, membership.person_id)
    if person is None:
        return "ignored", (
            f"PCO person {membership.person_id} could not be pulled (People does not have "
            "them, or their match waits for an admin)"
        )
    existing = rows_by_pco_id(ctx, "group_membership", [membership_id])
    unlinked = unlinked_members(ctx, group)
    outcome = write_membership(ctx, group, person, membership, existing, unlinked)
    _note_version(existing[membership_id], delivery.event_time)
    return OUTCOMES[outcome]


def _fetch(ctx: SyncContext, group_id: str, membership_id: str) -> MembershipData | str:
    """The membership as PCO has it now, or why there is none to write."""
    path = f"/groups/v2/groups/{path_id(group_id)}/memberships/{path_id(membership_id)}"
    try:
        document = ctx.client.get(path)
    except NotFoundError:
        return f"PCO membership {membership_id} no longer exists"
    try:
        if not document.data:
            raise DocumentError(f"PCO answered no Membership for {membership_id}")
        return membership_from_resource(document.data[0], group_id)
    except DocumentError as error:
        return str(error)


def _destroyed(ctx: SyncContext, membership_id: str) -> Outcome:
    row = rows_by_pco_id(ctx, "group_membership", [membership_id]).get(membership_id)
    if row is None or row.pco_removed_at is not None:
        return "ignored", f"no current local membership is linked to PCO {membership_id}"
    reason = f"PCO membership {membership_id} was deleted in PCO (webhook)"
    propose(ctx, "group_membership", row, membership_label(ctx, row), reason)
    return "applied", "removed"


def _local_group(ctx: SyncContext, group_id: str) -> Any | None:
    """The local group linked to ``group_id``, pulled with its area when it is not local yet."""
    group = rows_by_pco_id(ctx, "group", [group_id]).get(group_id)
    if group is not None:
        return group
    try:
        document = fetch_group(ctx, group_id)
    except NotFoundError:
        return None
    tally = PageTally()
    write_group(ctx, document, tally)
    tally.record(ctx)
    return rows_by_pco_id(ctx, "group", [group_id]).get(group_id)


def _local_person(ctx: SyncContext, person_id: str) -> Any | None:
    """The local person linked to ``person_id``, pulled as a person event would pull them."""
    person = linked_person(ctx, person_id)
    if person is None and is_pco_id(person_id):
        refresh_person(ctx, person_id)
        person = linked_person(ctx, person_id)
    return person


def _stale(row: Any, event_time: datetime | None) -> bool:
    """An event older than the last one applied to ``row``: its state is already written."""
    if row is None or row.pco_updated_at is None or event_time is None:
        return False
    return bool(event_time < row.pco_updated_at)


def _note_version(row: Any, event_time: datetime | None) -> None:
    """Keep the latest applied event's time as the row's version (never move it back)."""
    if event_time is not None and (row.pco_updated_at is None or event_time > row.pco_updated_at):
        row.pco_updated_at = event_time
