"""``pull groups``: PCO group types and groups into the local hierarchy, then memberships.

PCO's flat GroupType → Group becomes, locally, department → area → group: one department named
``PCO_GROUPS_DEPARTMENT`` ("PCO Groups"), each group type an area under it, each group under its
area. Group types and groups are separate id spaces in PCO but share ``church_group.pco_id``
locally, so an area's ``pco_id`` is ``"type:<id>"``. Only name, description, kind and parent are
written; the site's own group metadata (meeting day, childcare, ...) is never touched.

Each group's memberships follow (``memberships``), members not local yet pulled on demand; an
incremental run lists only the groups whose memberships may have changed (``group_listings``).
``options["group_id"]`` syncs that one PCO group "now" (the spec's "manually update a specific
group"): the group, its area, its memberships and any member not local yet; a group PCO does
not have fails the run, naming it, with a ``not_found`` issue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select

from flask_pco.client.ids import path_id
from flask_pco.client.jsonapi import Document
from flask_pco.exceptions import NotFoundError, ValidationError
from flask_pco.mapping.groups import GroupData, group_from_resource, group_type_from_resource
from flask_pco.models import utcnow
from flask_pco.sync.context import SyncContext
from flask_pco.sync.cursors import advance_cursor
from flask_pco.sync.engine import step
from flask_pco.sync.journal import record
from flask_pco.sync.pull.base import PageTally, run_pages
from flask_pco.sync.pull.group_listings import LISTED_ALL, groups_to_list
from flask_pco.sync.pull.group_rows import existing_rows, mapped, rows_by_pco_id, upsert_row
from flask_pco.sync.pull.memberships import MemberPuller, pull_memberships
from flask_pco.sync.selection import missing_message

__all__ = ["TYPE_PREFIX", "fetch_group", "pull_groups", "pull_memberships", "write_group"]

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
    started = utcnow()
    run_pages(ctx, _pages(ctx, "/groups/v2/group_types"), _types_handler(ctx))
    counts: dict[str, int | None] = {}
    groups = _pages(ctx, "/groups/v2/groups", include=("group_type",))
    run_pages(ctx, groups, _groups_handler(ctx, counts), progress=False)
    listing = groups_to_list(ctx, counts)
    ctx.report.expect(len(listing))
    members = MemberPuller(ctx)
    complete = True
    for pco_id in listing:
        complete &= pull_memberships(ctx, pco_id, members)
        ctx.report.advance()
    if complete and len(listing) == len(counts):
        advance_cursor(ctx, LISTED_ALL, started)


def _pull_one_group(ctx: SyncContext, pco_id: str) -> None:
    """Pull one group, its area and its members; a group PCO does not have fails the run."""
    try:
        document = fetch_group(ctx, pco_id)
    except NotFoundError:
        reason = missing_message("group", [pco_id])
        ctx.report.issue("not_found", "Group", reason, pco_id=pco_id)
        ctx.report.checkpoint(force=True)
        raise NotFoundError(404, message=reason) from None
    pulled: dict[str, int | None] = {}
    run_pages(ctx, [document], lambda doc, tally: pulled.update(write_group(ctx, doc, tally)))
    members = MemberPuller(ctx)
    for group_pco_id in pulled:
        pull_memberships(ctx, group_pco_id, members)


def fetch_group(ctx: SyncContext, pco_id: str) -> Document:
    """One PCO group with its group type (one GET); ``NotFoundError`` if PCO has no such group."""
    return ctx.client.get(f"/groups/v2/groups/{path_id(pco_id)}", params={"include": "group_type"})


def write_group(ctx: SyncContext, document: Document, tally: PageTally) -> dict[str, int | None]:
    """Write a fetched group (``fetch_group``), its area first when it is not local yet (one
    more GET); return the groups written, PCO id → PCO's member count. The caller commits."""
    type_ids = {str(t) for r in document.data if (t := r.related_id("group_type"))}
    local = rows_by_pco_id(ctx, "group", [TYPE_PREFIX + t for t in type_ids])
    for type_id in sorted(t for t in type_ids if TYPE_PREFIX + t not in local):
        try:
            group_type = ctx.client.get(f"/groups/v2/group_types/{path_id(type_id)}")
        except (NotFoundError, ValidationError) as error:  # the group lands under the department
            tally.issue("invalid", "GroupType", f"group type {type_id}: {error}", pco_id=type_id)
            continue
        _types_handler(ctx)(group_type, tally)
    pulled: dict[str, int | None] = {}
    _groups_handler(ctx, pulled)(document, tally)
    return pulled


def _types_handler(ctx: SyncContext) -> Callable[[Document, PageTally], None]:
    def handle(document: Document, tally: PageTally) -> None:
        department = _department(ctx)
        existing = existing_rows(ctx, "group", document, TYPE_PREFIX)
        for resource, data in mapped(document.data, group_type_from_resource, "GroupType", tally):
            values = {
                "name": data.name,
                "kind": "area",
                "parent_id": department.id,
                "description": data.description,
            }
            tally.count(upsert_row(ctx, "group", TYPE_PREFIX + resource.id, values, existing))

    return handle


def _groups_handler(
    ctx: SyncContext, pulled: dict[str, int | None]
) -> Callable[[Document, PageTally], None]:
    def handle(document: Document, tally: PageTally) -> None:
        department = _department(ctx)
        groups = [data for _, data in mapped(document.data, group_from_resource, "Group", tally)]
        areas = rows_by_pco_id(
            ctx, "group", [TYPE_PREFIX + g.group_type_id for g in groups if g.group_type_id]
        )
        existing = existing_rows(ctx, "group", document)
        for group in groups:
            tally.count(
                upsert_row(
                    ctx, "group", group.pco_id, _group_values(group, areas, department), existing
                )
            )
            pulled[group.pco_id] = group.memberships_count

    return handle


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
        values = {"name": name, "kind": "department"}
        row = model(**{column("group", k): v for k, v in values.items()})
        ctx.session.add(row)
        ctx.session.flush()
        record(ctx, "group", "create", row=row, new=values)  # so an undo can take it away
    return row


def _pages(ctx: SyncContext, path: str, **options: Any) -> Iterable[Document]:
    return ctx.client.pages(path, per_page=ctx.config.per_page, **options)
