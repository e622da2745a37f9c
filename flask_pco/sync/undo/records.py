"""Host rows as an undo sees them: found from a journal entry, dumped to JSON so a deleted
row can be put back with its own id, and checked for data only the site has."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy import inspect as sa_inspect

from flask_pco.sync.context import SyncContext
from flask_pco.sync.policy import comparable
from flask_pco.sync.undo.page import current_page, flush_deletes

__all__ = [
    "delete_row",
    "dependents",
    "dump",
    "find_row",
    "python_value",
    "reinsert",
    "set_column",
]

#: Columns that say how a row stands with PCO, not what the site knows about the record.
BOOKKEEPING = (
    "id",
    "pco_id",
    "pco_updated_at",
    "pco_synced_at",
    "pco_snapshot",
    "pco_misses",
    "pco_removed_at",
    "pco_removed_run",
    "pco_merged_into",
)


def find_row(ctx: SyncContext, role: str, local_id: int | None, pco_id: str | None) -> Any:
    """The host row an entry names: by local id, else by PCO id (a contact inserted in bulk)."""
    model = ctx.roles.model(role)
    page = current_page(ctx)
    if local_id is not None:
        if page is not None and ((role, local_id) in page.missing or (role, local_id) in page.gone):
            return None  # not there when the page was read, or deleted by the page
        return ctx.session.get(model, local_id)  # a page read it: from the session
    if pco_id is None:
        return None
    if page is not None and (role, str(pco_id)) in page.by_pco:
        row = page.by_pco[(role, str(pco_id))]
        return None if (role, row.id) in page.gone else row
    return ctx.session.scalar(select(model).where(model.pco_id == pco_id))


def dump(row: Any) -> dict[str, Any]:
    """Every column of ``row`` by attribute name, in JSON form: what ``reinsert`` needs."""
    mapper = sa_inspect(type(row))
    return {prop.key: comparable(getattr(row, prop.key)) for prop in mapper.column_attrs}


def python_value(model: type[Any], attribute: str, value: Any) -> Any:
    """A JSON-form value (an ISO date) as the host column holds it."""
    try:
        column = sa_inspect(model).columns[attribute]
    except KeyError:
        return value
    return column_value(column, value)


def column_value(column: Any, value: Any) -> Any:
    """A JSON-form value (an ISO date or time) as ``column`` holds it."""
    if not isinstance(value, str):
        return value
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return value
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value[:10])
    return value


def set_column(row: Any, attribute: str, value: Any) -> None:
    setattr(row, attribute, python_value(type(row), attribute, value))


def reinsert(ctx: SyncContext, role: str, local_id: int | None, values: dict[str, Any]) -> Any:
    """Put a deleted row back under its old id, from a ``dump`` or from logical fields (what a
    pull journals for a contact it deleted); the new row, or None if the id is taken."""
    model = ctx.roles.model(role)
    if local_id is not None and ctx.session.get(model, local_id) is not None:
        return None
    mapper = sa_inspect(model)
    attributes = {prop.key for prop in mapper.column_attrs}
    columns = values if "id" in values else ctx.roles.columns(role, values)
    row_values = {k: python_value(model, k, v) for k, v in columns.items() if k in attributes}
    if "id" not in values:
        row_values["pco_snapshot"] = {
            k: comparable(v) for k, v in ctx.roles.known(role, values).items()
        }
    if local_id is not None:
        row_values["id"] = local_id
    flush_deletes(ctx)  # an id this page deleted is free again only once it is deleted
    ctx.session.execute(insert(mapper.local_table), [_by_column(mapper, row_values)])
    page = current_page(ctx)
    if page is not None:
        page.pointing.clear()  # a row back may point at one the page read: ask again
        if local_id is not None:
            page.gone.discard((role, local_id))
            page.missing.discard((role, local_id))
    return ctx.session.get(model, local_id) if local_id is not None else None


def _by_column(mapper: Any, values: dict[str, Any]) -> dict[str, Any]:
    by_key = {prop.key: prop.columns[0].key for prop in mapper.column_attrs}
    return {by_key.get(k, k): v for k, v in values.items()}


def dependents(ctx: SyncContext, row: Any) -> tuple[list[Any], int]:
    """Rows pointing at ``row`` by a foreign key: (those PCO made, which go with it; how many
    others, which hold data only the site has: a check-in, an email typed in here)."""
    table = sa_inspect(type(row)).local_table
    page = current_page(ctx)
    if page is not None and (table.name, row.id) in page.pointing:
        pointing = page.pointing[(table.name, row.id)]
        alive = [found for key, found in pointing.items() if key not in page.gone]
        linked = [found for found in alive if found is not None and found.pco_id is not None]
        return linked, len(alive) - len(linked)
    made_by_pco: list[Any] = []
    others = 0
    by_table = {sa_inspect(m).local_table: (role, m) for role, m in ctx.roles.classes.items()}
    for other in table.metadata.sorted_tables:
        for key in other.foreign_keys:
            if key.column.table is not table or other is table:
                continue
            condition = key.parent == row.id
            if other in by_table:
                model = by_table[other][1]
                linked = list(ctx.session.scalars(select(model).where(condition)))
                made_by_pco += [r for r in linked if r.pco_id is not None]
                others += sum(1 for r in linked if r.pco_id is None)
            else:
                count = select(func.count()).select_from(other).where(condition)
                others += int(ctx.session.scalar(count) or 0)
    return made_by_pco, others


def delete_row(ctx: SyncContext, role: str, row: Any) -> None:
    """Delete ``row``: at the page's end with the page's other deletes, or now without one."""
    page = current_page(ctx)
    if page is None:
        ctx.session.delete(row)
        ctx.session.flush()
        return
    table = sa_inspect(type(row)).local_table
    page.gone |= {(table.name, row.id), (role, row.id)}
    page.deletes[table.name].append(row.id)
    ctx.session.expunge(row)  # the unit of work must not write it back, nor the ORM return it
