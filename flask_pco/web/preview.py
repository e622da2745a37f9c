"""Preview before a sync: the admin page's "Preview" runs the chosen sync as a dry run, and its
page shows the counts and the planned changes, a page at a time, with "Run it" to start the
real run. Routes of the admin blueprint (its access check and CSRF apply).

"Run it" starts the same sync afresh: it reads PCO again and applies what it finds, never the
plan's values. Once it ends, the page compares its journal with the plan and says what differs
(PCO changed in between), so the admin knows the preview no longer told the whole story.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import abort, flash, redirect, render_template, request, url_for

from flask_pco.exceptions import PcoError
from flask_pco.state import current_pco
from flask_pco.web.admin import admin_blueprint

if TYPE_CHECKING:
    from flask_pco.jobs.queue import Mode

__all__: list[str] = []

#: Planned changes per page of the preview's table.
PAGE_SIZE = 50
#: How many of the changes that differ from the preview the outcome lists.
DIFFERENCES_SHOWN = 50
_ACTIVE = ("queued", "running")


def _start(**kwargs: Any) -> Any:
    from flask_pco.jobs.queue import start_sync

    mode: Mode = "auto" if current_pco().redis() is not None else "thread"
    return start_sync(trigger="admin", mode=mode, **kwargs)


@admin_blueprint.post("/previews")
def start_preview_route() -> Any:
    """Start the chosen sync as a dry run and go to its preview page."""
    from flask_pco.web.admin_data import sync_request

    try:
        action = sync_request(request.form)
        run = _start(
            direction=action.direction,
            sync_type=action.sync_type,
            incremental=action.incremental,
            options=dict(action.options),
            dry_run=True,
        )
    except PcoError as error:
        flash(str(error), "pco-error")
        return redirect(url_for("pco_admin.index"))
    return redirect(url_for("pco_admin.preview_route", run_id=run.id))


@admin_blueprint.post("/previews/<int:run_id>/run")
def run_preview_route(run_id: int) -> Any:
    """Start the real run of a finished preview; its page then shows how it went."""
    preview = _preview_run(run_id)
    options = dict(preview.options or {})  # an undo's: with the deletes it previewed, or none
    try:
        run = _start(
            direction=preview.direction,
            sync_type=preview.sync_type,
            incremental=bool(preview.incremental),
            options=options,
        )
    except PcoError as error:
        flash(str(error), "pco-error")
        return redirect(url_for("pco_admin.preview_route", run_id=run_id))
    return redirect(url_for("pco_admin.preview_route", run_id=run_id, run=run.id))


@admin_blueprint.get("/previews/<int:run_id>")
def preview_route(run_id: int) -> str:
    """The preview's counts and planned changes; with ``?run=``, how that real run went."""
    from flask_pco.sync.history import change_line, labels
    from flask_pco.sync.preview import compare_with_run, plan_changes, plan_names
    from flask_pco.web.undo import created_in_pco

    state = current_pco()
    state.db.session.expire_all()  # the runs are written by another thread or process
    preview = _preview_run(run_id)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    plan = None
    if preview.status not in _ACTIVE:
        plan = plan_changes(state, run_id, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    real = _real_run(request.args.get("run", type=int))
    outcome, run_names = None, {}
    if real is not None and real.status not in _ACTIVE:
        outcome = compare_with_run(state, run_id, real.id)
        run_names = labels(state, outcome.unplanned)
    created = created_in_pco(preview)
    return render_template(
        "pco/preview.html",
        preview=preview,
        created=created,
        created_names=labels(state, created),
        plan=plan,
        names=plan_names(plan.entries) if plan else {},
        page=page,
        page_size=PAGE_SIZE,
        real=real,
        outcome=outcome,
        run_names=run_names,
        plan_names=plan_names,
        shown=DIFFERENCES_SHOWN,
        change_line=change_line,
        waiting=preview.status in _ACTIVE or (real is not None and real.status in _ACTIVE),
        active_tab="sync",
    )


def _preview_run(run_id: int) -> Any:
    run = current_pco().db.session.get(current_pco().models.SyncRun, run_id)
    if run is None or not run.dry_run or run.parent_id is not None:
        abort(404)
    return run


def _real_run(run_id: int | None) -> Any:
    if run_id is None:
        return None
    run = current_pco().db.session.get(current_pco().models.SyncRun, run_id)
    if run is None or run.dry_run:
        abort(404)
    return run
