"""Pushing local families to PCO Households, and their members to HouseholdMemberships.

Members must be PCO people before a household can name them, so unlinked members go through
``PersonPusher`` first (the one way a person reaches PCO). A household create whose outcome is
unknown, or that a killed run made without storing its id, is found again among the primary
contact's households (``/people/v2/people/{id}/households``: a plain listing, not search) before
anything is created; so is a household PCO already had for the same people.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from flask_pco.client.ids import path_id
from flask_pco.exceptions import DocumentError, NotFoundError
from flask_pco.mapping.households import HouseholdData, household_from_resource
from flask_pco.mapping.payloads import (
    household_attributes,
    household_membership_payload,
    household_relationships,
    primary_contact,
)
from flask_pco.models import Outcome
from flask_pco.sync.household_gone import household_missed
from flask_pco.sync.policy import comparable, merge
from flask_pco.sync.push.addresses import address_pending, push_family_address
from flask_pco.sync.push.pending import may_need_push
from flask_pco.sync.push.people import PersonPusher
from flask_pco.sync.push.records import (
    REFUSED,
    create_or_reconcile,
    log,
    mark_linked,
    record_rejected,
    settle_merge,
)
from flask_pco.sync.push.remote_index import PEOPLE_PATH, parse_pco_time

if TYPE_CHECKING:
    from flask_pco.sync.context import SyncContext

__all__ = ["HOUSEHOLDS_PATH", "push_families_to_pco"]

HOUSEHOLDS_PATH = "/people/v2/households"
#: Families whose members are read in one query.
_BATCH = 500

#: (member row, its person's PCO id, local relationship) for members that are in PCO.
Member = tuple[Any, str, str | None]


def push_families_to_pco(ctx: SyncContext) -> None:
    """Create, complete or rename the PCO household of every family that needs it."""
    Family = ctx.roles.model("family")
    # Ids, not rows, are kept across the loop: each per-record commit expires every row the
    # session still holds, so holding all families and members made a push quadratic. Only
    # the families the database says may need a push are read, with their members.
    candidates = list(
        ctx.session.scalars(select(Family).where(_may_need_push(ctx)).order_by(Family.id))
    )
    members = _members_by_family(ctx, [f.id for f in candidates])
    work = [
        f.id
        for f in candidates
        if f.pco_id is None
        or _renamed(ctx, f)
        or address_pending(ctx, f)
        or any(m.pco_id is None for m in members[f.id])
    ]
    member_ids = {family_id: [m.id for m in members[family_id]] for family_id in work}
    del members, candidates
    people = PersonPusher(ctx) if work else None
    ctx.report.expect(len(work))
    FamilyMember = ctx.roles.model("family_member")
    for family_id in work:
        assert people is not None
        family = ctx.session.get(Family, family_id)
        rows = [ctx.session.get(FamilyMember, i) for i in member_ids[family_id]]
        _push_family(ctx, people, family, [row for row in rows if row is not None])
        ctx.report.advance()
        ctx.report.checkpoint()


def _may_need_push(ctx: SyncContext) -> Any:
    """Families unlinked or edited here (``may_need_push``), or with a current member not
    linked to PCO yet."""
    FamilyMember = ctx.roles.model("family_member")
    family_id = getattr(FamilyMember, ctx.roles.column("family_member", "family_id"))
    unlinked_members = select(family_id).where(
        FamilyMember.pco_id.is_(None), FamilyMember.pco_removed_at.is_(None)
    )
    Family = ctx.roles.model("family")
    return may_need_push(ctx, "family") | Family.id.in_(unlinked_members)


def _members_by_family(ctx: SyncContext, family_ids: list[int]) -> dict[int, list[Any]]:
    """The current members of these families (those removed in PCO are left), by family."""
    FamilyMember = ctx.roles.model("family_member")
    family_id = getattr(FamilyMember, ctx.roles.column("family_member", "family_id"))
    by_family: dict[int, list[Any]] = defaultdict(list)
    for start in range(0, len(family_ids), _BATCH):
        current = select(FamilyMember).where(
            FamilyMember.pco_removed_at.is_(None),
            family_id.in_(family_ids[start : start + _BATCH]),
        )
        for member in ctx.session.scalars(current.order_by(FamilyMember.id)):
            by_family[getattr(member, ctx.roles.column("family_member", "family_id"))].append(
                member
            )
    return by_family


def _push_family(ctx: SyncContext, people: PersonPusher, family: Any, rows: list[Any]) -> None:
    members = _members_in_pco(ctx, people, rows)
    if not members:
        reason = "none of the family's members is in PCO, so it cannot become a household"
        ctx.report.issue("invalid", "Household", reason, local_id=family.id)
        ctx.session.commit()
        return
    elif family.pco_id is not None or _link_or_create_household(ctx, family, members):
        _link_members(ctx, family, [m for m in members if m[0].pco_id is None])
    if _renamed(ctx, family):
        _push_household_name(ctx, family)
    if address_pending(ctx, family):
        push_family_address(ctx, family)


def _name(ctx: SyncContext, family: Any) -> str:
    """The family's name, from whichever host column plays it."""
    return str(getattr(family, ctx.roles.column("family", "name")) or "")


