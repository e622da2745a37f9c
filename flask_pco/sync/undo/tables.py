"""Reverting a change to a row of a table no role names: a host table a merge re-pointed (a
badge, a check-in), or one of the extension's own records a run settled (a held merge closed,
a removal marked undone). The entry names the table, the row's key and the column.

As for a host row of a role, a column is put back only while it holds what the change wrote;
one changed since stays as it is, said in an issue.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, delete, insert, select, update

from flask_pco.sync.context import SyncContext
from flask_pco.sync.journal import record
from flask_pco.sync.policy import comparable
from flask_pco.sync.undo.records import column_value

__all__ = ["EXTENSION_TABLES", "restore_table_field", "table_named", "undo_extension_row"]

#: The extension's records an undo puts back: a held merge an admin's merge closed, a removal
#: an undone run had made (their status, their resolution), a conflict a merge raised, a run
#: that stopped waiting for approval when its held removals were withdrawn.
EXTENSION_TABLES = ("pco_sync_issue", "pco_removal", "pco_conflict", "pco_sync_log")


def table_named(ctx: SyncContext, name: str) -> Table | None:
    """The table ``name`` on the host's metadata (where the extension's tables are too)."""
    people: Table = ctx.roles.model("person").__table__
    return people.metadata.tables.get(name)


def undo_extension_row(ctx: SyncContext, entry: Any) -> None:
    """Revert a change to one of the extension's records: a conflict a merge raised goes
    (while no admin settled it), one such an undo took away comes back, a column goes back."""
    table = table_named(ctx, entry.record_type)
    if table is None or entry.local_id is None:
        _left(ctx, entry, "its table is not in the site's database any more")
    elif entry.action == "create":
        _delete_open(ctx, table, entry)
    elif entry.action == "remove":
        _put_back(ctx, table, entry)
    else:
        restore_table_field(ctx, entry, entry.action)


def _delete_open(ctx: SyncContext, table: Table, entry: Any) -> None:
    key = next(iter(table.primary_key.columns))
    found = ctx.session.execute(select(table).where(key == entry.local_id)).mappings().first()
    if found is None:
        return
    if "resolved_at" in found and found["resolved_at"] is not None:
        _left(ctx, entry, "an admin settled it since")
        return
    ctx.session.execute(delete(table).where(key == entry.local_id))
    values = {name: comparable(value) for name, value in found.items()}
    record(ctx, entry.record_type, "remove", local_id=entry.local_id, old=values)


def _put_back(ctx: SyncContext, table: Table, entry: Any) -> None:
    key = next(iter(table.primary_key.columns))
    if not isinstance(entry.old_value, dict):
        _left(ctx, entry, "the journal does not hold its values")
        return
    if ctx.session.scalar(select(key).where(key == entry.local_id)) is not None:
        return
    values = {
        name: column_value(table.c[name], value)
        for name, value in entry.old_value.items()
        if name in table.c
    }
    ctx.session.execute(insert(table).values(values))
    record(ctx, entry.record_type, "create", local_id=entry.local_id, new=entry.old_value)


def restore_table_field(ctx: SyncContext, entry: Any, action: str) -> None:
    """Put one column of one row back as it was before ``entry``, journaled under ``action``."""
    table = table_named(ctx, entry.record_type)
    if table is None or entry.field not in table.c or entry.local_id is None:
        _left(ctx, entry, "its table is not in the site's database any more")
        return
    key = next(iter(table.primary_key.columns))
    column = table.c[entry.field]
    found = comparable(ctx.session.scalar(select(column).where(key == entry.local_id)))
    if found == comparable(entry.old_value):
        return
    if found != comparable(entry.new_value):
        _left(ctx, entry, f"{entry.field} is {found!r} now, not {entry.new_value!r}")
        return
    value = column_value(column, entry.old_value)
    ctx.session.execute(update(table).where(key == entry.local_id).values({column.name: value}))
    record(ctx, entry.record_type, action, local_id=entry.local_id, name=entry.field,
           old=entry.new_value, new=entry.old_value)  # fmt: skip
    if entry.record_type not in EXTENSION_TABLES:
        ctx.report.count("updated")


def _left(ctx: SyncContext, entry: Any, reason: str) -> None:
    ctx.report.issue(
        "undo",
        entry.record_type,
        f"not undone: {entry.action} of {entry.record_type} {entry.local_id} {entry.field}: "
        f"{reason}",
        local_id=entry.local_id,
    )
