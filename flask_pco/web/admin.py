"""The admin page ``/admin/pco-sync``: connection, sync buttons, live progress, history, settings.

Every route is behind the host's ``@pco.admin_access`` check and every POST behind a Flask-WTF
CSRF token, whether or not the host enabled ``CSRFProtect``. Pages are fully server-rendered, and
forms are ordinary POST forms that redirect back, so reading and acting work without JavaScript;
with htmx the same routes answer with the partial (``templates/pco/_*.html``) to swap in.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import generate_csrf, validate_csrf
from sqlalchemy.exc import DBAPIError
from wtforms import ValidationError as CsrfInvalid

from flask_pco.exceptions import ConfigError, PcoError
from flask_pco.redaction import first_line, redact_url
from flask_pco.state import current_pco

__all__ = ["admin_blueprint", "require_admin"]

admin_blueprint = Blueprint(
    "pco_admin",
    __name__,
    url_prefix="/admin/pco-sync",
    # The package's templates/ and static/ sit beside web/, where hosts have overridden them.
    template_folder="../templates",
    static_folder="../static/pco",
    static_url_path="/static",
)


def require_admin() -> Any:
    """Deny everyone unless the host registered a check with ``@pco.admin_access`` that allows."""
    check = current_pco().admin_access
    verdict = check() if check is not None else False
    if verdict is True:
        return None
    if verdict is False or verdict is None:
        abort(403)
    if request.headers.get("HX-Request") == "true":
        # An htmx request (a poll after the session expired, say) would follow the host's login
        # redirect and swap the whole login page into a card: send the browser there instead.
        response = make_response(verdict)
        location = response.headers.get("Location") if 300 <= response.status_code < 400 else None
        answer = make_response("", 204)
        answer.headers["HX-Redirect" if location else "HX-Refresh"] = location or "true"
        return answer
    return verdict


@admin_blueprint.before_request
def guard() -> Any:
    denied = require_admin()
    if denied is not None:
        return denied
    if request.method == "POST":
        token = request.headers.get("X-CSRFToken") or request.form.get("csrf_token")
        try:
            validate_csrf(token)
        except CsrfInvalid as error:
            abort(400, description=f"CSRF check failed: {error}")
    return None


@admin_blueprint.after_request
def refuse_framing(response: Response) -> Response:
    """No other site may frame the admin page (a hidden Full Push under a decoy click)."""
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    return response


@admin_blueprint.errorhandler(DBAPIError)
def database_failed(error: DBAPIError) -> Any:
    """Tables not migrated yet, or a database that is down: one line, not a stack of them."""
    from flask_pco.database import request_failed_on_database

    message = request_failed_on_database(error)
    return f"flask-pco: {message}\n", 500, {"Content-Type": "text/plain; charset=utf-8"}


@admin_blueprint.context_processor
def template_helpers() -> dict[str, Any]:
    from flask_pco.mapping.readonly import VIEWS  # its dataclasses: when a page is drawn

    roles = current_pco().roles
    return {
        "pco_csrf_token": generate_csrf,
        "pco_views": VIEWS,
        "pco_redact_url": redact_url,
        # Conflicts name the site's own model and column (``Member.surname``), not flask-pco's
        # logical field (``person last_name``).
        "pco_column": roles.column,
        "pco_model_name": lambda role: getattr(roles.classes.get(role), "__name__", role),
    }


@admin_blueprint.app_template_filter("pco_when")
def format_when(value: datetime | None) -> str:
    """A timestamp in the church's time zone; naive values are UTC, as the sync log stores them."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    local = aware.astimezone(ZoneInfo(current_pco().time_zone()))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


