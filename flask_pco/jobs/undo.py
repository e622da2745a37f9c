"""Starting an undo: refused at once when its target cannot be undone, then run like any sync
(the run slot, RQ or a thread, a dry run for the preview)."""

from __future__ import annotations

from typing import Any

from flask_pco.jobs.queue import Mode, start_sync
from flask_pco.state import current_pco
from flask_pco.sync.undo import check_undoable, undo_options

__all__ = ["start_undo"]


def start_undo(
    *,
    run_id: int | None = None,
    delivery_id: int | None = None,
    delete_created: bool = False,
    dry_run: bool = False,
    trigger: str = "admin",
    mode: Mode = "auto",
) -> Any:
    """Queue the undo of run ``run_id`` (or of webhook delivery ``delivery_id``); a
    ``ConfigError`` says why it cannot be undone before any run row is written."""
    check_undoable(current_pco(), run_id=run_id, delivery_id=delivery_id)
    sync_type, options = undo_options(
        run_id=run_id, delivery_id=delivery_id, delete_created=delete_created
    )
    return start_sync(
        "undo", sync_type, dry_run=dry_run, options=options, trigger=trigger, mode=mode
    )
