"""What the admin page shows and the small writes it makes (resolving issues and conflicts).

Kept apart from the routes so each piece is a plain function of the extension state: the page,
its partials and the tests all read the same ``dashboard``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import abort
from sqlalchemy import func, select

from flask_pco.client.ids import is_pco_id
from flask_pco.exceptions import ConfigError, OrganizationUnknownError
from flask_pco.models import Direction, utcnow
from flask_pco.redaction import first_line
from flask_pco.sync.approvals import waiting_runs
from flask_pco.sync.engine import offered
from flask_pco.sync.journal import record_admin_change
from flask_pco.sync.merges import HELD_MERGE
from flask_pco.sync.runs import active_run
from flask_pco.web.campus_filter import campus_filter, held_in_campus, runs_in_campus
from flask_pco.web.run_views import RunView, history, last_failure, run_view

if TYPE_CHECKING:
    from flask_pco.state import PcoState

__all__ = [
    "PULL_ACTIONS",
    "PUSH_ACTIONS",
    "RunView",
    "SyncAction",
    "dashboard",
    "held_matches",
    "held_merges",
    "live_progress",
    "reference_data",
    "resolve_conflict",
    "resolve_issue",
    "sync_request",
]

HISTORY_LENGTH = 20
OPEN_ITEMS_SHOWN = 50
#: Records skipped or failed (with PCO's or our reason) that the page lists, newest first.
RECENT_ISSUES_SHOWN = 20
RECENT_ISSUES_COUNTED_FOR = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class SyncAction:
    """One sync the page can start: a button, or the selective form."""

    direction: Direction
    sync_type: str
    label: str
    incremental: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)


PULL_ACTIONS = (
    SyncAction("pull", "people", "People"),
    SyncAction("pull", "families", "Families"),
    SyncAction("pull", "groups", "Groups"),
    SyncAction("pull", "full", "Full Sync"),
)
PUSH_ACTIONS = (
    SyncAction("push", "people", "People"),
    SyncAction("push", "families", "Families"),
    SyncAction("push", "group-memberships", "Group Memberships"),
    SyncAction("push", "full", "Full Push"),
)
_BUTTONS = {(a.direction, a.sync_type): a for a in (*PULL_ACTIONS, *PUSH_ACTIONS)}
#: "Sync this list/group now": which pull step takes which selective option.
_SELECTIVE = {"list": ("people", "list_ids"), "group": ("groups", "group_id")}


def sync_request(form: Mapping[str, str]) -> SyncAction:
    """The sync a submitted form asks for; a ``ConfigError`` says what is wrong with it."""
    if form.get("action") == "pull:recent":
        return SyncAction("pull", "full", "Resync recent changes", incremental=True)
    scope = form.get("scope", "")
    if scope in _SELECTIVE:
        pco_id = form.get("pco_id", "").strip()
        if not is_pco_id(pco_id):
            raise ConfigError(
                f"enter the PCO {scope} id: digits, not starting with 0, got {pco_id!r}"
            )
        sync_type, option = _SELECTIVE[scope]
        value: Any = [pco_id] if option == "list_ids" else pco_id
        return SyncAction("pull", sync_type, f"{scope} {pco_id}", options={option: value})
    direction, _, sync_type = form.get("action", "").partition(":")
    key = (direction, sync_type)
    if key not in _BUTTONS:
        raise ConfigError(f"unknown sync: {form.get('action', '')!r}")
    action = _BUTTONS[key]
    return SyncAction(action.direction, action.sync_type, f"{action.direction} {action.label}")


def live_progress(state: PcoState) -> RunView | None:
    """The active run with its running step's counts, for the 3 s poll: the slot's index
    lookup and, during a run, its running steps; nothing about history, issues or conflicts.

    A run that looks abandoned (stale heartbeat, lost job) is released as the full page would,
    so the poll never spins on a run nothing will finish.
    """
    from flask_pco.jobs.run_status import looks_lost, release_lost_runs

    state.db.session.expire_all()  # another thread or process is writing the run rows
    if organization_problem(state):
        return None
    run = active_run(state)
    if run is not None and looks_lost(state, run):
        release_lost_runs(state)
        run = active_run(state)
    return run_view(state, run) if run is not None else None


def dashboard(state: PcoState, campus: str | None = None) -> dict[str, Any]:
    """Everything the page and its partials render that lives in the database; ``campus``
    (the page's ``?campus=``) narrows the runs and held matches to one campus's people."""
    SyncIssue, Conflict = state.models.SyncIssue, state.models.Conflict
    session = state.db.session
    from flask_pco.jobs.health import health
    from flask_pco.jobs.outage import redis_problem
    from flask_pco.jobs.queue import current_run

    session.expire_all()  # another thread or process is writing the run rows
    unknown = organization_problem(state)
    # No run starts under an organisation not known yet; the page says why instead of failing.
    active = None if unknown else current_run()  # also fails runs whose worker is gone
    open_issues = select(SyncIssue).where(
        SyncIssue.resolved_at.is_(None), SyncIssue.kind == "ambiguous"
    )
    open_conflicts = select(Conflict).where(Conflict.resolved_at.is_(None))
    data = {
        "config": state.config,
        "active": run_view(state, active) if active is not None else None,
        "runs": history(state, HISTORY_LENGTH),
        "issues": session.scalars(
            open_issues.order_by(SyncIssue.id.desc()).limit(OPEN_ITEMS_SHOWN)
        ).all(),
        "issue_count": session.scalar(select(func.count()).select_from(open_issues.subquery())),
        "conflicts": session.scalars(
            open_conflicts.order_by(Conflict.id.desc()).limit(OPEN_ITEMS_SHOWN)
        ).all(),
        "conflict_count": session.scalar(
            select(func.count()).select_from(open_conflicts.subquery())
        ),
        "merges": held_merges(state),
        "recent_issues": recent_issues(state),
        "recent_issue_count": recent_issue_count(state),
        "waiting": waiting_runs(state),
        "redis_problem": redis_problem(state),
        "organization_problem": unknown,
        "health": health(state),
        "last_failure": last_failure(state),
        **site_actions(state),
    }
    chosen = campus_filter(state, campus)
    data["campus_filter"] = chosen
    if chosen.active:
        data["runs"] = runs_in_campus(state, data["runs"], chosen)
        held = held_in_campus(session.scalars(open_issues.order_by(SyncIssue.id.desc())), chosen)
        data["issues"], data["issue_count"] = held[:OPEN_ITEMS_SHOWN], len(held)
    data["person_names"] = people_names(state, _local_people(data))
    return data


def _local_people(data: Mapping[str, Any]) -> set[int]:
    """The local people the listed items name by id, so the page can name them."""
    ids: set[int] = set()
    for issue in [*data["issues"], *data["merges"], *data["recent_issues"]]:
        if issue.resource_type == "Person" and issue.local_id is not None:
            ids.add(issue.local_id)
        if issue.local_id is None or issue.kind == HELD_MERGE:  # candidates are local rows
            ids.update(c for c in issue.candidates or () if isinstance(c, int))
    for conflict in data["conflicts"]:
        if conflict.role == "person":
            ids.update(i for i in (conflict.local_id, conflict.merged_from) if i is not None)
    return ids


def people_names(state: PcoState, ids: set[int]) -> dict[int, str]:
    """Local people's names by id, in one query: an admin decides on "Ada Lovelace", not on
    "person #2002"."""
    if not ids or not state.roles.has("person"):
        return {}
    roles = state.roles
    Person = roles.model("person")
    first, last = (getattr(Person, roles.column("person", f)) for f in ("first_name", "last_name"))
    rows = state.db.session.execute(select(Person.id, first, last).where(Person.id.in_(ids)))
    names = {row[0]: f"{row[1] or ''} {row[2] or ''}".strip() for row in rows}
    return {id_: name for id_, name in names.items() if name}


def organization_problem(state: PcoState) -> str | None:
    """Why PCO did not say which organisation the OAuth token belongs to, or None when it did
    (or the key needs no request)."""
    try:
        state.organization_key()
    except OrganizationUnknownError as error:
        return first_line(error)
    return None


def site_actions(state: PcoState) -> dict[str, Any]:
    """The buttons and selective scopes this site's registered models allow: a site without
    groups gets no Groups button, and its Full Sync covers what it has."""
    roles = state.roles
    return {
        "pull_actions": [a for a in PULL_ACTIONS if offered(roles, a.direction, a.sync_type)],
        "push_actions": [a for a in PUSH_ACTIONS if offered(roles, a.direction, a.sync_type)],
        "selective_scopes": [
            s for s, (step, _) in _SELECTIVE.items() if offered(roles, "pull", step)
        ],
    }


def held_matches(state: PcoState, limit: int = OPEN_ITEMS_SHOWN) -> list[Any]:
    """Open held (ambiguous) matches, newest first: records no sync links until an admin
    resolves them."""
    SyncIssue = state.models.SyncIssue
    return list(
        state.db.session.scalars(
            select(SyncIssue)
            .where(SyncIssue.resolved_at.is_(None), SyncIssue.kind == "ambiguous")
            .order_by(SyncIssue.id.desc())
            .limit(limit)
        )
    )


def held_merges(state: PcoState, limit: int = OPEN_ITEMS_SHOWN) -> list[Any]:
    """Merges of two local people waiting for an admin (``PCO_AUTO_MERGE`` off), newest first."""
    SyncIssue = state.models.SyncIssue
    return list(
        state.db.session.scalars(
            select(SyncIssue)
            .where(SyncIssue.resolved_at.is_(None), SyncIssue.kind == HELD_MERGE)
            .order_by(SyncIssue.id.desc())
            .limit(limit)
        )
    )


def recent_issue_count(state: PcoState) -> int:
    """How many records syncs and webhooks left out this past week: the 20 listed are the
    latest, and an admin needs to know whether they are all there is."""
    SyncIssue = state.models.SyncIssue
    return int(
        state.db.session.scalar(
            select(func.count()).where(
                SyncIssue.kind.not_in(("ambiguous", HELD_MERGE)),
                SyncIssue.created_at >= utcnow() - RECENT_ISSUES_COUNTED_FOR,
            )
        )
        or 0
    )


def recent_issues(state: PcoState, limit: int = RECENT_ISSUES_SHOWN) -> list[Any]:
    """The latest records a sync or webhook skipped, held back or could not write, with why:
    a count on the history says how many, these say which and what to do."""
    SyncIssue = state.models.SyncIssue
    return list(
        state.db.session.scalars(
            select(SyncIssue)
            # Held ones are listed, and settled, on their own.
            .where(SyncIssue.kind.not_in(("ambiguous", HELD_MERGE)))
            .order_by(SyncIssue.id.desc())
            .limit(limit)
        )
    )


def reference_data(state: PcoState) -> dict[str, Any]:
    """The webhook set-up, the nightly schedule and the synced fields: settings that change
    rarely."""
    from flask_pco.jobs.queue import get_schedule
    from flask_pco.sync.webhooks.subscriptions import webhook_overview
    from flask_pco.web.field_rules_view import synced_fields

    return {
        "webhook": webhook_overview(state),
        "schedule": get_schedule(),
        "field_rules": synced_fields(state),
    }


def resolve_issue(state: PcoState, issue_id: int) -> None:
    """Mark a held record as dealt with; the next sync treats it like any other record."""
    issue = state.db.session.get(state.models.SyncIssue, issue_id) or abort(404)
    if issue.resolved_at is None:
        issue.resolved_at = utcnow()
        state.db.session.commit()


def resolve_conflict(state: PcoState, conflict_id: int, keep: str) -> str:
    """Settle a conflict. ``pco`` keeps PCO's value, already on the row. ``local`` writes the
    local value back and leaves the row's snapshot alone, so the next push sees a local change
    against an unchanged PCO value and sends it."""
    conflict = state.db.session.get(state.models.Conflict, conflict_id) or abort(404)
    if keep not in ("pco", "local"):
        raise ConfigError(f"choose which value to keep: 'pco' or 'local', got {keep!r}")
    if conflict.resolved_at is not None:
        return f"Conflict {conflict_id} was already resolved."
    if keep == "local":
        row = state.db.session.get(state.roles.model(conflict.role), conflict.local_id)
        if row is None:
            raise ConfigError(f"the local {conflict.role} {conflict.local_id} no longer exists")
        column = state.roles.column(conflict.role, conflict.field)
        change = {conflict.field: (getattr(row, column, None), conflict.local_value)}
        record_admin_change(state, conflict.role, row, change)
        setattr(row, column, _from_snapshot(row, column, conflict.local_value))
    conflict.resolved_at = utcnow()
    conflict.resolution = keep
    state.db.session.commit()
    column = state.roles.column(conflict.role, conflict.field)
    if conflict.merged_from is not None:
        source = conflict.merged_from if keep == "local" else conflict.local_id
        return f"Kept the {column} of local person {source}."
    if keep == "local":
        return f"Kept the local {column}; the next push sends it to PCO."
    return f"Kept PCO's {column}."


def _from_snapshot(row: Any, column: str, value: Any) -> Any:
    """A snapshot (JSON) value back in the column's Python type: dates travel as ISO strings."""
    if not isinstance(value, str):
        return value
    python_type = _column_type(row, column)
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    return value


def _column_type(row: Any, column: str) -> type | None:
    try:
        python_type: type = type(row).__table__.columns[column].type.python_type
        return python_type
    except (KeyError, NotImplementedError, AttributeError):
        return None