def _renamed(ctx: SyncContext, family: Any) -> bool:
    """Linked, and its name edited here since the two sides last agreed on it."""
    agreed = (family.pco_snapshot or {}).get("name")
    return (
        family.pco_id is not None
        and agreed is not None
        and comparable(_name(ctx, family)) != agreed
    )


def _push_household_name(ctx: SyncContext, family: Any) -> None:
    """PATCH a household's new name, unless PCO renamed it too (then PCO's name wins)."""
    path = f"{HOUSEHOLDS_PATH}/{path_id(family.pco_id)}"
    try:
        household = ctx.client.get(path).data[0]
    except NotFoundError:
        household_missed(ctx, [family.id], "PCO answered 404 for it during a push")
        return
    except REFUSED as error:
        record_rejected(ctx, "Household", family, error)
        return
    base, local = {"name": family.pco_snapshot["name"]}, {"name": comparable(_name(ctx, family))}
    pco = {"name": comparable(household.get("name"))}
    result = merge(base, local, pco, ("name",), ctx.roles.rules_of("family"))
    settle_merge(
        ctx,
        family,
        "family",
        result,
        resource_type="Household",
        write=lambda _changes: ctx.client.update(
            path, "Household", family.pco_id, household_attributes(_name(ctx, family))
        ),
        describe=f"rename PCO household {family.pco_id}",
        snapshot=lambda row: {"name": comparable(_name(ctx, row))},
    )


def _members_in_pco(ctx: SyncContext, people: PersonPusher, rows: list[Any]) -> list[Member]:
    """The members that are PCO people, pushing those that are not yet (held ones drop out)."""
    Person = ctx.roles.model("person")
    found: list[Member] = []
    column = ctx.roles.column
    for row in rows:
        person = ctx.session.get(Person, getattr(row, column("family_member", "person_id")))
        if person is None:
            continue
        pco_id = person.pco_id or people.push(person)
        if pco_id:
            relationship = getattr(row, column("family_member", "relationship"), None)
            found.append((row, pco_id, relationship))
    return found


def _link_or_create_household(ctx: SyncContext, family: Any, members: list[Member]) -> bool:
    contact = primary_contact((pco_id, relationship) for _, pco_id, relationship in members)
    member_ids = [pco_id for _, pco_id, _ in members]
    # A household PCO already has would name one of the members; people this run created
    # are in none yet, so a new family of new people is created without looking (a request
    # saved per family on a first push). From here on they may be in one: the next family
    # naming them looks.
    new_people = set(member_ids) <= ctx.people_created
    ctx.people_created.difference_update(member_ids)
    household = None if new_people else _find_household(ctx, family, contact, member_ids)
    outcome: Outcome = "updated"  # linked to a household PCO already had
    if household is not None and _linked_elsewhere(ctx, family, household.pco_id):
        return False
    if household is None:
        outcome = "created"

        def send() -> HouseholdData:
            name = _name(ctx, family)
            created = ctx.client.create(
                HOUSEHOLDS_PATH,
                "Household",
                household_attributes(name),
                household_relationships(member_ids, contact),
            )
            updated_at = parse_pco_time(created.get("updated_at"))
            return HouseholdData(created.id, name, tuple(member_ids), contact, updated_at)

        household = create_or_reconcile(
            ctx,
            "Household",
            family,
            f"the household for family {_name(ctx, family)!r}",
            send=send,  # a lost answer: the household our POST made, if PCO shows it
            find=lambda: _find_household(ctx, family, contact, member_ids),
        )
        if household is None:
            return False
    contact = household.primary_contact_id or contact
    _mark_family(ctx, family, household.pco_id, household.updated_at, contact)
    ctx.report.count(outcome)
    return True


