"""The ``pco_removal`` rows of an undone run or delivery: once the undo has put a removal's
record back, the row says ``undone`` rather than ``applied``.

The change is journaled under the undo's run (the entry names the undo: no column of the
table needs to), so an undo of the undo marks them ``applied`` again. A removal whose record
the undo left as it was (changed since, gone) keeps ``applied``: it still holds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from flask_pco.models import utcnow
from flask_pco.sync.context import SyncContext
from flask_pco.sync.journal import record
from flask_pco.sync.undo.target import Target

__all__ = ["UNDONE", "mark_removals_undone"]

#: The status of a removal whose run (or delivery) was undone.
UNDONE = "undone"


def mark_removals_undone(ctx: SyncContext, target: Target) -> int:
    """Mark ``undone`` the applied removals of ``target`` whose record is back; how many."""
    Removal = ctx.models.Removal
    if target.delivery_id is not None:
        made_by = Removal.delivery_id == target.delivery_id
    else:
        made_by = Removal.run_id.in_(target.run_ids)
    query = select(Removal).where(made_by, Removal.status == "applied").order_by(Removal.id)
    marked = 0
    for removal in ctx.session.scalars(query):
        if not _put_back(ctx, removal):
            continue
        changes = {"status": (removal.status, UNDONE), "decided_at": (removal.decided_at, utcnow())}
        for name, (old, new) in changes.items():
            record(ctx, Removal.__tablename__, "update", local_id=removal.id, name=name,
                   old=old, new=new)  # fmt: skip
        removal.status, removal.decided_at = UNDONE, changes["decided_at"][1]
        marked += 1
    return marked


def _put_back(ctx: SyncContext, removal: Any) -> bool:
    """Whether the record ``removal`` took away is as it was before it."""
    if not ctx.roles.has(removal.role):
        return False
    row = ctx.session.get(ctx.roles.model(removal.role), removal.local_id)
    if row is None:
        return False
    if removal.action == "unlink":
        return bool(row.pco_id == removal.pco_id)
    if removal.action == "merge":
        return row.pco_merged_into is None
    return row.pco_removed_at is None
