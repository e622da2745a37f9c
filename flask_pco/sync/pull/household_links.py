"""Where a pulled person meets their families: the family address and the link's relationship.

PCO keeps addresses on people and has no role on household memberships; the local site keeps
the address on the family and a ``relationship`` (adult/child) on each link. These helpers
carry a person's PCO data across, for ``pull people`` and ``pull families`` alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from flask_pco.mapping.people import PersonData
from flask_pco.sync.context import SyncContext
from flask_pco.sync.journal import record_fields
from flask_pco.sync.rows import merge_into

__all__ = [
    "ADDRESS_FIELDS",
    "address_of",
    "apply_family_address",
    "family_addresses",
    "family_relationships",
    "relationship_for",
]

ADDRESS_FIELDS = ("street", "city", "state", "zip")

#: The people a page wrote: (PCO data, local row, outcome).
#: A page's people as written: PCO's data, the local row, what the page did to it.
Written = Sequence[tuple[PersonData, Any, str]]


def family_relationships(ctx: SyncContext, written: Written) -> None:
    """Keep PCO-made family links' ``relationship`` in step with the person's child flag.

    A changed flag moves the person's ``updated_at``, not the household's, so an
    incremental families pull would not see it.
    """
    if not ctx.roles.present("family_member", "relationship"):
        return
    child = {row.id: p.child for p, row, outcome in written if outcome in ("updated", "unchanged")}
    if not child:
        return
    Member = ctx.roles.model("family_member")
    person_key = ctx.roles.column("family_member", "person_id")
    relationship = ctx.roles.column("family_member", "relationship")
    query = select(Member).where(
        getattr(Member, person_key).in_(child),
        Member.pco_id.is_not(None),
        Member.pco_removed_at.is_(None),
    )
    for link in ctx.session.scalars(query):
        wanted = relationship_for(child[getattr(link, person_key)])
        if getattr(link, relationship) != wanted:
            move = {"relationship": (getattr(link, relationship), wanted)}
            record_fields(ctx, "family_member", link, move)
            setattr(link, relationship, wanted)


def family_addresses(ctx: SyncContext, written: Written) -> set[int]:
    """Give a person's primary address to the families PCO names them primary contact of."""
    if not (ctx.roles.has("family") and ctx.roles.has("family_member")):
        return set()
    sources = {  # a person created on this page belongs to no family yet
        p.pco_id: (p, row)
        for p, row, outcome in written
        if p.primary_address and outcome not in ("stale", "created")
    }
    if not sources:
        return set()
    Family = ctx.roles.model("family")
    Member = ctx.roles.model("family_member")
    member_person = getattr(Member, ctx.roles.column("family_member", "person_id"))
    member_family = getattr(Member, ctx.roles.column("family_member", "family_id"))
    query = (
        select(Family, member_person)
        .join(Member, member_family == Family.id)
        .where(
            member_person.in_([row.id for _, row in sources.values()]),
            Member.pco_removed_at.is_(None),
        )
    )
    changed: set[int] = set()
    for family, _person_id in ctx.session.execute(query):
        contact = (family.pco_snapshot or {}).get("primary_contact")
        if contact in sources:
            person, row = sources[contact]
            if apply_family_address(ctx, family, address_of(person)):
                changed.add(id(row))
    return changed


def relationship_for(child: bool) -> str:
    return "child" if child else "adult"


def apply_family_address(ctx: SyncContext, family: Any, address: dict[str, Any] | None) -> bool:
    """Fill a family's address from PCO; a local address PCO never sent is left alone.

    Where the family has no PCO base for a field yet, an empty local field takes PCO's value and
    a filled one is kept (and left for push); with a base, the usual three-way merge decides.
    """
    if not address:
        return False
    snapshot = family.pco_snapshot or {}
    local = {f: getattr(family, ctx.roles.column("family", f), None) for f in ADDRESS_FIELDS}
    base = {
        f: snapshot[f] if f in snapshot else (local[f] if not local[f] else address[f])
        for f in ADDRESS_FIELDS
    }
    return merge_into(ctx, family, "family", {f: address[f] for f in ADDRESS_FIELDS}, base=base)


def address_of(person: PersonData) -> dict[str, Any] | None:
    address = person.primary_address
    return address.as_family_fields() if address else None