@admin_blueprint.app_template_filter("pco_value")
def format_value(value: Any) -> str:
    """A field value for a table cell: empty shows as a dash, booleans as Yes/No."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return format_when(value)
    return str(value)


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def respond(
    message: str, *partials: str, level: str = "info", focus: str = "", **context: Any
) -> Any:
    """Answer an action: the partials plus a notice for htmx, else flash and go back.

    ``focus`` names the element keyboard focus moves to once htmx has swapped the answer in
    (admin.js), so it does not fall back to the top of the page: the progress card after a
    start, the section a resolved item was in.
    """
    if not is_htmx():
        flash(message, f"pco-{level}")
        return redirect(url_for("pco_admin.index"))
    from flask_pco.web.admin_data import dashboard, reference_data

    state = current_pco()
    data = {**dashboard(state), **context}
    if "_schedule" in partials:
        data.update(reference_data(state))
    html = "".join(render_template(f"pco/{name}.html", oob=True, **data) for name in partials)
    notice = render_template("pco/_notice.html", message=message, level=level, oob=True)
    answer = make_response(html + notice)
    if focus:
        answer.headers["HX-Trigger-After-Settle"] = json.dumps({"pco-focus": f"#{focus}"})
    return answer


@admin_blueprint.get("/")
def index() -> str:
    from flask_pco.web.admin_data import dashboard, reference_data

    state = current_pco()
    data = dashboard(state, campus=request.args.get("campus"))
    return render_template("pco/admin.html", **data, **reference_data(state), active_tab="sync")


@admin_blueprint.get("/progress")
def progress() -> Any:
    """The progress card, polled every 3 s while a run is active.

    While the run is active the poll reads only that run (``live_progress``). The answer that
    finds it ended is the last one: its card no longer polls, and it carries the sections the
    run changed (buttons, history, held matches and conflicts) as out-of-band swaps, so they
    refresh once. Every answer carries the Redis banner, shown while Redis does not answer.
    Without JavaScript nothing polls; the page itself is always complete.
    """
    from flask_pco.jobs.outage import redis_problem
    from flask_pco.web.admin_data import dashboard, live_progress

    state = current_pco()
    active = live_progress(state)
    problem = redis_problem(state)
    banner = render_template("pco/_redis.html", oob=True, redis_problem=problem)
    if request.args.get("idle"):
        # The idle card looks every 15 s for a run started elsewhere (the CLI, the nightly
        # job, another admin) and for Redis going down or coming back: nothing new is an
        # empty answer, which htmx leaves in place.
        if active is None and bool(problem) == bool(request.args.get("redis_down")):
            return "", 204
        data = dashboard(state)
        return (
            render_template("pco/_progress.html", **data)
            + render_template("pco/_actions.html", oob=True, **data)
            + render_template("pco/_history.html", oob=True, **data)
            + banner
        )
    if active is not None:
        badge = render_template("pco/_run_status.html", run=active, badge_oob=True)
        return render_template("pco/_progress.html", active=active) + badge + banner
    data = dashboard(state)
    html = render_template("pco/_progress.html", **data) + banner
    if is_htmx() and data["active"] is None:
        for section in ("_health", "_actions", "_history", "_issues"):
            html += render_template(f"pco/{section}.html", oob=True, **data)
        if data["runs"]:
            last = data["runs"][0]
            level = "error" if last.status == "failed" else "success"
            message = f"Run {last.id} ({last.direction} {last.sync_type}) {last.status}."
            html += render_template("pco/_notice.html", message=message, level=level, oob=True)
    return html


@admin_blueprint.post("/connection/test")
def test_connection_route() -> Any:
    from flask_pco.client import test_connection

    state = current_pco()
    try:
        info, error = test_connection(state.client()), None
        state.remember_time_zone(info.time_zone)
    except PcoError as failure:
        info, error = None, first_line(failure)
    if not is_htmx():
        if error:
            flash(f"Connection failed: {error}", "pco-error")
        else:
            flash(f"Connected to {info.organization_name}.", "pco-success")  # type: ignore[union-attr]
        return redirect(url_for("pco_admin.index"))
    return render_template("pco/_connection.html", config=state.config, info=info, error=error)


@admin_blueprint.post("/runs")
def start_run() -> Any:
    from flask_pco.jobs.queue import start_sync
    from flask_pco.web.admin_data import sync_request

    state = current_pco()
    try:
        action = sync_request(request.form)
        run = start_sync(
            action.direction,
            action.sync_type,
            incremental=action.incremental,
            options=dict(action.options),
            trigger="admin",
            mode="auto" if state.redis() is not None else "thread",
        )
    except PcoError as error:  # SyncInProgressError, unknown sync type, bad list id ...
        return respond(str(error), "_actions", "_progress", level="error")
    return respond(
        f"Started {action.label} (run {run.id}).",
        "_actions",
        "_progress",
        "_history",
        focus="pco-progress-title",
    )


@admin_blueprint.post("/runs/<int:run_id>/cancel")
def cancel_run_route(run_id: int) -> Any:
    from flask_pco.jobs.queue import cancel_run

    if cancel_run(run_id):
        return respond(
            f"Cancel requested for run {run_id}; it stops after the current batch.", "_progress"
        )
    return respond(f"Run {run_id} is not running.", level="error")


@admin_blueprint.post("/runs/<int:run_id>/decide")
def decide_run_route(run_id: int) -> Any:
    """Approve or refuse the removals a run holds for an admin."""
    from flask_pco.sync.approvals import approve_run, refuse_run

    state = current_pco()
    decision = request.form.get("decision", "")
    try:
        if decision not in ("approve", "refuse"):
            raise ConfigError(f"choose 'approve' or 'refuse', got {decision!r}")
        message = approve_run(state, run_id) if decision == "approve" else refuse_run(state, run_id)
    except ConfigError as error:
        return respond(str(error), "_issues", "_history", level="error")
    return respond(message, "_issues", "_history", level="success", focus="pco-issues-title")


@admin_blueprint.post("/issues/<int:issue_id>/resolve")
def resolve_issue_route(issue_id: int) -> Any:
    from flask_pco.web.admin_data import resolve_issue

    resolve_issue(current_pco(), issue_id)
    return respond(
        f"Issue {issue_id} marked resolved.", "_issues", "_health", focus="pco-issues-title"
    )


@admin_blueprint.post("/issues/<int:issue_id>/link")
def link_held_route(issue_id: int) -> Any:
    """Settle a held person match: link it to the candidate chosen, or create a new person."""
    from flask_pco.sync import holds

    state = current_pco()
    try:
        if request.form.get("create_new"):
            message = holds.create_new(state, issue_id)
        else:
            message = holds.link_held(state, issue_id, request.form.get("candidate", ""))
    except ConfigError as error:
        return respond(str(error), "_issues", level="error")
    return respond(message, "_issues", focus="pco-issues-title")


@admin_blueprint.post("/issues/<int:issue_id>/merge")
def merge_held_route(issue_id: int) -> Any:
    """Carry out a merge held for an admin, as ``flask pco merge`` does."""
    from flask_pco.sync.merges import merge_held

    try:
        message = merge_held(current_pco(), issue_id, trigger="admin")
    except PcoError as error:  # not a held merge any more, or a run holds the slot
        return respond(str(error), "_issues", level="error")
    return respond(message, "_issues", focus="pco-issues-title")


@admin_blueprint.post("/conflicts/<int:conflict_id>/resolve")
def resolve_conflict_route(conflict_id: int) -> Any:
    from flask_pco.web.admin_data import resolve_conflict

    choice = request.form.get("keep", "")
    try:
        message = resolve_conflict(current_pco(), conflict_id, choice)
    except ConfigError as error:
        return respond(str(error), "_issues", level="error")
    return respond(message, "_issues", focus="pco-issues-title")


@admin_blueprint.post("/schedule")
def schedule_route() -> Any:
    from flask_pco.jobs.queue import set_schedule

    enabled = request.form.get("enabled") == "on"
    hour_text = request.form.get("hour", "")
    if not hour_text.isdigit() or not 0 <= int(hour_text) <= 23:
        return respond("The hour must be a whole number from 0 to 23.", "_schedule", level="error")
    set_schedule(enabled, int(hour_text))
    status = f"on, at {int(hour_text):02d}:00" if enabled else "off"
    if enabled and current_pco().redis() is None:
        return respond(
            f"Nightly sync is {status}, but nothing will run it yet: it needs Redis "
            "(PCO_REDIS_URL) and `flask pco scheduler` running next to `flask pco worker`.",
            "_schedule",
            level="warning",
        )
    return respond(f"Nightly sync is {status}.", "_schedule")


@admin_blueprint.get("/pco/<name>")
def readonly_view(name: str) -> str:
    """A read-only PCO listing as a table: one PCO request per page, briefly cached."""
    from flask_pco.web.readonly import fetch_page, page_number, view_named

    view = view_named(name)
    page_no = page_number(request.args.get("page"))
    result, error = None, None
    try:
        result = fetch_page(current_pco(), view, page_no)
    except PcoError as failure:
        error = str(failure).splitlines()[0]
    template = "pco/_readonly_table.html" if is_htmx() else "pco/readonly.html"
    return render_template(
        template, view=view, result=result, error=error, active_tab=name, page=page_no
    )
