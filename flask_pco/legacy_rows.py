"""Rows an OAuth site stored before its organisation was asked of PCO, moved to their key.

Until 4 Dec 2026 every OAuth token reported the organisation key ``oauth``; the first process
that learns the organisation re-keys runs and cursors (``PcoState._adopt_legacy_rows``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, not_, select, update
from sqlalchemy.orm import aliased

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy

    from flask_pco.models import PcoModels

__all__ = ["move_rows"]


def move_rows(db: SQLAlchemy, models: PcoModels, old: str, new: str) -> None:
    """Re-key runs and cursors from ``old`` to ``new`` in a transaction of its own (the caller
    may be inside one); a look first, as only the first process after an upgrade finds any."""
    SyncRun, SyncCursor = models.SyncRun, models.SyncCursor
    with db.engine.begin() as connection:
        found = (
            select(SyncRun.id)
            .where(SyncRun.organization == old)
            .union_all(select(SyncCursor.id).where(SyncCursor.organization == old))
        )
        if connection.execute(found.limit(1)).first() is None:
            return
        # A cursor the new key already has is newer than the old one's.
        taken = select(SyncCursor.resource).where(SyncCursor.organization == new)
        connection.execute(
            update(SyncCursor)
            .where(SyncCursor.organization == old, SyncCursor.resource.not_in(taken))
            .values(organization=new)
        )
        connection.execute(delete(SyncCursor).where(SyncCursor.organization == old))
        connection.execute(
            update(SyncRun)
            .where(SyncRun.organization == old, not_(_holds_slot(SyncRun)))
            .values(organization=new)
        )
        # A run still active under the old key keeps the slot, unless one already holds it.
        other = aliased(SyncRun)
        held = select(other.id).where(other.organization == new, _holds_slot(other)).exists()
        connection.execute(
            update(SyncRun).where(SyncRun.organization == old, ~held).values(organization=new)
        )


def _holds_slot(run: Any) -> Any:
    """``ACTIVE_TOP_LEVEL`` as columns, so it can name either side of a self-join."""
    return and_(run.parent_id.is_(None), run.status.in_(("queued", "running")))
