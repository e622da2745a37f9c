"""Incremental cursors: where the last complete pull of each PCO resource started.

The cursor is the *start* time of the run, not its end: a record PCO changed while the run was
paging may have been read before the change, and must be read again next time. The overlap
(``PCO_INCREMENTAL_OVERLAP``) covers clock skew and PCO's offset paging over changing data.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from flask_pco.sync.context import SyncContext

__all__ = ["advance_cursor", "incremental_since", "read_cursor"]


def read_cursor(ctx: SyncContext, resource: str) -> datetime | None:
    """When the last complete pull of ``resource`` started, or ``None`` if there was none."""
    row = _row(ctx, resource)
    return row.synced_from if row is not None else None


def incremental_since(ctx: SyncContext, resource: str) -> datetime | None:
    """The ``updated_at`` lower bound for an incremental pull, or ``None`` for a full one."""
    if not ctx.incremental:
        return None
    cursor = read_cursor(ctx, resource)
    if cursor is None:
        return None
    return cursor - timedelta(seconds=ctx.config.incremental_overlap)


def advance_cursor(ctx: SyncContext, resource: str, started_at: datetime) -> None:
    """Move the cursor to ``started_at``; never backwards (a slow old run finishing late)."""
    row = _row(ctx, resource)
    if row is None:
        try:  # a webhook delivery and a run may both make the first cursor of a resource
            with ctx.session.begin_nested():
                ctx.session.add(
                    ctx.models.SyncCursor(
                        organization=ctx.state.organization_key(),
                        resource=resource,
                        synced_from=started_at,
                    )
                )
        except IntegrityError:  # the other made it first: move theirs
            row = _row(ctx, resource)
    if row is not None and row.synced_from < started_at:
        row.synced_from = started_at
    ctx.session.commit()


def _row(ctx: SyncContext, resource: str) -> Any:
    SyncCursor = ctx.models.SyncCursor
    return ctx.session.scalar(
        select(SyncCursor).where(
            SyncCursor.organization == ctx.state.organization_key(),
            SyncCursor.resource == resource,
        )
    )
