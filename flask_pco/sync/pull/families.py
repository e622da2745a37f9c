"""``pull families``: PCO households → ``families`` and ``family_members``, with addresses.

PCO's HouseholdMembership has no role, so a member's ``relationship`` is ``child`` when their
PCO ``child`` flag is set and ``adult`` otherwise. Membership changes do not move a person's
``updated_at`` in PCO, but they do move the household's (the sandbox does the same), so an
incremental run reads the households changed since the cursor and compares their whole member
lists with the local links.

A link created here carries ``pco_id = "<household id>:<person id>"``: links made from PCO (or
pushed to it) are marked removed, and kept, once PCO's household has not listed the member
``PCO_REMOVE_AFTER_MISSES`` times in a row (see ``removals``); listed again, they are restored.
Links the site made itself (no ``pco_id``) never are.
A family whose household a full pull no longer lists (deleted in PCO) is kept and unlinked
(``household_gone``). Addresses live on PCO people; the family takes its primary contact's
primary address (kept on that person's snapshot by ``pull people``), or the first member's
that has one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from flask_pco.client.ids import path_id
from flask_pco.client.jsonapi import Document
from flask_pco.exceptions import DocumentError, NotFoundError
from flask_pco.mapping.households import HouseholdData, household_from_resource
from flask_pco.models import Outcome, utcnow
from flask_pco.sync.context import SyncContext
from flask_pco.sync.cursors import advance_cursor, incremental_since
from flask_pco.sync.engine import step
from flask_pco.sync.household_gone import household_missed, unlink_missing_families
from flask_pco.sync.journal import record_fields
from flask_pco.sync.pull.base import Listed, PageTally, run_pages
from flask_pco.sync.pull.household_links import apply_family_address, relationship_for
from flask_pco.sync.pull.household_versions import changed_households
from flask_pco.sync.removals import person_label, propose, restore
from flask_pco.sync.rows import merge_into, new_row, remember_pco_values, stamp, touch

__all__ = ["FamilyWriter", "pull_families"]


@step("pull", "families")
def pull_families(ctx: SyncContext) -> None:
    """Pull PCO households (all, or those changed since the cursor)."""
    started = utcnow()
    since = incremental_since(ctx, "families")
    pages = ctx.client.pages(
        "/people/v2/households",
        include=("people",),
        where={"updated_at": {"gte": since}} if since else None,
        order="created_at",
        per_page=ctx.config.per_page,
    )
    listed = Listed()

    def handle(document: Document, tally: PageTally) -> None:
        listed.note(document)
        FamilyWriter(ctx, tally).apply_page(document)

    run_pages(ctx, pages, handle)
    if since is None and listed.complete:
        unlink_missing_families(ctx, listed.ids, started)
    elif since is not None:
        _recheck_missed_households(ctx, listed.ids)
    advance_cursor(ctx, "families", started)


def _recheck_missed_households(ctx: SyncContext, listed: set[str]) -> None:
    """An incremental pull reads again the households with a miss pending (the household, or
    one of its members, missed by the last look), so a removal is confirmed, or undone,
    without waiting for the next full pull. One GET each; usually there are none."""
    Family, Member = ctx.roles.model("family"), ctx.roles.model("family_member")
    family_id = getattr(Member, ctx.roles.column("family_member", "family_id"))
    member_missed = select(family_id).where(Member.pco_misses > 0, Member.pco_removed_at.is_(None))
    rows = ctx.session.execute(
        select(Family.id, Family.pco_id).where(
            Family.pco_id.is_not(None), (Family.pco_misses > 0) | Family.id.in_(member_missed)
        )
    ).all()
    for row_id, household_id in rows:
        if household_id in listed:
            continue  # read by this run already
        try:
            document = ctx.client.get(
                f"/people/v2/households/{path_id(household_id)}", params={"include": "people"}
            )
        except NotFoundError:
            household_missed(ctx, [row_id], "PCO answered 404 for it after a look had missed it")
            continue
        tally = PageTally()
        FamilyWriter(ctx, tally).apply_page(document)
        restore(ctx, "family", [row_id])
        ctx.session.commit()
        tally.record(ctx)
    ctx.session.commit()


class FamilyWriter:
    """Upserts one page of households with bulk lookups (families, people, links)."""

    def __init__(self, ctx: SyncContext, tally: PageTally) -> None:
        self.ctx = ctx
        self.tally = tally
        self.Family = ctx.roles.model("family")
        self.Member = ctx.roles.model("family_member")
        self.Person = ctx.roles.model("person")

    def apply_page(self, document: Document) -> None:
        households = changed_households(self.ctx, self._map(document), self.tally)
        if not households:
            return
        families = self._by_pco_id(self.Family, [h.pco_id for h in households])
        people = self._by_pco_id(self.Person, [m for h in households for m in h.member_ids])
        links = self._links([f.id for f in families.values()])
        outcomes = {h.pco_id: self._upsert_family(h, families) for h in households}
        self.ctx.session.flush()  # one round of INSERTs gives the new families their ids
        agreed: list[int] = []
        for household in households:
            family = families[household.pco_id]
            changed = self._apply_members(household, family, people, links.get(family.id, []))
            outcome = outcomes[household.pco_id]
            if outcome == "unchanged" and changed:
                outcome = "updated"
            if outcome != "unchanged":
                stamp(family, household.pco_id, household.updated_at)
            else:
                agreed.append(family.id)
            self.tally.count(outcome)
        touch(self.ctx, "family", agreed)  # checked now: the next run may skip them

    def _upsert_family(self, household: HouseholdData, families: dict[str, Any]) -> Outcome:
        family = families.get(household.pco_id)
        values = {"name": household.name}
        if family is None:
            families[household.pco_id] = family = new_row(
                self.ctx, "family", values, pco_id=household.pco_id
            )
            outcome: Outcome = "created"
        else:
            outcome = "updated" if merge_into(self.ctx, family, "family", values) else "unchanged"
            if family.pco_misses:  # PCO has the household after all
                family.pco_misses = 0
        before = family.pco_snapshot
        remember_pco_values(family, {"primary_contact": household.primary_contact_id})
        return "updated" if outcome == "unchanged" and before != family.pco_snapshot else outcome

    def _apply_members(
        self, household: HouseholdData, family: Any, people: dict[str, Any], links: list[Any]
    ) -> bool:
        members = [people[m] for m in household.member_ids if m in people]
        for missing in (m for m in household.member_ids if m not in people):
            reason = f"household {household.pco_id}: person {missing} is not pulled yet"
            self.tally.issue("skipped", "HouseholdMember", reason, pco_id=missing)
        changed = self._sync_members(household, family, members, links)
        return apply_family_address(self.ctx, family, _address_of(household, members)) or changed

    def _sync_members(
        self, household: HouseholdData, family: Any, members: Sequence[Any], links: list[Any]
    ) -> bool:
        """Add PCO's members, refresh their relationship, drop PCO-made links PCO no longer has."""
        column = self.ctx.roles.column
        by_person = {getattr(link, column("family_member", "person_id")): link for link in links}
        wanted = {person.id for person in members}
        changed = False
        # The relationship follows the person's child flag: written only where both are kept.
        knows = self.ctx.roles.present("person", "child") and self.ctx.roles.present(
            "family_member", "relationship"
        )
        for person in members:
            child = bool(getattr(person, column("person", "child"))) if knows else False
            relationship = relationship_for(child)
            link = by_person.get(person.id)
            pco_id = f"{household.pco_id}:{person.pco_id}"
            if link is None:
                new_row(
                    self.ctx,
                    "family_member",
                    {"relationship": relationship} if knows else {},
                    pco_id=pco_id,
                    **{
                        column("family_member", "family_id"): family.id,
                        column("family_member", "person_id"): person.id,
                    },
                )
                changed = True
                continue
            if link.pco_id is not None and (link.pco_misses or link.pco_removed_at):
                if link.pco_removed_at is not None:  # PCO has them again: restored
                    record_fields(self.ctx, "family_member", link, {"removed": (True, False)})
                    changed = True
                link.pco_misses, link.pco_removed_at, link.pco_removed_run = 0, None, None
            current = getattr(link, column("family_member", "relationship"), None)
            if link.pco_id is not None and knows and current != relationship:
                move = {"relationship": (current, relationship)}
                record_fields(self.ctx, "family_member", link, move)
                setattr(link, column("family_member", "relationship"), relationship)
                changed = True
        for person_id, link in by_person.items():
            if person_id not in wanted and link.pco_id is not None and link.pco_removed_at is None:
                self._missed(household, family, person_id, link)
        return changed

    def _missed(self, household: HouseholdData, family: Any, person_id: int, link: Any) -> None:
        """PCO's household no longer lists a member: one more miss, and a proposed removal
        once there are enough (the link is kept, marked removed)."""
        link.pco_misses = (link.pco_misses or 0) + 1
        if link.pco_misses >= self.ctx.config.remove_after_misses:
            label = f"{person_label(self.ctx, person_id)} in family {family.name!r}"
            reason = f"PCO household {household.pco_id} no longer lists this member"
            propose(self.ctx, "family_member", link, label, reason)

    def _map(self, document: Document) -> list[HouseholdData]:
        households = []
        for resource in document.data:
            try:
                households.append(household_from_resource(resource))
            except DocumentError as error:
                self.tally.issue("invalid", "Household", str(error), pco_id=resource.id)
        return households

    def _by_pco_id(self, model: Any, pco_ids: list[str]) -> dict[str, Any]:
        if not pco_ids:
            return {}
        rows = self.ctx.session.scalars(select(model).where(model.pco_id.in_(set(pco_ids))))
        return {row.pco_id: row for row in rows}

    def _links(self, family_ids: list[int]) -> dict[int, list[Any]]:
        family_id = getattr(self.Member, self.ctx.roles.column("family_member", "family_id"))
        found: dict[int, list[Any]] = defaultdict(list)
        if family_ids:
            for link in self.ctx.session.scalars(
                select(self.Member).where(family_id.in_(family_ids))
            ):
                found[getattr(link, family_id.key)].append(link)
        return found


def _address_of(household: HouseholdData, members: Sequence[Any]) -> dict[str, Any] | None:
    """The primary contact's primary address, else the first member's that has one."""
    ordered = sorted(members, key=lambda p: p.pco_id != household.primary_contact_id)
    for person in ordered:
        address: dict[str, Any] | None = (person.pco_snapshot or {}).get("address")
        if address:
            return address
    return None
