"""Undoing a merge of two local people (``sync.merges``), entry by entry: the retired row is
current again, the local-owned values and the rows that were moved go back to it, and the
memberships PCO ended with the removed profile are current again.

Each reversal is journaled as a ``merge`` too, so an undo of the undo merges again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select, update

from flask_pco.sync.context import SyncContext
from flask_pco.sync.journal import record
from flask_pco.sync.undo.local import restore_field
from flask_pco.sync.undo.target import Target

__all__ = ["undo_merge"]


def undo_merge(ctx: SyncContext, target: Target, entry: Any) -> None:
    """Revert one entry of a merge: a field of a registered model, or a host table's row."""
    if ctx.roles.has(entry.record_type):
        restore_field(ctx, entry, action="merge")
        return
    _move_back(ctx, entry)


def _move_back(ctx: SyncContext, entry: Any) -> None:
    """A row of a host table (a badge, a check-in) the merge re-pointed: pointed back."""
    table = _table(ctx, entry.record_type)
    if table is None or entry.field not in table.c or entry.local_id is None:
        _left(ctx, entry, "its table is not in the site's database any more")
        return
    key = next(iter(table.primary_key.columns))
    column = table.c[entry.field]
    found = ctx.session.scalar(select(column).where(key == entry.local_id))
    if found == entry.old_value:
        return
    if found != entry.new_value:
        _left(ctx, entry, f"{entry.field} is {found!r} now, not {entry.new_value!r}")
        return
    ctx.session.execute(
        update(table).where(key == entry.local_id).values({column.name: entry.old_value})
    )
    record(ctx, entry.record_type, "merge", local_id=entry.local_id, name=entry.field,
           old=entry.new_value, new=entry.old_value)  # fmt: skip
    ctx.report.count("updated")


def _table(ctx: SyncContext, name: str) -> Table | None:
    people: Table = ctx.roles.model("person").__table__
    return people.metadata.tables.get(name)


def _left(ctx: SyncContext, entry: Any, reason: str) -> None:
    ctx.report.issue(
        "undo",
        entry.record_type,
        f"not undone: merge of {entry.record_type} {entry.local_id} {entry.field}: {reason}",
        local_id=entry.local_id,
    )
