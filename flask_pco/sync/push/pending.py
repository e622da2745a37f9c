"""Which local rows may need a push, decided by the database.

A push with nothing to push used to read every person, email and phone to compare each with
its snapshot: its time and memory grew with the database. ``may_need_push`` is a WHERE clause
that keeps the rows that are unlinked, have no snapshot, or hold a synced column (PCO-owned or custom) whose text
differs from the snapshot's value of it, so the database hands over only those and the exact
comparison (``changed_locally``'s) runs on them alone.

The clause may keep a row that has not changed (a value whose text forms differ, such as
surrounding spaces the exact comparison ignores, or a date in another ``DateStyle``), never
drop one that has: a kept row is compared exactly afterwards, a dropped one would not be
pushed. Both sides are compared as text (``CAST``), since SQLite keeps a boolean as 1 and its
JSON ``true`` comes back as 1, while PostgreSQL writes both as ``true``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import String, cast, or_

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

    from flask_pco.sync.context import SyncContext

__all__ = ["may_need_push", "owned_columns"]


def owned_columns(ctx: SyncContext, role: str) -> list[tuple[str, str]]:
    """(logical name, host column) of the synced fields ``role``'s model has: PCO-owned
    ones and custom fields, less those the host's rules leave out."""
    model = ctx.roles.model(role)
    owned = [(name, ctx.roles.column(role, name)) for name in ctx.roles.synced(role)]
    return [(name, column) for name, column in owned if hasattr(model, column)]


def may_need_push(ctx: SyncContext, role: str) -> ColumnElement[bool]:
    """The rows of ``role`` that are unlinked, or may have changed here since the last sync."""
    model: Any = ctx.roles.model(role)
    snapshot = model.pco_snapshot
    conditions = [
        model.pco_id.is_(None),
        snapshot.is_(None),
        cast(snapshot, String) == "null",  # a JSON null, as SQLAlchemy stores Python's None
    ]
    for name, column in owned_columns(ctx, role):
        remembered = cast(snapshot[name].as_string(), String)
        conditions.append(cast(getattr(model, column), String).is_distinct_from(remembered))
    return or_(*conditions)
