"""Writing PCO's values onto local rows: the field-by-field merge under the ownership policy,
the snapshot of what PCO last said, and the bulk helpers every pull and webhook write uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

from flask_pco.models import utcnow
from flask_pco.redaction import first_line
from flask_pco.sync.bulk import insert_many
from flask_pco.sync.context import SyncContext
from flask_pco.sync.journal import record, record_fields
from flask_pco.sync.policy import PCO_OWNED, comparable, merge, record_conflicts

__all__ = [
    "insert_rows",
    "merge_into",
    "new_row",
    "remember_pco_values",
    "set_fields",
    "stamp",
    "touch",
]


def set_fields(
    row: Any, role: str, values: Mapping[str, Any], ctx: SyncContext, action: str = "update"
) -> bool:
    """Write logical fields onto a host row (those it has a column for); True if any changed.

    Each change is journaled under ``action`` (``deactivate`` when a removal clears
    ``is_active``), with the value it replaced.
    """
    changes: dict[str, tuple[Any, Any]] = {}
    for name, value in ctx.roles.known(role, values).items():
        column = ctx.roles.column(role, name)
        old = comparable(getattr(row, column, None))
        if old != comparable(value):
            setattr(row, column, value)
            changes[name] = (old, value)
    if changes:
        record_fields(ctx, role, row, changes, action=action)
    return bool(changes)


def new_row(ctx: SyncContext, role: str, values: Mapping[str, Any], **extra: Any) -> Any:
    """A new host row of ``role`` with PCO's values, agreed with PCO from the start."""
    model = ctx.roles.model(role)
    row = model(**ctx.roles.columns(role, values), **extra)
    remember_pco_values(row, ctx.roles.known(role, values))
    ctx.session.add(row)
    created = {**values, **{k: v for k, v in extra.items() if k != "pco_id"}}
    record(ctx, role, "create", row=row, pco_id=extra.get("pco_id"), new=created)
    return row


def merge_into(
    ctx: SyncContext,
    row: Any,
    role: str,
    pco_values: Mapping[str, Any],
    base: Mapping[str, Any] | None = None,
) -> bool:
    """Pull PCO's values into ``row`` under the ownership policy; True if the row changed.

    Fields only PCO changed are taken; fields only the site changed are left for push; fields
    both changed take PCO's value and leave a ``Conflict`` row. The snapshot then records PCO's
    values, not the row's: a local edit still waiting for push must still differ from it.
    """
    synced = ctx.roles.synced(role) if role in PCO_OWNED else tuple(pco_values)
    fields = tuple(f for f in synced if f in pco_values and ctx.roles.present(role, f))
    local = {f: comparable(getattr(row, ctx.roles.column(role, f), None)) for f in fields}
    base = row.pco_snapshot if base is None else base
    result = merge(base, local, pco_values, fields, ctx.roles.rules_of(role))
    record_conflicts(ctx, role, row, result.conflicts)
    changed = set_fields(row, role, result.to_local, ctx)
    remember_pco_values(row, {f: pco_values[f] for f in fields})
    return changed


def remember_pco_values(row: Any, values: Mapping[str, Any]) -> None:
    """Record PCO's side in the snapshot (a new dict, so the JSON column sees the change)."""
    snapshot = dict(row.pco_snapshot or {})
    snapshot.update({k: comparable(v) for k, v in values.items()})
    if snapshot != (row.pco_snapshot or None):
        row.pco_snapshot = snapshot


def stamp(row: Any, pco_id: str, updated_at: Any = None) -> None:
    """Link ``row`` to its PCO record and note when they last agreed (rows that changed)."""
    if row.pco_id != pco_id:
        row.pco_id = pco_id
    if updated_at is not None and row.pco_updated_at != updated_at:
        row.pco_updated_at = updated_at
    row.pco_synced_at = utcnow()


def touch(ctx: SyncContext, role: str, ids: Sequence[int]) -> None:
    """Note that unchanged rows still agree with PCO: one UPDATE for the page, not one per row."""
    if not ids:
        return
    model = ctx.roles.model(role)
    ctx.session.execute(
        update(model)
        .where(model.id.in_(ids))
        .values(pco_synced_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def insert_rows(ctx: SyncContext, model: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` (attribute names as keys) in one executemany per set of keys, bypassing
    the ORM's units and SQLAlchemy's per-row parameter processing (``bulk.insert_many``).

    The driver runs one short statement per row: psycopg sends them all in one pipeline and
    sqlite3 reuses one prepared statement. That is cheaper than one multi-row statement (what
    RETURNING would need), which has a placeholder per value and which psycopg parses in
    Python on every call.
    """
    mapper = sa_inspect(model)
    column = {prop.key: prop.columns[0].key for prop in mapper.column_attrs}
    params = [{column[k]: v for k, v in row.items()} for row in rows]
    insert_many(ctx.session, mapper.local_table, params)


#: How the issue of a record the site's database refused begins: pulls look for it to retry.
NOT_WRITTEN = "not written: "


def not_written(error: DBAPIError) -> str:
    """The issue reason for a record the database refused: its one-line, redacted reason."""
    return NOT_WRITTEN + (first_line(error.orig) if error.orig else type(error).__name__)


def too_long(ctx: SyncContext, role: str, values: Mapping[str, Any]) -> str | None:
    """Why ``values`` do not fit the host's ``role`` table: the first text longer than its
    column, or None. PostgreSQL refuses such a value (and with it the page), SQLite keeps it;
    checking first lets one record be skipped, named, on both."""
    if not ctx.roles.has(role):
        return None
    limits = ctx.memo.setdefault(f"column_limits:{role}", {})  # name -> (limit, column)
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        if name not in limits:
            column = ctx.roles.column(role, name)
            # None where the host has no such column, or an unbounded one.
            limits[name] = (column_length(ctx.roles.model(role), column), column)
        limit, column = limits[name]
        if limit is not None and len(value) > limit:
            model = ctx.roles.model(role)
            table = getattr(model, "__tablename__", model.__name__)
            return f"{name} is {len(value)} characters long; {table}.{column} holds {limit}"
    return None


#: Host column lengths, by (model, attribute): read from the mapper once per process.
_LENGTHS: dict[tuple[type[Any], str], int | None] = {}


def column_length(model: type[Any], attribute: str) -> int | None:
    """The declared length of a host column (``String(120)``), None for unbounded text."""
    key = (model, attribute)
    if key not in _LENGTHS:
        try:
            column = sa_inspect(model).columns[attribute]
        except KeyError:
            _LENGTHS[key] = None
        else:
            length = getattr(column.type, "length", None)
            _LENGTHS[key] = length if isinstance(length, int) else None
    return _LENGTHS[key]
