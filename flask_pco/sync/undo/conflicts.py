"""A field an undo would put back but that changed again since the run: a conflict for the
admin, as a change on both sides is, and the field keeps its current value."""

from __future__ import annotations

from typing import Any

from flask_pco.sync.announce import note_conflicts
from flask_pco.sync.context import SyncContext
from flask_pco.sync.policy import comparable

__all__ = ["undo_conflict"]


def undo_conflict(
    ctx: SyncContext,
    role: str,
    row: Any,
    name: str,
    entry: Any,
    *,
    local: Any,
    wanted: Any,
    pco: Any = None,
) -> None:
    """Record that ``name`` was not put back to ``wanted``: the run wrote ``entry.new_value``
    (the conflict's base) and the site now holds ``local`` (PCO, for a push's field, ``pco``).

    ``pco_value`` is what the undo would have written for a local field, and PCO's current
    value for a PCO field. Nothing was overwritten: the admin reads the three values and
    decides; settling it keeps the value the record holds now."""
    conflict = ctx.models.Conflict(
        role=role,
        local_id=row.id,
        pco_id=row.pco_id,
        field=name,
        base_value=comparable(entry.new_value),
        local_value=comparable(local),
        pco_value=comparable(wanted if entry.side == "local" else pco),
    )
    ctx.session.add(conflict)
    note_conflicts(ctx.session, [(conflict, ctx.report.run_id, ctx.delivery_id)])
    ctx.report.issue(
        "undo",
        role,
        f"not undone: {name} of {role} {row.id} changed again since (now {local!r}); "
        "left as it is, see the conflict",
        local_id=row.id,
        pco_id=row.pco_id,
    )
