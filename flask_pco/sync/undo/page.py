"""A page of an undo's entries, read and written in bulk: what keeps a 50,000-person undo from
costing a query per entry.

Before a page is reverted, the rows its entries name are loaded in one query per role (by
local id, and by PCO id for a contact journaled by it), and, for the rows the run created, the
rows of every table that points at them, one query per table. Reverting an entry then reads
those instead of asking the database. Rows the page deletes are deleted at its end, one
statement per table (the tables that point at others first), and read as gone until then; any
other kind of entry (one that may read the database, or commit on its own) has them deleted
first, so the database is never behind what was journaled.

The page lives in ``ctx.memo`` while it is reverted; without one (a caller outside an undo's
loop) every look-up asks the database as before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy import inspect as sa_inspect

from flask_pco.sync.context import SyncContext

__all__ = ["Page", "current_page", "flush_deletes", "forget_pointing", "reverting_page"]

_KEY = "undo_page"
#: Ids per ``IN (...)``: under every database's limit on bound parameters.
_CHUNK = 500


@dataclass
class Page:
    """What one page of entries reads and deletes."""

    #: (role, PCO id) → the row linked to it, for the entries that name no local id.
    by_pco: dict[tuple[str, str], Any] = field(default_factory=dict)
    #: (role, local id) asked for and not found.
    missing: set[tuple[str, int]] = field(default_factory=set)
    #: Rows this page deleted, by (role, id) and by (table, id): find_row asks by role,
    #: ``dependents`` by table.
    gone: set[tuple[str, int]] = field(default_factory=set)
    #: (table, id) → {(table, id) of a row pointing at it: that row (a role's) or None}.
    pointing: dict[tuple[str, int], dict[tuple[str, int], Any]] = field(default_factory=dict)
    #: Table → ids to delete at the page's end.
    deletes: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    #: The rows read: the session holds them weakly, the page for as long as it is reverted.
    held: list[Any] = field(default_factory=list)


def current_page(ctx: SyncContext) -> Page | None:
    return ctx.memo.get(_KEY)


@contextmanager
def reverting_page(ctx: SyncContext, entries: Sequence[Any]) -> Iterator[Page]:
    """Load what ``entries`` name, revert them in the body, then make the page's deletes."""
    page = Page()
    _load_rows(ctx, page, entries)
    ctx.memo[_KEY] = page
    try:
        yield page
        flush_deletes(ctx)
    finally:
        ctx.memo.pop(_KEY, None)


def _load_rows(ctx: SyncContext, page: Page, entries: Sequence[Any]) -> None:
    by_id: dict[str, set[int]] = defaultdict(set)
    by_pco: dict[str, set[str]] = defaultdict(set)
    created: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        role = entry.record_type
        if entry.side != "local" or not ctx.roles.has(role):
            continue
        if entry.local_id is not None:
            by_id[role].add(entry.local_id)
            if entry.action == "create":
                created[role].add(entry.local_id)
        elif entry.pco_id is not None:
            by_pco[role].add(str(entry.pco_id))
    for role, ids in by_id.items():
        model = ctx.roles.model(role)
        page.held += _in_chunks(ctx, select(model), model.id, ids)
        found = {row.id for row in page.held if isinstance(row, model)}
        page.missing |= {(role, i) for i in ids - found}
    for role, pco_ids in by_pco.items():
        model = ctx.roles.model(role)
        for row in _in_chunks(ctx, select(model), model.pco_id, pco_ids):
            page.by_pco[(role, row.pco_id)] = row
            created[role].add(row.id)  # a contact journaled by PCO id: maybe a create
    _load_pointing(ctx, page, created)


def _load_pointing(ctx: SyncContext, page: Page, created: dict[str, set[int]]) -> None:
    """The rows pointing at the rows ``created`` names: one query per table and key."""
    by_table = {sa_inspect(m).local_table: m for m in ctx.roles.classes.values()}
    for role, ids in created.items():
        table = sa_inspect(ctx.roles.model(role)).local_table
        for row_id in ids:
            page.pointing[(table.name, row_id)] = {}
        for other in table.metadata.sorted_tables:
            for key in other.foreign_keys:
                if key.column.table is not table or other is table:
                    continue
                _load_pointing_from(ctx, page, table, other, key.parent, by_table.get(other), ids)


def _load_pointing_from(
    ctx: SyncContext, page: Page, table: Table, other: Table, column: Any, model: Any, ids: set[int]
) -> None:
    pk = next(iter(other.primary_key.columns))
    if model is not None:
        attribute = sa_inspect(model).get_property_by_column(column).key
        for row in _in_chunks(ctx, select(model), column, ids):
            page.held.append(row)
            page.pointing[(table.name, getattr(row, attribute))][(other.name, row.id)] = row
        return
    for dependent_id, target in _in_chunks(ctx, select(pk, column), column, ids, rows=True):
        page.pointing[(table.name, target)][(other.name, dependent_id)] = None


def _in_chunks(
    ctx: SyncContext, query: Any, column: Any, values: set[Any], *, rows: bool = False
) -> Iterator[Any]:
    ordered = sorted(values)
    for start in range(0, len(ordered), _CHUNK):
        chosen = query.where(column.in_(ordered[start : start + _CHUNK]))
        yield from (ctx.session.execute(chosen) if rows else ctx.session.scalars(chosen))


def flush_deletes(ctx: SyncContext) -> None:
    """Make the page's deletes now: the rows pointing at others first."""
    page = current_page(ctx)
    if page is None or not page.deletes:
        return
    people: Table = ctx.roles.model("person").__table__
    for table in reversed(people.metadata.sorted_tables):
        ids = page.deletes.pop(table.name, None)
        if not ids:
            continue
        pk = next(iter(table.primary_key.columns))
        for start in range(0, len(ids), _CHUNK):
            ctx.session.execute(delete(table).where(pk.in_(ids[start : start + _CHUNK])))


def forget_pointing(ctx: SyncContext) -> None:
    """Rows were moved or put back: what the page read of who points at whom may be stale, so
    the rest of the page asks the database (``dependents``) again."""
    page = current_page(ctx)
    if page is not None:
        page.pointing.clear()
