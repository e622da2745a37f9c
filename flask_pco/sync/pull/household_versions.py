"""Households a families pull can leave alone: applied already, and nothing they draw on moved.

A family is written from its household (name, primary contact, ``updated_at``), its members'
links, and its members' people (the relationship follows a person's ``child`` flag, the
address their snapshot). ``changed_households`` keeps the households of a page that may change
something here, as ``changed_only`` does for people, with plain-column queries and no objects:

* the household's ``updated_at`` equals the one stored on its family, applied at least
  ``SETTLED_AFTER`` later (the family neither missed nor unlinked);
* the family's links made from PCO are exactly PCO's member list, none missed or removed, and
  every member is a local person;
* no member's person row changed after the family was last applied (``pco_synced_at``).

The rest count ``unchanged`` and cost no load, merge or flush.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from flask_pco.mapping.households import HouseholdData
from flask_pco.sync.context import SyncContext
from flask_pco.sync.pull.base import SETTLED_AFTER, PageTally

__all__ = ["changed_households"]


def changed_households(
    ctx: SyncContext, households: Sequence[HouseholdData], tally: PageTally
) -> list[HouseholdData]:
    """The households of a page to write; the others count ``unchanged``."""
    applied = _applied_families(ctx, [h for h in households if h.updated_at is not None])
    if not applied:
        return list(households)
    members = _member_states(ctx, [family_id for family_id, _, _ in applied.values()])
    changed = []
    for household in households:
        found = applied.get(household.pco_id)
        if found is None or found[1] != household.updated_at:
            changed.append(household)
            continue
        family_id, _, synced = found
        if not _members_current(household, members.get(family_id, []), synced):
            changed.append(household)
    if len(changed) < len(households):
        tally.count("unchanged", len(households) - len(changed))
    return changed


def _applied_families(
    ctx: SyncContext, households: Sequence[HouseholdData]
) -> dict[str, tuple[int, datetime, datetime]]:
    """Household PCO id → (family id, stored ``updated_at``, ``pco_synced_at``) of the linked,
    current families applied at least ``SETTLED_AFTER`` after their version."""
    if not households:
        return {}
    Family = ctx.roles.model("family")
    query = select(Family.id, Family.pco_id, Family.pco_updated_at, Family.pco_synced_at).where(
        Family.pco_id.in_([h.pco_id for h in households]),
        Family.pco_misses == 0,
        Family.pco_removed_at.is_(None),
    )
    return {
        pco_id: (family_id, at, synced)
        for family_id, pco_id, at, synced in ctx.session.execute(query)
        if at is not None and synced is not None and synced - at >= SETTLED_AFTER
    }


def _member_states(ctx: SyncContext, family_ids: list[int]) -> dict[int, list[Any]]:
    """Each family's links: (link ``pco_id``, misses, removed at, person PCO id, person
    ``pco_synced_at``), one query."""
    Member, Person = ctx.roles.model("family_member"), ctx.roles.model("person")
    family_id = getattr(Member, ctx.roles.column("family_member", "family_id"))
    person_id = getattr(Member, ctx.roles.column("family_member", "person_id"))
    query = (
        select(
            family_id,
            Member.pco_id,
            Member.pco_misses,
            Member.pco_removed_at,
            Person.pco_id,
            Person.pco_synced_at,
        )
        .join(Person, person_id == Person.id)
        .where(family_id.in_(family_ids))
    )
    found: dict[int, list[Any]] = defaultdict(list)
    for row in ctx.session.execute(query):
        found[row[0]].append(row[1:])
    return found


def _members_current(household: HouseholdData, links: list[Any], synced: datetime) -> bool:
    """Whether the family's links and people are as the household's last write left them
    (what ``FamilyWriter._sync_members`` would find nothing to do about)."""
    wanted = set(household.member_ids)
    linked = set()
    for link_pco_id, misses, removed_at, person_pco_id, person_synced in links:
        listed = person_pco_id in wanted
        if link_pco_id is not None and removed_at is not None and not listed:
            continue  # removed, and PCO still does not list them: nothing to do
        if person_synced is None or person_synced > synced:
            return False  # the person changed since: a relationship or the address may follow
        if link_pco_id is not None and (misses or removed_at is not None or not listed):
            return False  # a miss to count or to clear, a removal to undo
        if listed:
            linked.add(person_pco_id)
    return linked == wanted