def _linked_elsewhere(ctx: SyncContext, family: Any, household_id: str) -> bool:
    """Whether the household found for ``family`` already belongs to another local family
    (two families here for one household in PCO, after a merge there, say): an admin decides."""
    Family = ctx.roles.model("family")
    other = ctx.session.scalar(
        select(Family.id).where(Family.pco_id == household_id, Family.id != family.id)
    )
    if other is None:
        return False
    reason = (
        f"PCO household {household_id} has this family's people but is linked to family "
        f"{other}; merge the two families here (or remove one), and the push links the rest"
    )
    ctx.report.issue("held", "Household", reason, local_id=family.id, pco_id=household_id)
    ctx.session.commit()
    return True


def _mark_family(
    ctx: SyncContext, family: Any, pco_id: str, updated_at: Any, contact: str | None = None
) -> None:
    # The name (and who the primary contact is) are agreed with PCO now; the address is not
    # until push_family_address has written it, so it stays out of the snapshot till then.
    agreed = {"name": comparable(_name(ctx, family))}
    if contact:
        agreed["primary_contact"] = contact
    mark_linked(ctx, family, "family", pco_id, updated_at, snapshot=agreed)


def _find_household(
    ctx: SyncContext, family: Any, contact: str, member_ids: list[str]
) -> HouseholdData | None:
    """A household of the primary contact with the family's name or all its members."""
    path = f"{PEOPLE_PATH}/{path_id(contact)}/households"
    try:
        resources = list(ctx.client.iterate(path, include=("people",)))
    except NotFoundError:
        return None  # the contact is gone from PCO: the create will say why
    for resource in resources:
        try:
            household = household_from_resource(resource)
        except DocumentError as error:
            log.warning("skipping PCO household %s: %s", resource.id, error)
            continue
        same_name = household.name.strip().casefold() == _name(ctx, family).strip().casefold()
        if same_name or set(member_ids) <= set(household.member_ids):
            return household
    return None


def _household_memberships(ctx: SyncContext, household_id: str) -> dict[str, str]:
    """Membership id by person id for one PCO household."""
    path = f"{HOUSEHOLDS_PATH}/{path_id(household_id)}/household_memberships"
    found: dict[str, str] = {}
    for membership in ctx.client.iterate(path):
        person_id = membership.related_id("person") or membership.get("person_id")
        if person_id:
            found[str(person_id)] = membership.id
    return found


def _link_members(ctx: SyncContext, family: Any, members: list[Member]) -> None:
    if not members:
        return
    try:
        existing = _household_memberships(ctx, family.pco_id)
    except NotFoundError:
        household_missed(ctx, [family.id], "PCO answered 404 for it during a push")
        return
    for row, person_id, _ in members:
        if person_id not in existing:
            ctx.people_created.discard(person_id)  # in a household from now on
            membership_id = _add_member(ctx, family, row, person_id)
            if membership_id is None:
                continue
            existing[person_id] = membership_id
            ctx.report.count("created")
        mark_linked(ctx, row, "family_member", existing[person_id], None, snapshot={})


def _add_member(ctx: SyncContext, family: Any, row: Any, person_id: str) -> str | None:
    attributes, relationships = household_membership_payload(person_id)
    path = f"{HOUSEHOLDS_PATH}/{path_id(family.pco_id)}/household_memberships"
    return create_or_reconcile(
        ctx,
        "HouseholdMembership",
        row,
        f"PCO person {person_id}'s membership",
        send=lambda: ctx.client.create(path, "HouseholdMembership", attributes, relationships).id,
        find=lambda: _household_memberships(ctx, family.pco_id).get(person_id),
    )
