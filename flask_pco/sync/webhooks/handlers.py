"""What each PCO event does to local data, under the same ownership rules as a pull.

Order is not guaranteed (REFERENCE §6.6): retries can deliver an older state after a newer one,
and a merge sends ``person.destroyed`` and ``person_merger.created`` in either order. So:

* an update whose ``updated_at`` is not newer than the row's ``pco_updated_at`` is stale, or the
  echo of our own push, and is ignored;
* once a person's ``destroyed`` event is applied, updates for that id are ignored (PCO never
  reuses ids), unless a ``created`` event that happened later follows;
* ``destroyed`` only deactivates: local data (allergies, check-ins...) is never deleted.

Payloads are rendered in a PCO version we do not control and carry no contacts, so they are
only a notification: the person (or the owner of a contact, or a household's members) is
re-fetched with our pinned version and applied exactly as a pull would (REFERENCE §6.3, §7.9).
The payload's ``updated_at`` still saves that request when it is stale or an echo.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from flask_pco.client.ids import is_pco_id, path_id
from flask_pco.exceptions import DocumentError, NotFoundError
from flask_pco.models import DeliveryStatus
from flask_pco.sync.context import RunReporter, SyncContext
from flask_pco.sync.custom_fields import person_custom_fields
from flask_pco.sync.policy import comparable
from flask_pco.sync.removals import propose, settle_delivery_removals
from flask_pco.sync.webhooks.deliveries import EventDelivery, parse_timestamp
from flask_pco.sync.webhooks.prefetch import listed_person, merges_read_for

if TYPE_CHECKING:
    from flask_pco.mapping.people import PersonData
    from flask_pco.state import PcoState

__all__ = ["HANDLERS", "Outcome", "apply_event", "delivery_context"]

#: A handler's verdict: the delivery's final status and a note an admin can read.
Outcome = tuple[DeliveryStatus, str | None]
Handler = Callable[[SyncContext, EventDelivery], Outcome]

#: Contact resources whose local rows know their person, by event resource name → model role.
CONTACT_ROLES = {"email": "email", "phone_number": "phone", "address": "person_address"}


def apply_event(
    state: PcoState, delivery: EventDelivery, delivery_id: int | None = None
) -> Outcome:
    """Apply one delivery; the caller commits the changes together with the delivery's status.

    A removal it leads to (a person deleted in PCO) goes through the same cap as a run's: past
    ``PCO_MAX_REMOVALS`` within ``PCO_REMOVAL_WINDOW`` the delivery is ``held`` for approval.
    """
    handler = HANDLERS.get(delivery.resource_name)
    if handler is None:
        return "ignored", f"{delivery.name} is not an event flask-pco applies"
    ctx = delivery_context(state, delivery_id)
    outcome = handler(ctx, delivery)
    if ctx.removals:
        held_in = settle_delivery_removals(ctx, delivery_id)
        if held_in is not None:
            return "held", f"the removal waits for an admin's approval in run {held_in}"
    return outcome


def delivery_context(state: PcoState, delivery_id: int | None = None) -> SyncContext:
    """A sync context for one delivery.

    A delivery records its outcome on its own ``pco_webhook_delivery`` row rather than a sync-log
    row per event (a bulk import in PCO sends thousands), so the reporter's run is a stand-in;
    issues it records (a merge held for an admin) have no run. Its changes are journaled under
    ``delivery_id``.
    """
    run = SimpleNamespace(id=None, parent_id=None, current_step="webhook")
    return SyncContext(state, state.client(), RunReporter(state, run), delivery_id=delivery_id)


def apply_person_event(ctx: SyncContext, delivery: EventDelivery) -> Outcome:
    pco_id = delivery.resource.id
    if not is_pco_id(pco_id):
        return not_a_pco_id("person", pco_id)
    if delivery.action == "destroyed":
        if deactivate(ctx, pco_id):
            return "applied", None
        return "ignored", f"no active local person is linked to PCO person {pco_id}"
    if delivery.action not in ("created", "updated"):
        return "ignored", f"{delivery.name} is not an event flask-pco applies"
    if destroyed_after(ctx, pco_id, delivery):
        return "ignored", f"PCO person {pco_id} was deleted; this {delivery.action} is older"
    stale = stale_reason(ctx, pco_id, delivery)
    if stale:
        return "ignored", stale
    listed = listed_person(ctx, delivery)
    return refresh_person(ctx, pco_id, new_in_pco=delivery.action == "created", listed=listed)


def apply_contact_event(ctx: SyncContext, delivery: EventDelivery) -> Outcome:
    owner = delivery.resource.related_id("person") or local_owner(ctx, delivery)
    if owner is None:
        return "ignored", f"{delivery.resource.type} {delivery.resource.id}: owner unknown"
    return refresh_person(ctx, owner)


def apply_field_datum_event(ctx: SyncContext, delivery: EventDelivery) -> Outcome:
    """A custom field's value changed in PCO: re-fetch its person, whose listing carries the
    field data (PCO sends no ``person.updated`` for it, only this event)."""
    if not person_custom_fields(ctx):
        return "ignored", "this site declares no custom fields"
    owner = delivery.resource.related_id("customizable")
    if owner is None:
        return "ignored", f"FieldDatum {delivery.resource.id}: owner unknown"
    return refresh_person(ctx, owner)


def apply_household_event(ctx: SyncContext, delivery: EventDelivery) -> Outcome:
    """Re-fetch the household with its people and apply it as the families pull would."""
    household_id = delivery.resource.id
    if not (ctx.roles.has("family") and ctx.roles.has("family_member")):
        return "ignored", "this site has no family models registered"
    if not is_pco_id(household_id):
        return not_a_pco_id("household", household_id)
    from flask_pco.sync.pull.base import PageTally
    from flask_pco.sync.pull.families import FamilyWriter

    if delivery.action == "destroyed":
        return _household_gone(ctx, household_id)
    try:
        document = ctx.client.get(
            f"/people/v2/households/{path_id(household_id)}", params={"include": "people"}
        )
    except NotFoundError:
        return _household_gone(ctx, household_id)
    tally = PageTally()
    FamilyWriter(ctx, tally).apply_page(document)
    tally.record(ctx)
    if tally.outcomes["created"] or tally.outcomes["updated"]:
        return "applied", "created" if tally.outcomes["created"] else "updated"
    return "ignored", f"household {household_id} is already up to date"


def _household_gone(ctx: SyncContext, household_id: str) -> Outcome:
    """PCO deleted the household: its family stays, unlinked (see ``household_gone``)."""
    Family = ctx.roles.model("family")
    family = ctx.session.scalar(select(Family).where(Family.pco_id == household_id))
    if family is None:
        return "ignored", f"PCO household {household_id} is gone and no family is linked to it"
    reason = f"PCO household {household_id} was deleted in PCO (webhook)"
    propose(ctx, "family", family, f"family {family.name!r}", reason)
    return "applied", "removed"


def apply_membership_event(ctx: SyncContext, delivery: EventDelivery) -> Outcome:
    """A Groups membership event: see ``webhooks/memberships.py``, which builds on this module."""
    from flask_pco.sync.webhooks.memberships import apply_membership

    return apply_membership(ctx, delivery)


def apply_merger_event(ctx: SyncContext, delivery: EventDelivery) -> Outcome:
    """Apply the merge exactly as a pull applies the merges it reads (``pull/mergers.py``)."""
    from flask_pco.mapping.mergers import merger_from_resource
    from flask_pco.sync.pull.mergers import apply_merger

    try:
        merger = merger_from_resource(delivery.resource)
    except DocumentError as error:
        return "ignored", str(error)
    return apply_merger(ctx, merger)


HANDLERS: dict[str, Handler] = {
    "person": apply_person_event,
    "email": apply_contact_event,
    "phone_number": apply_contact_event,
    "address": apply_contact_event,
    "household": apply_household_event,
    "field_datum": apply_field_datum_event,
    "person_merger": apply_merger_event,
    "membership": apply_membership_event,
}


def linked_person(ctx: SyncContext, pco_id: str) -> Any | None:
    Person = ctx.roles.model("person")
    return ctx.session.scalar(select(Person).where(Person.pco_id == pco_id))


def stale_reason(ctx: SyncContext, pco_id: str, delivery: EventDelivery) -> str | None:
    """Why the payload needs no re-fetch: older than the row's version, or an echo of it.

    Same ``updated_at`` alone is not enough (PCO's timestamps have one-second resolution, so
    two edits can share one); the payload's demographics must also equal the snapshot.
    """
    row = linked_person(ctx, pco_id)
    updated_at = parse_timestamp(delivery.resource.get("updated_at"))
    if row is None or row.pco_updated_at is None or updated_at is None:
        return None
    if updated_at < row.pco_updated_at:
        return f"stale: PCO person {pco_id} at {updated_at} is older than the local copy"
    if updated_at == row.pco_updated_at and payload_matches_snapshot(row, delivery):
        return f"PCO person {pco_id} at {updated_at} is already applied (an echo or a repeat)"
    return None


def payload_matches_snapshot(row: Any, delivery: EventDelivery) -> bool:
    from flask_pco.mapping.people import person_from_resource

    try:
        demographics = person_from_resource(delivery.resource).demographics()
    except DocumentError:
        return False
    snapshot = row.pco_snapshot or {}
    return all(snapshot.get(k) == comparable(v) for k, v in demographics.items())


def destroyed_after(ctx: SyncContext, pco_id: str, delivery: EventDelivery) -> bool:
    """True if this record's deletion was applied and this event does not clearly come later
    (a person, a Groups membership: the record of the delivery's own kind)."""
    Delivery = ctx.models.WebhookDelivery
    times = ctx.session.scalars(
        select(Delivery.event_time).where(
            Delivery.resource_type == delivery.resource.type,
            Delivery.resource_id == pco_id,
            Delivery.name.like(f"%.{delivery.resource_name}.destroyed"),
            Delivery.status == "applied",
        )
    ).all()
    if not times:
        return False
    if delivery.action != "created" or delivery.event_time is None:
        return True
    return any(t is None or t >= delivery.event_time for t in times)


def local_owner(ctx: SyncContext, delivery: EventDelivery) -> str | None:
    """The PCO id of the person a contact belongs to, from the local row linked to it."""
    role = CONTACT_ROLES.get(delivery.resource_name)
    if not role or not ctx.roles.has(role):
        return None
    Contact = ctx.roles.model(role)
    person_id = ctx.session.scalar(
        select(getattr(Contact, ctx.roles.column(role, "person_id"))).where(
            Contact.pco_id == delivery.resource.id
        )
    )
    person = ctx.session.get(ctx.roles.model("person"), person_id) if person_id else None
    return person.pco_id if person is not None else None


def not_a_pco_id(what: str, value: str) -> Outcome:
    """A payload id that is not a PCO id is never put in a request: the delivery is ignored
    (a retry would not fix it), with the id quoted the way Python shows text, so a NUL or a
    newline cannot break the note."""
    return "ignored", f"{value[:40]!r} is not a PCO {what} id; nothing was asked of PCO"


def refresh_person(
    ctx: SyncContext, pco_id: str, *, new_in_pco: bool = False, listed: PersonData | None = None
) -> Outcome:
    """Re-fetch a person with our pinned version and apply it as a pull would.

    A person not linked here may be the profile PCO kept in a merge this site has not heard of
    yet (its event can come before the merger's): the merges since the cursor are applied
    first, so the removed profile's row is relinked rather than a new person created. That
    costs one request, and is skipped for a person PCO has just created. ``listed``: the
    person as a webhook burst's listing gave them (``prefetch``), used instead of a re-fetch
    when it is newer than the row's version.
    """
    from flask_pco.sync.pull.mergers import pull_mergers
    from flask_pco.sync.pull.people import refresh_person as refresh

    if not is_pco_id(pco_id):  # a contact's owner, a merger's kept person: payload ids
        return not_a_pco_id("person", pco_id)
    if not new_in_pco and linked_person(ctx, pco_id) is None and not merges_read_for(pco_id):
        pull_mergers(ctx)  # a burst's listing of them was followed by a read of the merges
    outcome = refresh(ctx, pco_id, listed)
    if outcome is None:
        return "ignored", f"PCO person {pco_id} no longer exists"
    return PERSON_OUTCOMES[outcome]


def deactivate(ctx: SyncContext, pco_id: str) -> bool:
    from flask_pco.sync.pull.people import deactivate_person

    return deactivate_person(ctx, pco_id)


#: ``apply_person``'s outcome → the delivery's status and note.
PERSON_OUTCOMES: dict[str, Outcome] = {
    "created": ("applied", "created"),
    "updated": ("applied", "updated"),
    "unchanged": ("ignored", "already up to date (an echo of our own write, or a repeat)"),
    "held": ("ignored", "held for an admin: the person matches several local people"),
    "skipped": ("ignored", "not written: a value does not fit the site's columns (see issues)"),
}
