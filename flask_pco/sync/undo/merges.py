"""Undoing a merge of two local people (``sync.merges``), entry by entry: the retired row is
current again, the local-owned values and the rows that were moved go back to it, and the
memberships PCO ended with the removed profile are current again.

Each reversal is journaled as a ``merge`` too, so an undo of the undo merges again.
"""

from __future__ import annotations

from typing import Any

from flask_pco.sync.context import SyncContext
from flask_pco.sync.undo.local import restore_field
from flask_pco.sync.undo.tables import restore_table_field
from flask_pco.sync.undo.target import Target

__all__ = ["undo_merge"]


def undo_merge(ctx: SyncContext, target: Target, entry: Any) -> None:
    """Revert one entry of a merge: a field of a registered model, or a host table's row."""
    if ctx.roles.has(entry.record_type):
        restore_field(ctx, entry, action="merge")
        return
    restore_table_field(ctx, entry, "merge")  # a host table's row (a badge, a check-in)
