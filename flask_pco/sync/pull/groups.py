"""``pull groups``: PCO group types and groups into the local hierarchy, then memberships.

PCO's flat GroupType → Group becomes, locally, department → area → group: one department named
``PCO_GROUPS_DEPARTMENT`` ("PCO Groups"), each group type an area under it, each group under its
area. Group types and groups are separate id spaces in PCO but share ``church_group.pco_id``
locally, so an area's ``pco_id`` is ``"type:<id>"``. Only name, description, kind and parent are
written; the site's own group metadata (meeting day, childcare, ...) is never touched.

Memberships are read per group (``/groups/v2/groups/{id}/memberships``); a local membership
linked to PCO that PCO no longer lists is marked removed (kept) after ``PCO_REMOVE_AFTER_MISSES``
listings in a row missed it (``removals``), and restored if PCO lists the person again.
``options["group_id"]`` syncs that one PCO group "now" (the spec's "manually update a specific
group"); a group PCO does not have fails the run, naming it, with a ``not_found`` issue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select

from flask_pco.client.ids import path_id
from flask_pco.client.jsonapi import Document, Resource
from flask_pco.exceptions import DocumentError, NotFoundError
from flask_pco.mapping.groups import (
    GroupData,
    MembershipData,
    group_from_resource,
    group_type_from_resource,
    membership_from_resource,
)
from flask_pco.models import Outcome
from flask_pco.sync.context import SyncContext
from flask_pco.sync.engine import step
from flask_pco.sync.journal import record, record_fields
from flask_pco.sync.pull.base import PageTally, run_pages, skippable_pages
from flask_pco.sync.removals import count_misses, person_label, propose
from flask_pco.sync.rows import merge_into, new_row, stamp
from flask_pco.sync.selection import missing_message

__all__ = ["TYPE_PREFIX", "pull_groups"]

TYPE_PREFIX = "type:"


@step("pull", "groups")
def pull_groups(ctx: SyncContext) -> None:
    """Pull group types, groups and their memberships (or one group with ``group_id``).

    Progress counts group types, then each group once its members are in.
    """
    group_id = ctx.options.get("group_id")
    if group_id:
        _pull_one_group(ctx, str(group_id))
        return
    run_pages(ctx, _pages(ctx, "/groups/v2/group_types"), _types_handler(ctx))
    pulled: list[str] = []
    groups = _pages(ctx, "/groups/v2/groups", include=("group_type",))
    run_pages(ctx, groups, _groups_handler(ctx, pulled), progress=False)
    ctx.report.expect(len(pulled))
    for pco_id in pulled:
        pull_memberships(ctx, pco_id)
        ctx.report.advance()


def pull_memberships(ctx: SyncContext, group_pco_id: str) -> None:
    """Bring one group's members in line with PCO (the group must be local already).

    Memberships PCO no longer lists are dropped only after a complete listing: a refused one
    (404/422) proves nothing about who left.
    """
    group = _by_pco_id(ctx, "group", [group_pco_id]).get(group_pco_id)
    if group is None:
        return
    seen: set[str] = set()
    refused: list[bool] = []
    path = f"/groups/v2/groups/{path_id(group_pco_id)}/memberships"
    pages = skippable_pages(ctx, path, "Membership", include=("person",))
    run_pages(ctx, pages, _membership_handler(ctx, group, seen, refused), progress=False)
    if not refused:
        _drop_missing_memberships(ctx, group, seen)


def _pull_one_group(ctx: SyncContext, pco_id: str) -> None:
    """Pull one group, its area and its members; a group PCO does not have fails the run."""
    try:
        document = ctx.client.get(
            f"/groups/v2/groups/{path_id(pco_id)}", params={"include": "group_type"}
        )
    except NotFoundError:
        reason = missing_message("group", [pco_id])
        ctx.report.issue("not_found", "Group", reason, pco_id=pco_id)
        ctx.report.checkpoint(force=True)
        raise NotFoundError(404, message=reason) from None
    type_ids = [r.related_id("group_type") for r in document.data if r.related_id("group_type")]
    missing = [
        t
        for t in type_ids
        if TYPE_PREFIX + str(t) not in _by_pco_id(ctx, "group", [TYPE_PREFIX + str(t)])
    ]
    for type_id in missing:  # its area first, so the group lands under it
        run_pages(
            ctx,
            skippable_pages(ctx, f"/groups/v2/group_types/{path_id(type_id)}", "GroupType"),
            _types_handler(ctx),
        )
    pulled: list[str] = []
    run_pages(ctx, [document], _groups_handler(ctx, pulled), progress=False)
    ctx.report.expect(len(pulled))
    for group_pco_id in pulled:
        pull_memberships(ctx, group_pco_id)
        ctx.report.advance()


def _types_handler(ctx: SyncContext) -> Callable[[Document, PageTally], None]:
    def handle(document: Document, tally: PageTally) -> None:
        department = _department(ctx)
        existing = _existing(ctx, "group", document, TYPE_PREFIX)
        for resource, data in _mapped(document.data, group_type_from_resource, "GroupType", tally):
            values = {
                "name": data.name,
                "kind": "area",
                "parent_id": department.id,
                "description": data.description,
            }
            tally.count(_upsert(ctx, "group", TYPE_PREFIX + resource.id, values, existing))

    return handle


def _groups_handler(ctx: SyncContext, pulled: list[str]) -> Callable[[Document, PageTally], None]:
    def handle(document: Document, tally: PageTally) -> None:
        department = _department(ctx)
        groups = [data for _, data in _mapped(document.data, group_from_resource, "Group", tally)]
        areas = _by_pco_id(
            ctx, "group", [TYPE_PREFIX + g.group_type_id for g in groups if g.group_type_id]
        )
        existing = _existing(ctx, "group", document)
        for group in groups:
            tally.count(
                _upsert(
                    ctx, "group", group.pco_id, _group_values(group, areas, department), existing
                )
            )
            pulled.append(group.pco_id)

    return handle


def _membership_handler(
    ctx: SyncContext, group: Any, seen: set[str], refused: list[bool]
) -> Callable[[Document, PageTally], None]:
    def to_membership(resource: Resource) -> MembershipData:
        return membership_from_resource(resource, group.pco_id)

    def handle(document: Document, tally: PageTally) -> None:
        if document.meta.get("refused"):
            refused.append(True)
        memberships = [d for _, d in _mapped(document.data, to_membership, "Membership", tally)]
        people = _by_pco_id(ctx, "person", [m.person_id for m in memberships])
        existing = _existing(ctx, "group_membership", document)
        unlinked = _unlinked_members(ctx, group)
        for membership in memberships:
            seen.add(membership.pco_id)
            person = people.get(membership.person_id)
            if person is None:
                reason = f"group {group.pco_id}: person {membership.person_id} is not pulled yet"
                tally.issue("skipped", "Membership", reason, pco_id=membership.pco_id)
                continue
            values = {
                "group_id": group.id,
                "person_id": person.id,
                "is_leader": membership.is_leader,
            }
            linked = ("group_id", "person_id")
            adopt = unlinked.pop(person.id, None)  # the site's own link for the same person
            outcome = _upsert(
                ctx, "group_membership", membership.pco_id, values, existing, linked, adopt
            )
            tally.count(outcome)

    return handle


def _upsert(
    ctx: SyncContext,
    role: str,
    pco_id: str,
    values: dict[str, Any],
    existing: dict[str, Any],
    linked: tuple[str, ...] = (),
    adopt: Any = None,
) -> Outcome:
    """Create or merge one row by ``pco_id`` (or ``adopt`` an unlinked local one).

    ``linked`` fields are plain links, always set; the rest go through the ownership merge.
    """
    row = existing.get(pco_id)
    if row is None:
        row = adopt
    if row is None:
        row = new_row(ctx, role, values, pco_id=pco_id)
        existing[pco_id] = row
        stamp(row, pco_id)
        return "created"
    changed = row.pco_id != pco_id or row.pco_removed_at is not None
    if row.pco_id != pco_id:
        record(ctx, role, "link", row=row, pco_id=pco_id, old=row.pco_id, new=pco_id)
    row.pco_id = pco_id
    if row.pco_removed_at is not None:  # listed by PCO again: restored
        record_fields(ctx, role, row, {"removed": (True, False)})
    if row.pco_misses or row.pco_removed_at:  # listed by PCO (again): current, and restored
        row.pco_misses, row.pco_removed_at, row.pco_removed_run = 0, None, None
    moved = {}
    for name in linked:
        if getattr(row, ctx.roles.column(role, name)) != values[name]:
            moved[name] = (getattr(row, ctx.roles.column(role, name)), values[name])
            setattr(row, ctx.roles.column(role, name), values[name])
            changed = True
    record_fields(ctx, role, row, moved)
    changed |= merge_into(ctx, row, role, {k: v for k, v in values.items() if k not in linked})
    if changed:
        stamp(row, pco_id)
    return "updated" if changed else "unchanged"


def _unlinked_members(ctx: SyncContext, group: Any) -> dict[int, Any]:
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
    person_key = ctx.roles.column("group_membership", "person_id")
    for row_id in count_misses(ctx, "group_membership", list(gone)):
        row = gone[row_id]
        label = f"{person_label(ctx, getattr(row, person_key))} in group {group.name!r}"
        reason = f"PCO group {group.pco_id} no longer lists membership {row.pco_id}"
        propose(ctx, "group_membership", row, label, reason)
    ctx.session.commit()


def _group_values(group: GroupData, areas: dict[str, Any], department: Any) -> dict[str, Any]:
    area = areas.get(TYPE_PREFIX + group.group_type_id) if group.group_type_id else None
    parent = area.id if area is not None else department.id
    return {
        "name": group.name,
        "kind": "group",
        "parent_id": parent,
        "description": group.description,
    }


def _department(ctx: SyncContext) -> Any:
    """The local department PCO's groups live under, created on first use.

    Looked up per page: in a dry run each page's writes (this department included) are undone.
    """
    model = ctx.roles.model("group")
    column = ctx.roles.column
    name = ctx.config.groups_department
    row = ctx.session.scalar(
        select(model)
        .where(
            getattr(model, column("group", "name")) == name,
            getattr(model, column("group", "kind")) == "department",
        )
        .limit(1)
    )
    if row is None:
        row = model(**{column("group", "name"): name, column("group", "kind"): "department"})
        ctx.session.add(row)
        ctx.session.flush()
    return row


def _mapped(
    resources: Iterable[Resource], mapper: Callable[[Resource], Any], type_: str, tally: PageTally
) -> list[tuple[Resource, Any]]:
    found = []
    for resource in resources:
        try:
            found.append((resource, mapper(resource)))
        except DocumentError as error:
            tally.issue("invalid", type_, str(error), pco_id=resource.id)
    return found


def _existing(ctx: SyncContext, role: str, document: Document, prefix: str = "") -> dict[str, Any]:
    return _by_pco_id(ctx, role, [prefix + r.id for r in document.data])


def _by_pco_id(ctx: SyncContext, role: str, pco_ids: list[str]) -> dict[str, Any]:
    if not pco_ids:
        return {}
    model = ctx.roles.model(role)
    return {
        row.pco_id: row
        for row in ctx.session.scalars(select(model).where(model.pco_id.in_(set(pco_ids))))
    }


def _pages(ctx: SyncContext, path: str, **options: Any) -> Iterable[Document]:
    return ctx.client.pages(path, per_page=ctx.config.per_page, **options)
