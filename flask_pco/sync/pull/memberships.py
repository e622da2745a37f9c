"""Group memberships: a group's listing pulled, one membership written (a pull's page or a
webhook), and the members PCO lists who are not local yet pulled on demand.

Memberships are read per group (``/groups/v2/groups/{id}/memberships``); a local membership
linked to PCO that PCO no longer lists is marked removed (kept) after ``PCO_REMOVE_AFTER_MISSES``
listings in a row missed it (``removals``), and restored if PCO lists the person again.

A member with no local row is not skipped: ``MemberPuller`` fetches them from People and
writes them through the people pull's own writer, so they are matched (``pco_id``, then
``remote_id``, email, name + birth date) before anyone is created, and a local person not yet
linked is linked, never duplicated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select

from flask_pco.client.ids import path_id
from flask_pco.client.jsonapi import Document, Resource
from flask_pco.mapping.groups import MembershipData, membership_from_resource
from flask_pco.models import Outcome
from flask_pco.sync.context import SyncContext
from flask_pco.sync.locks import lock_record
from flask_pco.sync.pull.base import PageTally, run_pages, skippable_pages
from flask_pco.sync.pull.group_rows import existing_rows, mapped, rows_by_pco_id, upsert_row
from flask_pco.sync.pull.mergers import pull_mergers
from flask_pco.sync.pull.people import fetch_person
from flask_pco.sync.pull.writer import PeopleWriter
from flask_pco.sync.removals import count_misses, person_label, propose

__all__ = [
    "MemberPuller",
    "membership_label",
    "pull_memberships",
    "unlinked_members",
    "write_membership",
]

#: The membership fields that are plain links to local rows, always set (no ownership merge).
LINKS = ("group_id", "person_id")


class MemberPuller:
    """Pulls, on demand, the PCO people a group lists who have no local row yet.

    One GET per person (``/people/v2/people/{id}`` with contacts): PCO's ``where[id]`` matches
    one value only (REFERENCE §1.5), so a listing filtered by several ids is not to be had.
    Before the first of them, the merges PCO recorded since the last read are applied (one
    request, once per step): the profile PCO kept in a merge then takes over the removed one's
    local row instead of becoming a second local person.
    """

    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self.mergers_read = False

    def pull(self, pco_ids: Iterable[str], tally: PageTally) -> None:
        """Fetch and write these people; one PCO no longer has, or held for an admin (an
        ambiguous match), stays without a local row."""
        ctx = self.ctx
        wanted = sorted(set(pco_ids))  # one order for every writer: no two lock in reverse
        if not wanted:
            return
        if not self.mergers_read:
            pull_mergers(ctx)
            self.mergers_read = True
            linked = rows_by_pco_id(ctx, "person", wanted)  # a merge may have relinked some
            wanted = [pco_id for pco_id in wanted if pco_id not in linked]
        people = []
        for pco_id in wanted:
            # Locked before the fetch, as ``refresh_person`` does: the later writer fetched later.
            lock_record(ctx.session, "person", pco_id)
            person = fetch_person(ctx, pco_id)
            if person is None:
                continue
            for problem in person.problems:
                tally.issue("invalid", "Person", f"contact dropped: {problem}", pco_id=pco_id)
            people.append(person)
        for outcome in PeopleWriter(ctx, tally).apply(people):
            tally.count(outcome)


def pull_memberships(
    ctx: SyncContext, group_pco_id: str, members: MemberPuller | None = None
) -> bool:
    """Bring one group's members in line with PCO (the group must be local already); return
    whether PCO's listing was complete.

    Memberships PCO no longer lists are dropped only after a complete listing: a refused one
    (404/422) proves nothing about who left.
    """
    group = rows_by_pco_id(ctx, "group", [group_pco_id]).get(group_pco_id)
    if group is None:
        return False
    seen: set[str] = set()
    refused: list[bool] = []
    path = f"/groups/v2/groups/{path_id(group_pco_id)}/memberships"
    pages = skippable_pages(ctx, path, "Membership")
    handler = _membership_handler(ctx, group, seen, refused, members or MemberPuller(ctx))
    run_pages(ctx, pages, handler, progress=False)
    if not refused:
        _drop_missing_memberships(ctx, group, seen)
    return not refused


def _membership_handler(
    ctx: SyncContext, group: Any, seen: set[str], refused: list[bool], members: MemberPuller
) -> Callable[[Document, PageTally], None]:
    def to_membership(resource: Resource) -> MembershipData:
        return membership_from_resource(resource, group.pco_id)

    def handle(document: Document, tally: PageTally) -> None:
        if document.meta.get("refused"):
            refused.append(True)
        memberships = [d for _, d in mapped(document.data, to_membership, "Membership", tally)]
        wanted = [m.person_id for m in memberships]
        people = rows_by_pco_id(ctx, "person", wanted)
        if any(pco_id not in people for pco_id in wanted):
            members.pull((pco_id for pco_id in wanted if pco_id not in people), tally)
            people = rows_by_pco_id(ctx, "person", wanted)
        existing = existing_rows(ctx, "group_membership", document)
        unlinked = unlinked_members(ctx, group)
        for membership in memberships:
            seen.add(membership.pco_id)
            person = people.get(membership.person_id)
            if person is None:
                reason = (
                    f"group {group.pco_id}: person {membership.person_id} could not be pulled "
                    "(PCO People does not have them, or their match waits for an admin)"
                )
                tally.issue("skipped", "Membership", reason, pco_id=membership.pco_id)
                continue
            tally.count(write_membership(ctx, group, person, membership, existing, unlinked))

    return handle


def write_membership(
    ctx: SyncContext,
    group: Any,
    person: Any,
    membership: MembershipData,
    existing: dict[str, Any],
    unlinked: dict[int, Any],
) -> Outcome:
    """Upsert one membership of local ``group`` and ``person``; the caller commits.

    ``existing`` holds the linked rows by ``pco_id``; ``unlinked`` the group's rows the site
    made itself or a sync marked removed (``unlinked_members``), one of which the person's
    membership takes back rather than adding a second row for them.
    """
    values = {"group_id": group.id, "person_id": person.id, "is_leader": membership.is_leader}
    adopt = unlinked.pop(person.id, None)
    return upsert_row(ctx, "group_membership", membership.pco_id, values, existing, LINKS, adopt)


def unlinked_members(ctx: SyncContext, group: Any) -> dict[int, Any]:
    """The group's memberships the site made itself (no ``pco_id``), and those a sync marked
    removed, by person: one query. A person PCO lists again takes one of them back."""
    model = ctx.roles.model("group_membership")
    group_id = getattr(model, ctx.roles.column("group_membership", "group_id"))
    person_key = ctx.roles.column("group_membership", "person_id")
    rows = ctx.session.scalars(
        select(model).where(
            group_id == group.id, model.pco_id.is_(None) | model.pco_removed_at.is_not(None)
        )
    )
    return {getattr(row, person_key): row for row in rows}


def membership_label(ctx: SyncContext, row: Any) -> str:
    """ "Ann Lee in group 'Tuesday Study'": what an admin reads about a removal."""
    person_id = getattr(row, ctx.roles.column("group_membership", "person_id"))
    group_id = getattr(row, ctx.roles.column("group_membership", "group_id"))
    group = ctx.session.get(ctx.roles.model("group"), group_id)
    name = getattr(group, ctx.roles.column("group", "name")) if group is not None else group_id
    return f"{person_label(ctx, person_id)} in group {name!r}"


def _drop_missing_memberships(ctx: SyncContext, group: Any, seen: set[str]) -> None:
    """Count a miss for each linked membership the complete listing lacked, and propose
    removing (marking, never deleting) those missed often enough."""
    model = ctx.roles.model("group_membership")
    group_id = getattr(model, ctx.roles.column("group_membership", "group_id"))
    rows = ctx.session.scalars(
        select(model).where(
            group_id == group.id, model.pco_id.is_not(None), model.pco_removed_at.is_(None)
        )
    ).all()
    gone = {row.id: row for row in rows if row.pco_id not in seen}
    for row_id in count_misses(ctx, "group_membership", list(gone)):
        row = gone[row_id]
        reason = f"PCO group {group.pco_id} no longer lists membership {row.pco_id}"
        propose(ctx, "group_membership", row, membership_label(ctx, row), reason)
    ctx.session.commit()
