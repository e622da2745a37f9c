"""Row helpers the groups pull and its memberships share: find local rows by ``pco_id``, map a
page's records, and upsert one row under the ownership merge.

Kept apart from ``groups`` and ``memberships`` so each of those imports it, not the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select

from flask_pco.client.jsonapi import Document, Resource
from flask_pco.exceptions import DocumentError
from flask_pco.models import Outcome
from flask_pco.sync.context import SyncContext
from flask_pco.sync.journal import record, record_fields
from flask_pco.sync.pull.base import PageTally
from flask_pco.sync.rows import merge_into, new_row, stamp

__all__ = ["existing_rows", "mapped", "rows_by_pco_id", "upsert_row"]


def upsert_row(
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
    existing[pco_id] = row
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


def mapped(
    resources: Iterable[Resource], mapper: Callable[[Resource], Any], type_: str, tally: PageTally
) -> list[tuple[Resource, Any]]:
    """Each resource with its mapped value; a malformed one is an ``invalid`` issue instead."""
    found = []
    for resource in resources:
        try:
            found.append((resource, mapper(resource)))
        except DocumentError as error:
            tally.issue("invalid", type_, str(error), pco_id=resource.id)
    return found


def existing_rows(
    ctx: SyncContext, role: str, document: Document, prefix: str = ""
) -> dict[str, Any]:
    """The local rows of ``role`` linked to the document's records, by ``pco_id``."""
    return rows_by_pco_id(ctx, role, [prefix + r.id for r in document.data])


def rows_by_pco_id(ctx: SyncContext, role: str, pco_ids: Iterable[str]) -> dict[str, Any]:
    """The local rows of ``role`` linked to ``pco_ids``, by ``pco_id``: one query."""
    wanted = set(pco_ids)
    if not wanted:
        return {}
    model = ctx.roles.model(role)
    return {
        row.pco_id: row
        for row in ctx.session.scalars(select(model).where(model.pco_id.in_(wanted)))
    }
