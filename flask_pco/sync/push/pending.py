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

On PostgreSQL a ``json`` snapshot is parsed again for every ``->>``, so the per-key form cost
~1.2 s on 50,000 people (bench/README). There the row's plain columns are built into one
``jsonb`` object and kept unless the snapshot, cast to ``jsonb`` once, contains it (~0.45 s).
Containment of scalars is equality, so a contained row holds its snapshot's values; a value
whose JSON form differs (a string against a number, a missing key) only keeps the row. Columns
holding JSON or arrays, which containment would match as subsets, stay per key.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import ARRAY, JSON, String, and_, cast, func, literal, not_, or_, type_coerce

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

    from flask_pco.sync.context import SyncContext

__all__ = ["may_need_push", "owned_columns"]

#: Pairs per ``jsonb_build_object``: PostgreSQL takes at most 100 arguments to a function.
_PAIRS_PER_OBJECT = 50


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
    owned = [(name, getattr(model, column)) for name, column in owned_columns(ctx, role)]
    if ctx.session.get_bind().dialect.name == "postgresql":
        plain = [(name, col) for name, col in owned if not isinstance(col.type, (JSON, ARRAY))]
        conditions += _not_contained(snapshot, plain)
        owned = [(name, col) for name, col in owned if isinstance(col.type, (JSON, ARRAY))]
    for name, col in owned:
        remembered = cast(snapshot[name].as_string(), String)
        conditions.append(cast(col, String).is_distinct_from(remembered))
    return or_(*conditions)


def _not_contained(snapshot: Any, owned: list[tuple[str, Any]]) -> list[ColumnElement[bool]]:
    """PostgreSQL: the snapshot does not hold each column's current value.

    ``changed_locally`` reads a key the snapshot lacks as None, so a row the snapshot does not
    contain is looked at again with the snapshot laid over those keys set to null: a column
    still empty matches a key never written. Snapshots that hold every key (a pulled person's)
    pay for the first look only.
    """
    from sqlalchemy.dialects.postgresql import JSONB  # only ever on PostgreSQL

    parsed = cast(snapshot, JSONB)
    conditions = []
    for start in range(0, len(owned), _PAIRS_PER_OBJECT):
        pairs = owned[start : start + _PAIRS_PER_OBJECT]
        current = func.jsonb_build_object(
            *(part for name, col in pairs for part in (literal(name, String), col))
        )
        empty = cast(literal(json.dumps(dict.fromkeys(name for name, _ in pairs)), String), JSONB)
        remembered = type_coerce(empty.op("||")(parsed), JSONB)
        conditions.append(and_(not_(parsed.contains(current)), not_(remembered.contains(current))))
    return conditions
