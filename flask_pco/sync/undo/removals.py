"""The ``pco_removal`` rows of an undone run or delivery: once the undo has put a removal's
record back, the row says ``undone`` rather than ``applied``.

The change is journaled under the undo's run (the entry names the undo: no column of the
table needs to), so an undo of the undo marks them ``applied`` again. A removal whose record
the undo left as it was (changed since, gone) keeps ``applied``: it still holds.

A removal the run held for an admin (``pending``) is withdrawn too: approving it later would
take away what the undo meant to keep. It reads ``undone``, and a run left with nothing to
approve stops waiting (``superseded``: a later run asks again if the removal is still due).
Both are journaled, so an undo of the undo makes them wait for the admin again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from flask_pco.models import utcnow
from flask_pco.sync.approvals import WAITING
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
    query = select(Removal).where(made_by, Removal.status.in_(("applied", "pending")))
    marked, waiting = 0, set()
    for removal in ctx.session.scalars(query.order_by(Removal.id)).all():
        if removal.status == "applied" and not _put_back(ctx, removal):
            continue
        if removal.status == "pending" and removal.run_id is not None:
            waiting.add(removal.run_id)
        _journaled(ctx, removal, status=UNDONE, decided_at=utcnow())
        marked += 1
    ctx.session.flush()
    for run_id in sorted(waiting):
        _stop_waiting(ctx, run_id)
    return marked


def _journaled(ctx: SyncContext, row: Any, **values: Any) -> None:
    """Set ``values`` on one of the extension's rows, each change journaled."""
    for name, new in values.items():
        record(ctx, row.__tablename__, "update", local_id=row.id, name=name,
               old=getattr(row, name), new=new)  # fmt: skip
        setattr(row, name, new)


def _stop_waiting(ctx: SyncContext, run_id: int) -> None:
    """The run (and its waiting steps) that held withdrawn removals, when none is left."""
    SyncRun, Removal = ctx.models.SyncRun, ctx.models.Removal
    run = ctx.session.get(SyncRun, run_id)
    top = ctx.session.get(SyncRun, run.parent_id) if run and run.parent_id else run
    if top is None or top.status != WAITING:
        return
    family = [top, *ctx.session.scalars(select(SyncRun).where(SyncRun.parent_id == top.id))]
    still = select(Removal.id).where(
        Removal.run_id.in_([r.id for r in family]), Removal.status == "pending"
    )
    if ctx.session.scalar(still.limit(1)) is not None:
        return  # others still wait (a webhook approval run holds many deliveries' removals)
    note = (
        f"superseded: undone by run {ctx.report.run_id}, which withdrew its held removals "
        "(a later run asks again about any still due)"
    )
    for waiting in family:
        if waiting.status == WAITING:
            _journaled(ctx, waiting, status="superseded", error_message=note)


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
