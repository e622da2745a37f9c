"""The admin's Undo: a finished run's row (and its changes page) has an "Undo" button that
starts the undo as a dry run and shows its preview; "Run it" there starts the real undo.
Routes of the admin blueprint (its access check and CSRF apply).

Records the run created in PCO are deleted only when the admin asks for it explicitly: the
preview lists them with a box to tick, which previews the undo again with their deletion, so
"Run it" always does what its preview showed (PCO people may have gained data since).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import flash, redirect, request, url_for

from flask_pco.exceptions import PcoError
from flask_pco.state import current_pco
from flask_pco.web.admin import admin_blueprint

if TYPE_CHECKING:
    from flask_pco.jobs.queue import Mode

__all__ = ["created_in_pco"]


def _start_preview(**target: Any) -> Any:
    from flask_pco.jobs.undo import start_undo

    mode: Mode = "auto" if current_pco().redis() is not None else "thread"
    delete_created = request.form.get("delete_created") == "yes"
    try:
        run = start_undo(
            dry_run=True, trigger="admin", mode=mode, delete_created=delete_created, **target
        )
    except PcoError as error:
        flash(f"Cannot undo: {error}", "pco-error")
        return redirect(request.referrer or url_for("pco_admin.index"))
    return redirect(url_for("pco_admin.preview_route", run_id=run.id))


@admin_blueprint.post("/runs/<int:run_id>/undo")
def undo_run_route(run_id: int) -> Any:
    """Preview the undo of run ``run_id``: a dry run, then its page."""
    return _start_preview(run_id=run_id)


@admin_blueprint.post("/deliveries/<int:delivery_id>/undo")
def undo_delivery_route(delivery_id: int) -> Any:
    """Preview the undo of webhook delivery ``delivery_id``."""
    return _start_preview(delivery_id=delivery_id)


def created_in_pco(preview: Any) -> list[Any]:
    """The journal entries of what the undone run created in PCO: what the preview's box
    offers to delete. Empty for a preview that is not an undo, or a target gone meanwhile."""
    from flask_pco.sync.undo import check_undoable

    if preview.direction != "undo":
        return []
    options = preview.options or {}
    try:
        target = check_undoable(
            current_pco(), run_id=options.get("run_id"), delivery_id=options.get("delivery_id")
        )
    except PcoError:
        return []
    Entry = target.model
    return target.entries_where(
        current_pco().db.session, Entry.side == "pco", Entry.action == "create"
    )
